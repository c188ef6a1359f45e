"""Problems mark the lines of the open file; a problem elsewhere says which file it is in."""

from __future__ import annotations

from ganbuilder.design.labels import shorten
from ganbuilder.design.problems import count_problems, problem_marks, problem_where
from ganbuilder.errors import Location, Problem


def test_marks_and_where_for_this_file_another_file_and_none():
    here = Problem("networks.G.layers[2].conv.kernel", "bad kernel", Location("a.yaml", 7, 9))
    also = Problem("", "cannot read", Location("a.yaml", 7, 1))
    there = Problem("data", "no data", Location("base.yaml", 3, 2))
    nowhere = Problem("training", "late")
    problems = [here, also, there, nowhere]
    assert problem_marks(problems, "a.yaml") == {
        7: ["networks.G.layers[2].conv.kernel: bad kernel", "cannot read"]}
    assert problem_marks(problems, "b.yaml") == {}
    assert [problem_where(p, "a.yaml") for p in problems] == [
        "7:9", "7:1", "base.yaml:3:2", "—"]


def test_counts_and_shortened_labels():
    assert [count_problems(n) for n in (0, 1, 2)] == ["0 problems", "1 problem", "2 problems"]
    assert shorten("short") == "short"
    cut = shorten("a " * 50, 20)
    assert cut.endswith(" …") and len(cut) <= 21 and not cut[:-2].endswith(" ")
