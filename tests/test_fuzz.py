"""Fuzzing `ganbuilder validate`: mutated shipped specs never end in a traceback or a hang.

scripts/fuzz.py makes the cases; here a few hundred run in CI (GANBUILDER_FUZZ_CASES sets how
many in all), `make fuzz` runs 10,000. A failure prints the case's mutations and the command
that replays it.
"""

import importlib.util
import os
import sys
import time

import pytest

from .conftest import ROOT, SPECS

_spec = importlib.util.spec_from_file_location("fuzz", ROOT / "scripts" / "fuzz.py")
fuzz = sys.modules.setdefault("fuzz", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(fuzz)  # registered first: its dataclasses look their module up

PER_SPEC = max(1, int(os.environ.get("GANBUILDER_FUZZ_CASES", "300")) // len(SPECS))


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_mutated_specs_fail_cleanly(spec):
    report = fuzz.fuzz(PER_SPEC, seed=0, limit=10.0, slow=5.0, specs=[spec])
    assert not report.failures, "\n".join(fuzz.describe(o) for o in report.failures)
    assert any(o.code == 2 for o in report.outcomes)  # the mutations do break specs


def test_cases_are_reproducible_and_varied():
    spec = ROOT / "specs" / "dcgan.yaml"
    cases = [fuzz.make_case(spec, i) for i in range(40)]
    assert fuzz.make_case(spec, 7).text == cases[7].text
    assert len({c.text for c in cases}) > 30
    assert any(c.overrides for c in cases)


def _case() -> "fuzz.Case":
    return fuzz.make_case(ROOT / "specs" / "gan.yaml", 0)


def _failure_of(validate) -> str | None:
    with fuzz.spec_folder() as folder:
        return fuzz.run_case(_case(), folder, limit=1.0, slow=0.5, validate=validate).failure


def test_the_harness_catches_tracebacks_hangs_and_unlocated_errors():
    def crash(argv):
        raise KeyError("boom")

    def hang(argv):
        while True:
            time.sleep(0.01)

    def unlocated(argv):
        print("error: something broke", file=sys.stderr)
        return 2

    assert _failure_of(crash).startswith("traceback:") and "KeyError: 'boom'" in _failure_of(crash)
    assert _failure_of(hang) == "hang: still running after 1 s"
    assert _failure_of(unlocated).startswith("not a located error line")
    assert _failure_of(lambda argv: 1) == "exit code 1"
    assert _failure_of(lambda argv: 0) is None
