"""`ganbuilder export`: one trained network as ONNX, TorchScript or safetensors.

ONNX parity: onnxruntime's outputs equal torch's within 1e-5 (absolute), at a batch size
other than the one the graph was traced with. TorchScript: `torch.jit.load` alone gives
torch's outputs exactly. The checkpoints are made by training a few steps here.
"""

from __future__ import annotations

import json
import sys

import pytest
import torch

from ganbuilder.cli import main
from ganbuilder.export import default_network, make_target
from ganbuilder.sampling import load_model
from ganbuilder.spec import load_spec, load_spec_text
from tests.conftest import ROOT, TINY

ONNX_ATOL = 1e-5
EMA = ["training.ema={networks: [G], decay: 0.5}"]


def _train(tmp_path_factory, name: str, overrides: list[str], steps: int):
    run = tmp_path_factory.mktemp(name)
    sets = [x for o in overrides for x in ("--set", o)]
    assert main(["run", str(ROOT / "specs" / f"{name}.yaml"), *sets, "--steps", str(steps),
                 "--out", str(run), "--quiet"]) == 0
    return run / "checkpoints" / "last.pt"


@pytest.fixture(scope="module")
def dcgan(tmp_path_factory):
    """A DCGAN trained 2 steps with a weight average of G (decay 0.5: it differs from G)."""
    return _train(tmp_path_factory, "dcgan", [*TINY["dcgan"], *EMA], 2)


@pytest.fixture(scope="module")
def pix2pix(tmp_path_factory):
    return _train(tmp_path_factory, "pix2pix", ["params.ngf=8", "params.ndf=8"], 1)


@pytest.fixture(scope="module")
def stylegan(tmp_path_factory):
    return _train(tmp_path_factory, "stylegan", TINY["stylegan"], 1)


def _export(checkpoint, fmt, out, *flags) -> int:
    return main(["export", str(checkpoint), "--format", fmt, "--out", str(out), *flags])


def _torch_output(checkpoint, network, inputs, ema=True, seed=None):
    _, gan, _ = load_model(checkpoint, ema=ema)
    net = gan.nets[network].eval()
    with torch.no_grad():
        if seed is not None:
            torch.manual_seed(seed)
        return net(*inputs)


@pytest.mark.parametrize("spec, direction, network, inputs, output", [
    ("dcgan", "AtoB", "G", ["z"], "fake"),
    ("cgan", "AtoB", "G", ["z", "y"], "fake"),
    ("pix2pix", "AtoB", "G", ["real_A"], "fake_B"),
    ("cyclegan", "AtoB", "G_AB", ["real_A"], "fake_B"),
    ("cyclegan", "BtoA", "G_BA", ["real_B"], "fake_A"),
    ("lapgan", "AtoB", "G1", ["z1", "coarse"], "fake"),  # samples chain G0's coarse image
])
def test_default_network_and_names_follow_the_spec(spec, direction, network, inputs, output):
    loaded = load_spec(ROOT / "specs" / f"{spec}.yaml", TINY.get(spec, []))
    assert default_network(loaded, direction) == network
    target = make_target(loaded, _compiled(loaded), 0, direction=direction)
    assert (target.network, target.inputs, target.output) == (network, inputs, output)


def _compiled(spec):
    from ganbuilder.compile.model import GAN

    return GAN(spec)


def test_onnx_parity_names_batch_axis_and_metadata(dcgan, tmp_path):
    onnx = pytest.importorskip("onnx", reason="the 'export' extra is not installed")
    ort = pytest.importorskip("onnxruntime", reason="the 'export' extra is not installed")
    out = tmp_path / "g.onnx"
    assert _export(dcgan, "onnx", out) == 0
    model = onnx.load(str(out))
    meta = {p.key: p.value for p in model.metadata_props}
    assert json.loads(meta["latent"]) == {"z": {"dist": "normal", "shape": [8, 1, 1]}}
    assert json.loads(meta["output_range"]) == [-1.0, 1.0]
    assert meta["ganbuilder.network"] == "G" and meta["ganbuilder.step"] == "2"
    assert [i.name for i in model.graph.input] == ["z"]
    assert [o.name for o in model.graph.output] == ["fake"]
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param  # symbolic batch
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    z = torch.randn(5, 8, 1, 1, generator=torch.Generator().manual_seed(1))
    got = torch.from_numpy(session.run(["fake"], {"z": z.numpy()})[0])
    expected = _torch_output(dcgan, "G", [z])  # the averaged weights, as sampling uses
    assert got.shape == (5, 1, 16, 16)
    assert torch.allclose(got, expected, atol=ONNX_ATOL, rtol=0)
    assert not torch.allclose(expected, _torch_output(dcgan, "G", [z], ema=False),
                              atol=ONNX_ATOL, rtol=0)


