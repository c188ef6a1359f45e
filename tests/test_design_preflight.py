"""Data pre-flight: what Start would find wrong with the data, located at the data keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from ganbuilder.design.preflight import preflight
from ganbuilder.spec import load_spec_text

PIL = pytest.importorskip("PIL.Image")
SPECS = Path(__file__).resolve().parents[1] / "specs"
DCGAN = (SPECS / "dcgan.yaml").read_text(encoding="utf-8")
CGAN = (SPECS / "cgan.yaml").read_text(encoding="utf-8")


def spec_with(text: str, data: str, folder: Path):
    text = text.replace("  source: digits\n", data)
    return text, load_spec_text(text, str(folder / "x.yaml"), folder)


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.split("\n"), 1) if line.startswith(needle))


def images(folder: Path, mode: str, names: list[str]) -> None:
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        PIL.new(mode, (8, 8)).save(folder / name)


def test_a_missing_root_is_a_problem_at_its_line(tmp_path):
    text, spec = spec_with(DCGAN, "  source: folder\n  root: nowhere\n", tmp_path)
    (problem,) = preflight(spec, tmp_path)
    assert problem.path == "data.root"
    assert "not found" in problem.message and str(tmp_path / "nowhere") in problem.message
    assert problem.location.line == line_of(text, "  root: nowhere")


def test_a_root_without_images(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("x")
    _, spec = spec_with(DCGAN, "  source: folder\n  root: empty\n", tmp_path)
    (problem,) = preflight(spec, tmp_path)
    assert "no images" in problem.message


def test_colour_images_read_as_one_channel(tmp_path):
    images(tmp_path / "data", "RGB", ["a.png", "b.png"])
    text, spec = spec_with(DCGAN, "  source: folder\n  root: data\n", tmp_path)
    (problem,) = preflight(spec, tmp_path)
    assert problem.path == "data.channels" and "colour" in problem.message
    assert problem.location.line == line_of(text, "  channels:")


def test_matching_data_has_no_problems(tmp_path):
    images(tmp_path / "data", "L", ["a.png"])
    _, spec = spec_with(DCGAN, "  source: folder\n  root: data\n", tmp_path)
    assert preflight(spec, tmp_path) == []
    _, digits = spec_with(DCGAN, "  source: digits\n", tmp_path)
    assert preflight(digits, tmp_path) == []  # no root: nothing to look at


def test_class_folders_must_match_the_classes_drawn(tmp_path):
    images(tmp_path / "data", "L", [f"{c}/x.png" for c in ("cat", "dog", "owl")])
    text, spec = spec_with(CGAN, "  source: folder\n  channels: 1\n  root: data\n", tmp_path)
    (problem,) = preflight(spec, tmp_path)
    assert "3 classes" in problem.message and "draws from 10" in problem.message
    assert problem.location.line == line_of(text, "  root: data")


def test_an_infogan_code_need_not_match_the_class_folders(tmp_path):
    """InfoGAN's 10-valued code is the model's own, not a label: 3 class folders are fine."""
    images(tmp_path / "data", "L", [f"{c}/x.png" for c in ("cat", "dog", "owl")])
    infogan = (SPECS / "infogan.yaml").read_text(encoding="utf-8")
    _, spec = spec_with(infogan, "  source: folder\n  channels: 1\n  root: data\n", tmp_path)
    assert preflight(spec, tmp_path) == []
