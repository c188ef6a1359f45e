"""Planned text edits: one parameter, a new layer, comments, whole items; the rest of the YAML
(comments, key order, other lines) stays as written."""

from __future__ import annotations

import pytest

from ganbuilder.design import (
    item_end,
    layer_item,
    layer_line,
    new_layer_params,
    next_line_indent,
    plan_delete,
    plan_edit,
    plan_insert,
    plan_move,
    plan_toggle_comment,
    scalar_span,
)
from ganbuilder.spec import load_spec
from ganbuilder.spec.paths import Locations
from ganbuilder.spec.yaml_loader import load_yaml

from .conftest import ROOT

DCGAN = ROOT / "specs" / "dcgan.yaml"


def apply(lines: list[str], edits) -> list[str]:
    """Column edits applied right to left, as the editor does."""
    out = list(lines)
    for line, start, end, text in reversed(edits):
        out[line - 1] = out[line - 1][:start] + text + out[line - 1][end:]
    return out


def dcgan() -> tuple[list[str], object]:
    return DCGAN.read_text(encoding="utf-8").split("\n"), load_spec(DCGAN)


def line_of(lines: list[str], needle: str) -> int:
    return next(i for i, text in enumerate(lines, 1) if needle in text)


@pytest.mark.parametrize(("line", "start", "span"), [
    ("a: {kernel: 4, stride: 2}", 12, (12, 13)),
    ("slope: 0.2   # comment", 7, (7, 10)),
    ('x: "${ch}"', 3, None),
    ("x: 'abc', y", 3, (3, 8)),
    ("x: {a: 1}", 3, None),
])
def test_scalar_span(line, start, span):
    assert scalar_span(line, start) == span


def test_plan_edit_adds_a_key_to_a_flow_mapping():
    text = "layers:\n  - conv: {out: 8, kernel: 3}  # keep me\n"
    tree = load_yaml(text, "f.yaml")
    edit = plan_edit(text.split("\n"), Locations(tree), "f.yaml", ("layers", 0), "conv",
                     "stride", None, 2)
    changed = apply(text.split("\n"), [edit])
    assert changed[1] == "  - conv: {out: 8, kernel: 3, stride: 2}  # keep me"


def test_plan_edit_on_the_dcgan_spec_replaces_values_and_refuses_expressions():
    lines, spec = dcgan()
    conv = ("networks", "D", "layers", 0)
    edit = plan_edit(lines, spec.locations, str(DCGAN), conv, "conv", "kernel", "out", 3)
    changed = apply(lines, [edit])
    assert '- conv: {out: "${ndf}", kernel: 3, stride: 2, padding: 1, bias: false}' in \
        changed[edit[0] - 1]
    assert [t for i, t in enumerate(changed) if i != edit[0] - 1] == \
        [t for i, t in enumerate(lines) if i != edit[0] - 1]
    assert plan_edit(lines, spec.locations, str(DCGAN), conv, "conv", "out", "out", 8) is None
    # a shorthand value (`- leaky_relu: 0.2`) is the primary parameter; a bare layer grows a
    # mapping; a file the spec is not read from is never edited
    slope = plan_edit(lines, spec.locations, str(DCGAN), ("networks", "D", "layers", 1),
                      "leaky_relu", "slope", "slope", 0.3)
    assert apply(lines, [slope])[slope[0] - 1].strip() == "- leaky_relu: 0.3"
    affine = plan_edit(lines, spec.locations, str(DCGAN), ("networks", "G", "layers", 1),
                       "batch_norm", "affine", None, False)
    assert apply(lines, [affine])[affine[0] - 1].strip() == "- batch_norm: {affine: false}"
    assert plan_edit(lines, spec.locations, "other.yaml", conv, "conv", "kernel", "out", 3) \
        is None


def test_plan_insert_writes_a_valid_layer_after_the_item_at_its_indentation():
    lines, spec = dcgan()
    tanh = line_of(lines, "- tanh")
    new = lines[tanh - 1].replace("tanh", "conv: {out: 1, kernel: 1}")
    assert plan_insert(lines, spec.locations, str(DCGAN), ("networks", "G", "layers", 10),
                       "conv") == (tanh, new)
    assert new_layer_params("relu") == {}
    assert layer_line("relu", {}) == "relu"
    assert layer_line("conv", {"out": 8, "bias": False}) == "conv: {out: 8, bias: false}"
    assert plan_insert(lines, spec.locations, "other.yaml", ("networks", "G", "layers", 10),
                       "relu") is None


