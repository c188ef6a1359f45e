"""CycleGAN's data flow (issue 27): each loss term named apart, no label clipped by its box,
and no edge drawn through a node it does not join."""

from __future__ import annotations

from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsSimpleTextItem

from tests.gui.conftest import SPECS, settled


def test_cyclegan_flow_reads(qtbot, window):
    window.open_file(SPECS / "cyclegan.yaml", ask=False)
    settled(qtbot, window)
    view = window.graph
    terms = [tuple(item.node.lines) for item in view.items.values() if item.node.kind == "loss"]
    assert len(terms) == 8 and len(set(terms)) == 8
    assert ("adversarial D_B", "objective D · × 0.5") in terms
    for item in view.items.values():
        for text in item.childItems():
            if isinstance(text, QGraphicsSimpleTextItem):
                width = QFontMetrics(text.font()).horizontalAdvance(text.text())
                assert text.pos().x() >= 0 and text.pos().x() + width <= item.rect().width(), \
                    text.text()
    edges = [i for i in view.scene().items() if isinstance(i, QGraphicsPathItem)
             and i.parentItem() is None]
    boxes = {key: item.sceneBoundingRect().adjusted(3, 3, -3, -3)
             for key, item in view.items.items()}
    through = []
    for edge in edges:
        path = edge.path()
        ends = [key for key, box in boxes.items()
                if box.adjusted(-6, -6, 6, 6).contains(path.pointAtPercent(0))
                or box.adjusted(-6, -6, 6, 6).contains(path.pointAtPercent(1))]
        points = [path.pointAtPercent(t / 80) for t in range(81)]
        for key, box in boxes.items():
            if key not in ends and any(box.contains(p) for p in points):
                through.append((ends, key))
    assert not through