def test_onnx_parity_translation_generator(pix2pix, tmp_path):
    pytest.importorskip("onnx", reason="the 'export' extra is not installed")
    ort = pytest.importorskip("onnxruntime", reason="the 'export' extra is not installed")
    out = tmp_path / "g.onnx"
    assert _export(pix2pix, "onnx", out) == 0
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["real_A"]
    assert json.loads(session.get_modelmeta().custom_metadata_map["inputs"])["real_A"][
        "range"] == [-1.0, 1.0]
    real_a = torch.rand(3, 3, 32, 32, generator=torch.Generator().manual_seed(2)) * 2 - 1
    got = torch.from_numpy(session.run(["fake_B"], {"real_A": real_a.numpy()})[0])
    assert torch.allclose(got, _torch_output(pix2pix, "G", [real_a]), atol=ONNX_ATOL, rtol=0)


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:DeprecationWarning")
def test_torchscript_loads_with_plain_torch_and_gives_the_same_outputs(stylegan, tmp_path):
    out = tmp_path / "g.pt"
    assert _export(stylegan, "torchscript", out) == 0
    extra = {"inputs": "", "output": "", "stochastic": ""}
    loaded = torch.jit.load(str(out), _extra_files=extra)
    assert json.loads(extra["output"])["name"] == "fake"
    assert b"noise" in extra["stochastic"]
    z = torch.randn(3, 8, generator=torch.Generator().manual_seed(4))  # traced with 2
    with torch.no_grad():
        torch.manual_seed(9)  # the noise layers draw from the global generator
        got = loaded(z)
    assert torch.equal(got, _torch_output(stylegan, "G", [z], seed=9))


def test_safetensors_holds_the_state_dict_and_the_spec(dcgan, tmp_path):
    safetensors = pytest.importorskip("safetensors.torch",
                                      reason="the 'export' extra is not installed")
    from safetensors import safe_open

    state = torch.load(dcgan, weights_only=True)
    for flags, weights in (([], state["ema"]["G"]), (["--live-weights"],
                                                    state["networks"]["G"])):
        out = tmp_path / f"g{len(flags)}.safetensors"
        assert _export(dcgan, "safetensors", out, *flags) == 0
        tensors = safetensors.load_file(str(out))
        assert sorted(tensors) == sorted(weights)  # safetensors stores keys sorted
        assert all(torch.equal(tensors[k], weights[k]) for k in weights)
    with safe_open(str(out), "pt") as f:
        meta = f.metadata()
    assert load_spec_text(meta["spec"], resolved=True).tree == load_spec_text(
        state["spec_text"], resolved=True).tree


def test_batch_dependent_layers_are_named_and_refused(stylegan, tmp_path, capsys):
    for fmt in ("onnx", "torchscript"):
        out = tmp_path / f"d.{fmt}"
        assert _export(stylegan, fmt, out, "--network", "D") == 2
        err = capsys.readouterr().err
        assert "networks.D.layers[12]: minibatch_std: network D cannot be exported as " \
               f"{fmt}: it groups samples by the batch size" in err
        assert not out.exists()
    assert _export(stylegan, "safetensors", tmp_path / "d.safetensors", "--network", "D") == 0


def test_unknown_network_and_missing_extra_are_user_errors(dcgan, tmp_path, capsys,
                                                           monkeypatch):
    assert _export(dcgan, "torchscript", tmp_path / "x.pt", "--network", "Gx") == 2
    assert "--network Gx: model 'dcgan' has no such network (it has G, D)" in \
        capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "onnxscript", None)  # as if the extra were absent
    assert _export(dcgan, "onnx", tmp_path / "x.onnx") == 2
    assert "pip install 'ganbuilder[export]'" in capsys.readouterr().err
    assert _export(dcgan, "onnx", tmp_path) == 2
    assert "is a folder" in capsys.readouterr().err


def test_onnx_parity_with_label_inputs(tmp_path):
    """A conditional generator: float noise and int64 labels, a GraphNetwork taking *inputs."""
    pytest.importorskip("onnx", reason="the 'export' extra is not installed")
    ort = pytest.importorskip("onnxruntime", reason="the 'export' extra is not installed")
    from ganbuilder.export.onnx import export_onnx

    spec = load_spec(ROOT / "specs/cgan.yaml")
    target = make_target(spec, _compiled(spec), 0)
    out = export_onnx(target, tmp_path / "cgan.onnx")
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert [(i.name, i.type) for i in session.get_inputs()] == [
        ("z", "tensor(float)"), ("y", "tensor(int64)")]
    meta = session.get_modelmeta().custom_metadata_map
    assert json.loads(meta["latent"])["y"]["dist"] == "categorical"
    z, y = target.example(n=7, seed=3)
    got = torch.from_numpy(session.run(["fake"], {"z": z.numpy(), "y": y.numpy()})[0])
    with torch.no_grad():
        expected = target.module(z, y)
    assert torch.allclose(got, expected, atol=ONNX_ATOL, rtol=0)


def test_a_direction_the_model_lacks_is_a_user_error(pix2pix, tmp_path, capsys):
    assert _export(pix2pix, "safetensors", tmp_path / "g.safetensors", "--direction",
                   "BtoA") == 2
    assert "model 'pix2pix' does not translate BtoA" in capsys.readouterr().err


@pytest.mark.parametrize("name, network", [("biggan", "G"), ("stylegan", "D")])
def test_baking_reparametrized_weights_leaves_the_model_intact(name, network):
    """Exporters get plain layers holding the effective weights (spectral norm, equalized
    lr); the model they were copied from keeps its parametrizations and outputs."""
    from torch.nn.utils import parametrize

    from ganbuilder.export.target import bake

    spec = load_spec(ROOT / "specs" / f"{name}.yaml", TINY[name])
    target = make_target(spec, _compiled(spec), 0, network=network)
    inputs = target.example(n=4)
    with torch.no_grad():
        before = target.module(*inputs)
        baked = bake(target.module)
        assert not any(parametrize.is_parametrized(m) for m in baked.modules())
        assert any(parametrize.is_parametrized(m) for m in target.module.modules())
        assert torch.equal(target.module(*inputs), before)
        assert torch.allclose(baked(*inputs), before, atol=1e-6, rtol=0)
