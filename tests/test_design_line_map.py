"""Lines of the last valid text followed into the edited text."""

from __future__ import annotations

from ganbuilder.design.line_map import LineMap


def test_head_keeps_numbers_tail_shifts_middle_is_lost():
    old = ["a", "b", "c", "d", "e"]
    new = ["a", "b", "X", "Y", "d", "e"]  # c replaced by two lines
    m = LineMap(old, new)
    assert [m.to_new(n) for n in range(1, 6)] == [1, 2, None, 5, 6]
    assert [m.to_old(n) for n in range(1, 7)] == [1, 2, None, None, 4, 5]
    assert m.intact(1, 2) and m.intact(4, 5) and not m.intact(2, 3)
    assert not m.identical


def test_identical_and_appended_texts():
    same = LineMap.of_texts("a\nb", "a\nb")
    assert same.identical and same.to_new(2) == 2 and same.intact(1, 2)
    grown = LineMap(["a", "b"], ["a", "b", "c"])
    assert grown.to_new(2) == 2 and grown.to_old(3) is None and grown.intact(1, 2)
    shrunk = LineMap(["x", "a", "b"], ["a", "b"])
    assert shrunk.to_new(1) is None and shrunk.to_new(3) == 2 and shrunk.intact(2, 3)
