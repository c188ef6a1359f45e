"""A sample of the fault-injection suite (scripts/faults.py, `make faults` runs all of it):
with any write failing, a command exits 2 with one message and every file that was there
before is intact or replaced whole."""

import importlib.util
import sys

import pytest

from .conftest import ROOT

_spec = importlib.util.spec_from_file_location("faults", ROOT / "scripts" / "faults.py")
faults = sys.modules.setdefault("faults", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(faults)  # registered first: its dataclasses look their module up

SAMPLE = {"run-resume": 4, "sample-grid": 2, "sample-points": 2, "export-torchscript": 1,
          "eject": 1, "flatten": 1}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return faults.build_workspace(tmp_path_factory.mktemp("faults") / "base", runs=("r8",))


@pytest.mark.parametrize("name", SAMPLE)
def test_every_failed_write_keeps_what_was_there(workspace, tmp_path, name):
    case = next(c for c in faults.CASES if c.name == name)
    trials = faults.run_case(case, workspace, tmp_path, most=SAMPLE[name], say=lambda s: None)
    assert trials and all(t.k is not None for t in trials)  # the reference run succeeded
    assert not [t for t in trials if t.problems], [t.problems for t in trials if t.problems]