def test_toggle_comment_comments_at_the_common_indent_and_back():
    lines = ["a:", "  b: 1", "", "    c: 2", "d: 3"]
    commented = apply(lines, plan_toggle_comment(lines, 2, 4))
    assert commented == ["a:", "  # b: 1", "", "  #   c: 2", "d: 3"]
    assert apply(commented, plan_toggle_comment(commented, 2, 4)) == lines
    assert apply(["#x", "# y"], plan_toggle_comment(["#x", "# y"], 1, 2)) == ["x", "y"]
    assert plan_toggle_comment(["a", ""], 2, 2) == []


@pytest.mark.parametrize(("line", "indent"), [
    ("a: 1", ""), ("    b:", "    "), ("  - conv: 8", "    "), ("- x", "  "), ("-x", "")])
def test_a_new_line_lines_up_with_the_item_above(line, indent):
    assert next_line_indent(line) == indent


def test_plan_move_keeps_comments_between_items_in_place():
    lines = ["layers:", "  - a: {x: 1,", "       y: 2}", "  # about b", "  - b", "other: 1"]
    assert item_end(lines, 2) == 3
    first, last, new, cursor = plan_move(lines, 2, 3, 1)
    assert (first, last, cursor) == (2, 5, 4)
    assert new == ["  - b", "  # about b", "  - a: {x: 1,", "       y: 2}"]
    assert plan_move(lines, 5, 5, 1) is None
    assert plan_move(lines, 2, 3, -1) is None
    assert plan_move(lines, 5, 5, -1) == (2, 5, ["  - b", "  # about b", "  - a: {x: 1,",
                                                 "       y: 2}"], 2)


def test_delete_removes_the_item_lines_and_keeps_the_cursor_in_range():
    lines = ["layers:", "  - a", "  - b"]
    assert plan_delete(lines, 3, 3) == (3, 3, [], 2)
    assert plan_delete(lines, 2, 2) == (2, 2, [], 2)


def test_only_own_items_of_a_layers_list_can_be_moved_or_deleted():
    path = ROOT / "specs" / "pix2pix.yaml"
    spec = load_spec(path)
    lines = path.read_text(encoding="utf-8").split("\n")
    expanded = layer_item(lines, spec.locations, str(path), ("networks", "G", "layers", 2))
    assert isinstance(expanded, str) and "block" in expanded
    first, last = layer_item(lines, spec.locations, str(path), ("networks", "G", "layers", 11))
    assert lines[first - 1].lstrip().startswith("- ") and last >= first
    assert "shared" in layer_item(lines, spec.locations, str(path),
                                  ("networks", "G", "layers", 11), uses=2)
    assert "top-level" in layer_item(lines, spec.locations, str(path), ("networks", "G"))


def test_one_edit_type_serves_columns_lines_inserts_and_follows_the_text():
    from ganbuilder.design.text_edits import TextEdit

    base = ["a: 1", "b: 2", "c: 3"]
    column = TextEdit.columns(base, [(2, 3, 4, "20")])
    whole = TextEdit.of_lines(base, plan_delete(base, 3, 3))
    insert = TextEdit.insert_after(base, 1, "x: 0")
    text = "\n".join(base)
    assert column.apply(text) == "a: 1\nb: 20\nc: 3"
    assert whole.apply(text) == "a: 1\nb: 2"
    assert insert.apply(text) == "a: 1\nx: 0\nb: 2\nc: 3"
    # Two lines typed above since it was planned: the edit follows its line there.
    now = "new: 1\nnew: 2\n" + text
    assert column.rebased(now).apply(now) == "new: 1\nnew: 2\na: 1\nb: 20\nc: 3"
    assert insert.rebased(now).cursor[0] == 4
    # Its own line changed meanwhile: refused, never applied to the wrong text.
    assert column.rebased("a: 1\nb: 7\nc: 3") is None
    assert column.rebased(text) == TextEdit(column.changes, column.cursor, "", text)
