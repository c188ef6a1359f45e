"""Did-you-mean problems carry a fix that changes just the misspelt word."""

from __future__ import annotations

from pathlib import Path

import pytest

from ganbuilder.design.fixes import suggested_fix
from ganbuilder.errors import Location, Problem, UserError
from ganbuilder.spec import load_spec_text

SPECS = Path(__file__).resolve().parents[1] / "specs"
DCGAN = (SPECS / "dcgan.yaml").read_text(encoding="utf-8")


def apply(lines: list[str], edit) -> list[str]:
    return edit.apply("\n".join(lines)).split("\n")


@pytest.mark.parametrize(("wrong", "right"), [
    ("batch_norm\n      - relu\n      - repeat", "batch_nrom\n      - relu\n      - repeat"),
    ("kernel: 4, stride: 1", "kernal: 4, stride: 1"),
])
def test_the_fix_makes_the_spec_valid_again(wrong, right):
    text = DCGAN.replace(wrong, right, 1)
    with pytest.raises(UserError) as caught:
        load_spec_text(text, "x.yaml", SPECS)
    lines = text.split("\n")
    fixes = [suggested_fix(p, lines, "x.yaml") for p in caught.value.problems]
    fix = next(f for f in fixes if f is not None)
    assert fix.label.startswith("Change '")
    fixed = "\n".join(apply(lines, fix.edit))
    assert fixed == DCGAN
    load_spec_text(fixed, "x.yaml", SPECS)


def test_no_fix_without_a_suggestion_or_elsewhere():
    lines = ["a: [relu, relux]"]
    plain = Problem("a", "unknown value 'relux'", Location("x.yaml", 1, 5))
    assert suggested_fix(plain, lines, "x.yaml") is None
    meant = Problem("a", "unknown value 'relux' (did you mean 'relu'?)", Location("x.yaml", 1, 1))
    other_file = Problem("a", meant.message, Location("base.yaml", 1, 1))
    assert suggested_fix(other_file, lines, "x.yaml") is None
    # Not at the column given, but once on the line: still found, and only the whole word.
    fix = suggested_fix(meant, lines, "x.yaml")
    assert apply(lines, fix.edit) == ["a: [relu, relu]"]
    twice = ["a: [relux, relux]"]
    assert suggested_fix(meant, twice, "x.yaml") is None


def test_a_generator_output_with_the_wrong_channels_gets_the_datas_channels():
    text = DCGAN.replace('conv_transpose: {out: "${nc}"', "conv_transpose: {out: 3")
    with pytest.raises(UserError) as caught:
        load_spec_text(text, "x.yaml", SPECS)
    lines = text.split("\n")
    fixes = {p.path: suggested_fix(p, lines, "x.yaml") for p in caught.value.problems}
    fix = fixes["networks.G.layers[9]"]
    assert fix.label == 'Set out to "${nc}"'
    fixed = "\n".join(apply(lines, fix.edit))
    assert fixed == DCGAN
    load_spec_text(fixed, "x.yaml", SPECS)
    # Without a written `channels`, the number the data has.
    bare = text.replace("  channels: ${nc}\n", "")
    with pytest.raises(UserError) as caught:
        load_spec_text(bare, "x.yaml", SPECS)
    lines = bare.split("\n")
    fix = next(f for p in caught.value.problems if (f := suggested_fix(p, lines, "x.yaml")))
    assert fix.label == "Set out to 1"
    load_spec_text(fix.edit.apply(bare), "x.yaml", SPECS)
