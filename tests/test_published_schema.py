"""The published schema describes spec files as people write them, and editors can use it."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from ganbuilder.spec.published import published_schema

ROOT = Path(__file__).resolve().parent.parent
WRITTEN = ROOT / "schema" / "spec-v1.json"
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
MODELINE = "# yaml-language-server: $schema=../schema/spec-v1.json"


def _check_jsonschema(*files: Path) -> subprocess.CompletedProcess:
    """check-jsonschema, an independent validator, run as its own process."""
    exe = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.fail("check-jsonschema is missing: it is in the dev extra (make install)")
    return subprocess.run([exe, "--schemafile", str(WRITTEN), *map(str, files)],
                          capture_output=True, text=True, timeout=120)


def test_the_written_schema_matches_ganbuilder_schema():
    written = WRITTEN.read_text(encoding="utf-8")
    assert json.loads(written) == published_schema(), \
        "schema/spec-v1.json is out of date: run `make schema`"


def test_every_shipped_spec_passes_an_independent_validator():
    result = _check_jsonschema(*SPECS)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_every_shipped_spec_names_the_schema_for_editors(spec):
    assert spec.read_text(encoding="utf-8").splitlines()[0] == MODELINE


@pytest.mark.parametrize(("name", "old", "new"), [
    ("dcgan", "\ntraining:", "\ntrainig:"),                       # a top-level key
    ("dcgan", "kernel: 4", "kernal: 4"),                          # a layer parameter in a block
    ("wgan_gp", "\ngan_loss: wgan", "\ngan_los: wgan"),           # in a file that extends
    ("wgan_gp", "block: critic_down", "blok: critic_down"),       # a block use under repeat
])
def test_a_misspelled_key_in_a_copy_fails(tmp_path, name, old, new):
    text = (ROOT / "specs" / f"{name}.yaml").read_text(encoding="utf-8")
    assert old in text
    copy = tmp_path / f"{name}.yaml"
    copy.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = _check_jsonschema(copy)
    assert result.returncode == 1, result.stdout + result.stderr


def test_expressions_are_accepted_where_values_are_computed():
    validator = jsonschema.Draft202012Validator(published_schema())
    text = (ROOT / "specs" / "dcgan.yaml").read_text(encoding="utf-8")
    tree = yaml.safe_load(text)
    tree["training"]["steps"] = "${ngf * 10}"
    tree["data"]["batch_size"] = "${ngf}"
    assert not list(validator.iter_errors(tree))
    tree["data"]["batch_size"] = "sixty-four"
    assert list(validator.iter_errors(tree))
