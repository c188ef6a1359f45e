"""Cheaper updates: problem marks are cleared without rebuilding the architecture tree, and the
cursor -> layer lookup uses spans measured once per valid spec."""

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


def test_cursor_lookup_is_cached_per_spec(qtbot, window, dcgan):
    window.open_file(dcgan, ask=False)
    settled(qtbot, window)
    entries = window._item_lines()
    assert window._item_lines() is entries
    assert [start for start, _, _ in entries] == sorted(start for start, _, _ in entries)
    text = window.editor.toPlainText().split("\n")
    for start, end, path in entries:
        assert window.layer_at(start) == path
        if path[0] == "networks" and len(path) == 2:
            assert end > start
    line = next(i for i, t in enumerate(text, 1) if t.strip() == "- tanh")
    assert window.layer_at(line) == ("networks", "G", "layers", 10)
    assert window.layer_at(1) is None
