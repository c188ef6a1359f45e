"""Highlighting spans of a spec line: each token kind, and comments over everything."""

from __future__ import annotations

from ganbuilder.design.syntax import KINDS, find_comment, highlight


def kinds(line: str) -> dict[str, list[str]]:
    """The text of each span by kind, the last painted kind winning per character."""
    painted = [""] * len(line)
    for start, length, kind in highlight(line):
        for i in range(start, start + length):
            painted[i] = kind
    out: dict[str, list[str]] = {}
    i = 0
    while i < len(line):
        j = i
        while j < len(line) and painted[j] == painted[i]:
            j += 1
        if painted[i]:
            out.setdefault(painted[i], []).append(line[i:j])
        i = j
    return out


def test_a_flow_mapping_line():
    spans = kinds('      - conv: {out: "${ndf}", kernel: 4, bias: false}  # first')
    assert spans["key"] == ["conv"]
    assert spans["flow_key"] == ["out", "kernel", "bias"]
    assert spans["parameter"] == ["${ndf}"] and spans["string"] == ['"', '"']  # over a string
    assert spans["number"] == ["4"] and spans["constant"] == ["false"]
    assert spans["comment"] == ["# first"]


def test_bare_items_anchors_and_quoted_hashes():
    assert kinds("  - relu") == {"item": ["relu"]}
    assert kinds("  block: &down {x: 1}")["anchor"] == ["&down"]
    assert kinds("  use: *down")["anchor"] == ["*down"]
    quoted = "  name: 'a # b'  # real"
    assert find_comment(quoted) == quoted.index("# real")
    assert kinds(quoted)["comment"] == ["# real"]
    assert find_comment("a#b") is None and find_comment("# all") == 0


def test_every_span_kind_is_known():
    line = 'k: {a: 1, b: true, c: "${x}", d: &n e}  # c'
    assert {kind for _, _, kind in highlight(line)} <= set(KINDS)
    assert highlight("") == []


def test_an_apostrophe_inside_a_word_opens_no_string():
    line = "  note: the paper's skip connections, the decoder's h0"
    assert "string" not in kinds(line)
    assert kinds("  a: 'quoted', b")["string"] == ["'quoted'"]


def test_a_block_scalars_text_is_prose_until_the_indent_falls_back():
    from ganbuilder.design.syntax import NO_BLOCK, highlight_in

    lines = ["description: >", "  the paper's 1,797 digits: 6,000 steps # not a comment", "",
             "  more prose, true", "params:", "  nz: 16", "  - text: |-  # literal",
             "      x: 1", "  n: 2"]
    state, painted = NO_BLOCK, []
    for line in lines:
        spans, state = highlight_in(line, state)
        painted.append({kind for _, _, kind in spans})
    assert painted[0] == {"key"} and painted[1] == painted[2] == painted[3] == set()
    assert painted[4] == {"key"} and painted[5] == {"key", "number"}
    assert painted[6] == {"key", "comment"} and painted[7] == set()  # deeper than `text`
    assert painted[8] == {"key", "number"} and state == NO_BLOCK
