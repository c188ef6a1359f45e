"""Expression fields (ganbuilder.design.field_text): found as written, checked with the whole
spec, written quoted; a bad text is refused with the problem on its line."""

from __future__ import annotations

from pathlib import Path

from ganbuilder.design.field_text import field_edit, shown_text, written_field
from ganbuilder.spec import load_spec_text

SPECS = Path(__file__).resolve().parents[1] / "specs"


def test_a_written_expression_is_found_checked_and_replaced():
    text = (SPECS / "dcgan.yaml").read_text(encoding="utf-8")
    spec = load_spec_text(text, "x.yaml", SPECS)
    lines = text.split("\n")
    span = written_field(lines, spec.locations, "x.yaml", ("networks", "G", "layers", 0),
                         "conv_transpose", "out")
    assert span is not None and shown_text(span[3]) == "${ngf * 2**depth}"
    assert "ngff" in field_edit(text, "x.yaml", SPECS, span, "${ngff}", "set out")
    assert "cannot parse" in field_edit(text, "x.yaml", SPECS, span, "${ngf * (2}", "set out")
    edit = field_edit(text, "x.yaml", SPECS, span, "${ngf}", "set out")
    new = edit.apply(text)
    assert 'conv_transpose: {out: "${ngf}", kernel: 4' in new
    assert new.replace('"${ngf}"', '"${ngf * 2**depth}"', 1) == text
    plain = field_edit(text, "x.yaml", SPECS, span, "96", "set out").apply(text)
    assert "conv_transpose: {out: 96, kernel: 4" in plain
    # a plain number has no expression to show: the form's number field edits it
    kernel = written_field(lines, spec.locations, "x.yaml", ("networks", "G", "layers", 0),
                           "conv_transpose", "kernel")
    assert kernel is not None and kernel[3] == "4"
