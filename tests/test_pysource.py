"""ganbuilder.export.pysource: copied definitions stand alone in a written file, names never
collide, long calls wrap at the project's width, templates leave no placeholder behind."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest

from ganbuilder.export.pysource import WIDTH, Names, call, definition, definitions, fill

LIMIT = 3  # a module-level constant: a copied function may not read it


def _helper(x: float) -> float:
    """Doubles x."""
    return 2 * x


class _Base:
    """A base class a copied class needs."""


class _Child(_Base):
    def run(self, xs: Iterable[Any]) -> list:
        return [_helper(x) for x in xs]


def _reads_a_constant() -> int:
    return LIMIT


def _annotated(fn: Callable[[Any], Any], n: int, *rest: Any) -> Callable:
    return fn


def test_definitions_bring_what_they_call_before_them():
    copied = definitions([_Child])
    assert list(copied) == ["_Base", "_helper", "_Child"]
    namespace: dict = {}
    exec("\n\n".join(copied.values()), namespace)  # stands alone
    assert namespace["_Child"]().run([1, 2]) == [2, 4]


def test_annotations_naming_what_the_file_lacks_are_cut_the_rest_kept():
    text = definition(_annotated)
    assert text.startswith("def _annotated(fn, n: int, *rest):\n")
    assert "def _child(" not in definition(_Child, "_child")
    assert definition(_helper, "double").startswith("def double(x: float) -> float:")


def test_a_global_a_file_cannot_copy_is_refused_by_name():
    with pytest.raises(RuntimeError, match="reads 'LIMIT'"):
        definitions([_reads_a_constant])


def test_names_are_stable_per_key_and_never_collide():
    names = Names({"self", "x"})
    assert names("x") == "x_" and names("x") == "x_"
    assert names("a-b") == "a_b" and names("a b") == "a_b_"
    assert names("class") == "class_" and names("3d") == "x_3d"


def test_calls_wrap_at_the_width():
    short = call("f", ["1", "2"], "    ")
    assert short == "f(1, 2)"
    long = call("f", ["x" * 60, "y" * 60], "    ")
    assert long.split("\n")[1] == "        " + "x" * 60 + ","
    assert all(len(line) <= WIDTH for line in long.split("\n"))


def test_a_template_placeholder_without_a_value_is_an_error():
    assert fill("x = __SIZE__\n", SIZE="4") == "x = 4\n"
    with pytest.raises(KeyError, match="__STEPS__"):
        fill("x = __STEPS__\n")
