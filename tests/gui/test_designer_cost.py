"""Cheaper updates: problem marks are cleared without rebuilding the architecture tree, and the
cursor -> layer lookup uses one text index per valid spec."""

from __future__ import annotations

from ganbuilder.errors import Problem
from tests.gui.conftest import settled


def _snapshot(tree):
    out = []

    def walk(item, depth):
        out.append((depth, item.text(0), item.text(1), item.text(2),
                    item.foreground(0).color().name(), item.isExpanded()))
        for i in range(item.childCount()):
            walk(item.child(i), depth + 1)

    for i in range(tree.topLevelItemCount()):
        walk(tree.topLevelItem(i), 0)
    return out


def test_marks_are_cleared_in_place(qtbot, window, dcgan):
    window.open_file(dcgan, ask=False)
    settled(qtbot, window)
    panel = window.architecture
    before = _snapshot(panel.tree)
    item = panel._items[("networks", "D", "layers", 2)]
    panel.show_problems([Problem("networks.D.layers[2].conv.kernel", "bad kernel"),
                         Problem("networks.G.layers[99].foo.bar", "no such layer")])
    assert len(panel.marked_items()) == 2 and not panel.banner.isHidden()
    panel.show_problems([])
    assert panel.marked_items() == [] and panel.banner.isHidden()
    assert panel._items[("networks", "D", "layers", 2)] is item  # not rebuilt
    assert _snapshot(panel.tree) == before


def test_cursor_lookup_uses_one_index_per_spec(qtbot, window, dcgan):
    window.open_file(dcgan, ask=False)
    settled(qtbot, window)
    index = window.text_index
    assert window.text_index is index and index.spec is window.spec
    assert index.lines == window.editor.toPlainText().split("\n")
    line = index.lines.index("      - tanh") + 1
    assert window.layer_at(line) == ("networks", "G", "layers", 10)
    assert window.layer_at(1) is None
    window.editor.select_lines(1)
    window.editor.insertPlainText("# a new first line\n")
    settled(qtbot, window)
    assert window.text_index is not index
    assert window.layer_at(line + 1) == ("networks", "G", "layers", 10)
