"""`ganbuilder eject`: a spec as plain PyTorch source that needs no ganbuilder.

For every shipped spec the ejected module is ruff clean, imports only torch, builds each
network with the compiled network's state_dict keys and initial weights, and computes the
same outputs from the same weights. DCGAN, pix2pix (U-Net skips), CycleGAN (residual blocks)
and StyleGAN (style layers) are the issue's named cases; DCGAN also loads a trained
checkpoint.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ganbuilder.cli import main
from ganbuilder.compile.model import GAN
from ganbuilder.compile.network import build_network, initialize
from ganbuilder.export import eject_source
from ganbuilder.spec import Spec, load_spec
from tests.conftest import ROOT, SMALL, SPECS, TINY, import_file

ALLOWED_IMPORTS = {"__future__", "math", "torch", "torch.nn", "torch.nn.utils"}


def _overrides(name: str) -> list[str]:
    return SMALL.get(name, [])


@pytest.fixture(scope="module")
def ejected(tmp_path_factory) -> dict[str, tuple[Spec, Path]]:
    """Every shipped spec ejected to a file."""
    folder = tmp_path_factory.mktemp("ejected")
    out = {}
    for file in SPECS:
        spec = load_spec(file, _overrides(file.stem))
        path = folder / f"{file.stem}_model.py"
        path.write_text(eject_source(spec, _overrides(file.stem)), encoding="utf-8")
        out[file.stem] = (spec, path)
    return out


def _inputs(shapes: list[tuple], n: int = 3) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(7)
    return [torch.randn((n, *s), generator=generator) if s else
            torch.randint(2, (n,), generator=generator) for s in shapes]


def _perturbed(net: torch.nn.Module, seed: int) -> dict[str, torch.Tensor]:
    """The network's state with every float tensor moved off its initial value, so layers
    loaded in the wrong place (or noise scales and BN statistics left at 0) show."""
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for key, value in net.state_dict().items():
        if value.is_floating_point():
            value = value + 0.1 * torch.randn(value.shape, generator=generator)
            if "running_var" in key:
                value = value.abs() + 0.5
        state[key] = value
    return state


def test_ejected_files_are_ruff_clean(ejected):
    paths = [str(path) for _, path in ejected.values()]
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--config",
                             str(ROOT / "pyproject.toml"), *paths],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", [f.stem for f in SPECS])
def test_ejected_module_imports_only_torch(ejected, name):
    tree = ast.parse(ejected[name][1].read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= ALLOWED_IMPORTS
    assert "torch" in {m.split(".")[0] for m in imported}


@pytest.mark.parametrize("name", [f.stem for f in SPECS])
def test_ejected_networks_match_the_compiled_ones(ejected, name):
    spec, path = ejected[name]
    _check_matches(spec, import_file(path))


def test_init_schemes_skip_equalized_layers_as_the_compiler_does(tmp_path):
    spec = load_spec(ROOT / "specs/stylegan.yaml", [*TINY["stylegan"],
                     "networks.G.init={normal: 0.02}", "networks.D.init={kaiming: 0.2}"])
    path = tmp_path / "stylegan_init.py"
    path.write_text(eject_source(spec), encoding="utf-8")
    assert "if is_equalized(m):" in path.read_text(encoding="utf-8")
    _check_matches(spec, import_file(path))


def _check_matches(spec: Spec, module) -> None:
    """Same keys and initial weights from the same seed; same outputs from the same weights."""
    assert set(module.NETWORKS) == set(spec.analysis.networks)
    for net_name, plan in spec.analysis.networks.items():
        torch.manual_seed(11)
        compiled = build_network(plan)
        initialize(compiled, spec.tree["networks"][net_name].get("init"))
        torch.manual_seed(11)
        plain = module.NETWORKS[net_name]()
        ours, theirs = compiled.state_dict(), plain.state_dict()
        assert list(theirs) == list(ours), net_name
        for key in ours:  # the init scheme, drawn in the same order
            assert torch.equal(theirs[key], ours[key]), f"{net_name}: {key}"
        state = _perturbed(compiled, seed=3)
        compiled.load_state_dict(state)
        plain.load_state_dict(state)
        compiled.eval()
        plain.eval()
        inputs = _inputs(plan.input_shapes)
        with torch.no_grad():
            torch.manual_seed(5)  # noise layers draw from the global generator
            expected = compiled(*inputs)
            torch.manual_seed(5)
            got = plain(*inputs)
        assert torch.equal(got, expected), net_name


@pytest.mark.parametrize("name, marks", [
    ("pix2pix", ["Concat()", "x = layers[15](x, d4)"]),  # U-Net skips, by their ids
    ("cyclegan", ["*(Residual(", "for _ in range(9))"]),  # the residual blocks in a loop
    ("stylegan", ["AdaIN(", "NoiseInjection(", "equalize(nn.Linear(8, 8), lr_mul=0.01)",
                  "= layers[12](x, w)"]),  # style layers read the mapped w
    ("dcgan", ["class G(nn.Sequential):", "init_weights(self, normal, 0.02, norm_std=0.02)"]),
    ("dcgan_diffaugment", ["DiffAugment(['color', 'translation'], 0.125, 0.5)",
                           "def translation("]),  # the augmentations, copied in
])
def test_ejected_source_reads_as_the_spec(ejected, name, marks):
    text = ejected[name][1].read_text(encoding="utf-8")
    header = " ".join(text.splitlines()[:3])
    assert f"spec {name!r}" in header and f"specs/{name}.yaml" in header
    for mark in marks:
        assert mark in text


def test_trained_checkpoint_loads_into_ejected_dcgan(tmp_path):
    overrides = [x for o in TINY["dcgan"] for x in ("--set", o)]
    run = tmp_path / "run"
    assert main(["run", str(ROOT / "specs/dcgan.yaml"), *overrides, "--steps", "2",
                 "--out", str(run), "--quiet"]) == 0
    out = tmp_path / "model.py"
    assert main(["eject", str(ROOT / "specs/dcgan.yaml"), *overrides, "--out", str(out)]) == 0
    assert "--set params.image_size=16" in out.read_text(encoding="utf-8")
    module = import_file(out)
    state = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    spec = load_spec(ROOT / "specs/dcgan.yaml", TINY["dcgan"])
    gan = GAN(spec)
    for name in ("G", "D"):
        plain = module.NETWORKS[name]()
        plain.load_state_dict(state["networks"][name])  # strict: every key, no others
        gan.nets[name].load_state_dict(state["networks"][name])
        plain.eval()
        gan.nets[name].eval()
        x = _inputs(spec.analysis.networks[name].input_shapes, n=4)
        with torch.no_grad():
            assert torch.equal(plain(*x), gan.nets[name](*x))


def test_eject_refuses_a_folder_and_reports_spec_errors(tmp_path, capsys):
    assert main(["eject", str(ROOT / "specs/dcgan.yaml"), "--out", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert main(["eject", str(ROOT / "specs/dcgan.yaml"), "--set", "params.nz=0",
                 "--out", str(tmp_path / "m.py")]) == 2
    assert not (tmp_path / "m.py").exists()


def test_a_module_eject_cannot_write_is_named_with_its_layer(monkeypatch, tmp_path, capsys):
    import dataclasses

    from ganbuilder.layers import LAYERS
    from ganbuilder.layers.modules import Concat

    # As a plugin's builder that returns its module, not the call making it, would be.
    monkeypatch.setitem(LAYERS._entries, "concat", dataclasses.replace(
        LAYERS.get("concat"), construct=lambda p, inputs: Concat()))
    overrides = ["--set", "params.ngf=8"]
    assert main(["eject", str(ROOT / "specs/pix2pix.yaml"), *overrides,
                 "--out", str(tmp_path / "m.py")]) == 2
    err = capsys.readouterr().err
    assert "pix2pix.yaml:" in err
    # Named as written: the U-Net's first `up` block use, not the expanded index 15.
    assert ("networks.G.layers[9] (repetition 0 of block up, layers[0]): concat: eject cannot "
            "write Concat modules as source (a builder that returns construct(...) can be "
            "ejected)") in err


def test_eject_never_writes_over_the_spec_and_replaces_a_file_only_with_force(tmp_path, capsys):
    spec = tmp_path / "mine.yaml"
    spec.write_text((ROOT / "specs/gan.yaml").read_text())
    before = spec.read_text()
    for force in ([], ["--force"]):
        assert main(["eject", str(spec), "--out", str(spec), *force]) == 2
        assert "never writes over its inputs" in capsys.readouterr().err
    assert spec.read_text() == before
    model = tmp_path / "model.py"
    model.write_text("# the user's own edits\n")
    assert main(["eject", str(spec), "--out", str(model)]) == 2
    assert "pass --force" in capsys.readouterr().err
    assert model.read_text() == "# the user's own edits\n"
    assert main(["eject", str(spec), "--out", str(model), "--force"]) == 0
    assert "class G(" in model.read_text()
