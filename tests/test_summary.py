"""`summary` counts parameters from the shape plan alone, as the built modules hold them."""

import subprocess
import sys

import pytest
import torch

from ganbuilder.compile.network import build_network
from ganbuilder.spec import load_spec
from ganbuilder.summary import summarize

from .conftest import ROOT, SPECS


def _numel(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _check_rows(rows: list[dict], modules: list[torch.nn.Module]) -> None:
    """Each row's count is its module's, containers' children included."""
    for row, module in zip(rows, modules, strict=True):
        assert row["params"] == _numel(module), row["path"]
        if "children" in row:
            _check_rows(row["children"], list(module))


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_counts_equal_the_built_modules(path):
    spec = load_spec(path)
    summary = summarize(spec)
    for name, plan in spec.analysis.networks.items():
        with torch.device("meta"):
            module = build_network(plan)
        net = summary["networks"][name]
        assert net["params"] == _numel(module), name
        _check_rows(net["layers"], list(getattr(module, "layers", module)))
    assert summary["params"] == sum(n["params"] for n in summary["networks"].values())


def test_summary_does_not_import_torch():
    code = ("import sys; from ganbuilder.cli import main; rc = main(['summary', "
            "'specs/dcgan.yaml']); assert rc == 0, rc; "
            "heavy = [m for m in ('torch', 'PySide6', 'PIL', 'sklearn') if m in sys.modules]; "
            "assert not heavy, heavy")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
