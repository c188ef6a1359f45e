"""A file that extends another replaces and removes what it inherits (spec/overlay.py)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ganbuilder.cli import main
from ganbuilder.errors import SpecError
from ganbuilder.spec import load_spec
from ganbuilder.spec.overlay import one_kind_paths

from .conftest import MINIMAL, ROOT

BASE = MINIMAL.replace("  G:\n    layers:", "  G:\n    init: {orthogonal: 1.0}\n    layers:") \
    .replace("training:\n", "training:\n  optimizer: {adam: {lr: 2.0e-4, betas: [0.5, 0.9]}}\n"
             "  ema: {networks: [G], decay: 0.99}\n")


@pytest.fixture
def base(write_spec) -> Path:
    return write_spec(BASE, "base.yaml")


def child(write_spec, text: str) -> Path:
    return write_spec("extends: base.yaml\nname: child\n" + text, "child.yaml")


def test_a_different_kind_replaces_the_inherited_one(base, write_spec):
    spec = load_spec(child(write_spec, "networks:\n  G:\n    init: {xavier: 1.0}\n"
                                       "training:\n  optimizer: {sgd: {lr: 0.1}}\n"))
    assert spec.tree["networks"]["G"]["init"] == {"xavier": 1.0}
    assert spec.tree["networks"]["G"]["layers"][0] == {"linear": 16}  # the rest still merges
    assert spec.tree["training"]["optimizer"] == {"sgd": {"lr": 0.1}}


def test_the_same_kind_merges_its_options(base, write_spec):
    spec = load_spec(child(write_spec, "training:\n  optimizer: {adam: {lr: 1.0e-4}}\n"))
    assert spec.tree["training"]["optimizer"] == {"adam": {"lr": 1.0e-4, "betas": [0.5, 0.9]}}
    spec = load_spec(child(write_spec, "training:\n  optimizer: {adam: null}\n"))
    assert spec.tree["training"]["optimizer"] == {"adam": None}  # adam with its defaults


def test_the_one_kind_positions_come_from_the_schema():
    assert {("networks", "*", "init"), ("training", "optimizer"), ("training", "schedule"),
            ("objectives", "*", "optimizer")} <= set(one_kind_paths())


def test_null_removes_an_inherited_key(base, write_spec):
    spec = load_spec(child(write_spec, "training:\n  ema: null\nnetworks:\n  G:\n    init: ~\n"))
    assert "ema" not in spec.tree["training"]
    assert "init" not in spec.tree["networks"]["G"]
    assert spec.tree["training"]["steps"] == 4


def test_null_removes_an_inherited_network(write_spec):
    base = write_spec(MINIMAL.replace("forward:", "  C:\n    layers:\n      - linear: 3\n"
                                                  "forward:\n  score: C(fake)"), "base.yaml")
    assert set(load_spec(base).tree["networks"]) == {"G", "D", "C"}
    spec = load_spec(child(write_spec, "networks:\n  C: null\nforward:\n  score: null\n"))
    assert set(spec.tree["networks"]) == {"G", "D"} and set(spec.tree["forward"]) == {"fake"}


def test_set_null_removes_a_key(base):
    spec = load_spec(base, ["training.ema=null"])
    assert "ema" not in spec.tree["training"]
    spec = load_spec(base, ["training.optimizer.adam=null"])  # a kind keeps its place
    assert spec.tree["training"]["optimizer"] == {"adam": None}


def test_a_problem_in_the_base_file_says_so(base, write_spec):
    with pytest.raises(SpecError) as err:
        load_spec(child(write_spec, "networks:\n  D: null\n"))
    problems = err.value.problems
    assert problems and all(p.location.file == str(base) for p in problems)
    first = problems[0]
    assert "unknown network 'D'" in first.message
    assert first.message.endswith("(in base.yaml, a base spec that child.yaml extends)")
    assert first.location.line == BASE.lstrip("\n").splitlines().index("    updates: [D]") + 1


def test_a_problem_in_the_file_itself_names_no_base(base, write_spec):
    with pytest.raises(SpecError) as err:
        load_spec(child(write_spec, "training:\n  steps: -1\n"))
    (problem,) = err.value.problems
    assert problem.location.file.endswith("child.yaml") and "base spec" not in problem.message


def test_flatten_writes_the_replaced_and_removed_tree(base, write_spec, tmp_path, capsys):
    spec_file = child(write_spec, "networks:\n  G:\n    init: {xavier: 1.0}\n"
                                  "training:\n  ema: null\n")
    out = tmp_path / "out" / "flat.yaml"
    out.parent.mkdir()
    assert main(["flatten", str(spec_file), "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "orthogonal" not in text and "ema:" not in text and "xavier" in text
    assert load_spec(out).tree == load_spec(spec_file).tree


def test_the_published_schema_accepts_a_file_that_replaces_and_removes(base, write_spec):
    exe = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.fail("check-jsonschema is missing: it is in the dev extra (make install)")
    spec_file = child(write_spec, "networks:\n  G:\n    init: {xavier: 1.0}\n  D: null\n"
                                  "training:\n  ema: null\n")
    result = subprocess.run([exe, "--schemafile", str(ROOT / "schema" / "spec-v1.json"),
                             str(spec_file)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
