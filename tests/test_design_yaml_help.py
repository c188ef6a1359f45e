"""Return indents as YAML needs, and a broken indentation is said in words on its own line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ganbuilder.design.yaml_help import explain_indentation, explain_problem, return_indent
from ganbuilder.errors import Location, Problem, UserError
from ganbuilder.spec import load_spec_text

SPECS = Path(__file__).resolve().parents[1] / "specs"
DCGAN = (SPECS / "dcgan.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize(("line", "indent"), [
    ("a: 1", ""),
    ("    b:", "      "),            # a key that opens a block: its children go deeper
    ("  - conv:", "      "),         # past `conv`, not just past `- `
    ("  - relu", "  - "),            # a list item of one value: the next item
    ("  - {conv: 8}", "  - "),
    ("  - relu  # why", "  - "),
    ("  - conv: 8", "    "),         # the item's next key lines up with `conv`
    ("layers:  # comment", "  "),
    ("x: 'a:b'", ""),
    ("   ", "   "),
])
def test_return_indents_as_yaml_needs(line, indent):
    assert return_indent(line) == indent


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(UserError) as caught:
        load_spec_text(text, "x.yaml", SPECS)
    return [explain_problem(p, text.split("\n"), "x.yaml") for p in caught.value.problems]


def line_of(text: str, needle: str) -> int:
    return text.split("\n").index(needle) + 1


def test_a_key_indented_off_its_siblings_is_explained_on_its_line():
    text = DCGAN.replace("  source: digits\n  image_size", "  source: digits\n   image_size")
    (problem,) = problems_of(text)
    assert problem.location.line == line_of(text, "   image_size: ${image_size}")
    assert "indented by 3 spaces" in problem.message
    assert "`source`" in problem.message and "indent it by 2" in problem.message
    assert "YAML said" in problem.message  # the parser's words are kept for the curious


def test_a_dedented_list_item_names_the_item_to_line_up_with():
    text = DCGAN.replace("      - batch_norm\n      - relu\n      - repeat",
                         "      - batch_norm\n     - relu\n      - repeat", 1)
    (problem,) = problems_of(text)
    assert problem.location.line == line_of(text, "     - relu")
    assert "indented by 5 spaces" in problem.message and "indent it by 6" in problem.message


def test_a_tab_is_named():
    text = DCGAN.replace("  nz: 100", "\tnz: 100")
    (problem,) = problems_of(text)
    assert "tab" in problem.message and "spaces only" in problem.message


def test_problems_that_are_not_indentation_are_left_alone():
    problem = Problem("", "invalid YAML: found undefined alias 'x'", Location("x.yaml", 2, 1))
    assert explain_problem(problem, ["a: 1", "b: *x"], "x.yaml") == problem
    other = Problem("data.root", "unknown key", Location("x.yaml", 1, 1))
    assert explain_problem(other, ["a: 1"], "x.yaml") == other
    assert explain_indentation(["a:", "  b: 1", "  c: 2"], 3) is None
    assert explain_indentation(["a:", "  b:", "    c: 2"], 3) is None
