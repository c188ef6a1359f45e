"""StyleGAN2's G (mapping + synthesis) exported with truncation baked in: ONNX (onnxruntime
parity) and TorchScript; `sample --psi`; the shared-weight form export uses equals the grouped
convolution training uses."""

from __future__ import annotations

import pytest
import torch

from ganbuilder.cli import main
from ganbuilder.layers import LAYERS
from ganbuilder.runs.checkpoint import load_checkpoint, save_checkpoint
from ganbuilder.sampling import load_model
from tests.conftest import ROOT, TINY


@pytest.fixture(scope="module")
def quiet_g(tmp_path_factory):
    """A StyleGAN2 trained 2 steps, its noise strengths then set to 0 (the exported graph
    draws its own noise), written as a new checkpoint."""
    run = tmp_path_factory.mktemp("stylegan2")
    sets = [x for o in [*TINY["stylegan2"], "data.batch_size=8"] for x in ("--set", o)]
    assert main(["run", str(ROOT / "specs" / "stylegan2.yaml"), *sets, "--steps", "2",
                 "--out", str(run), "--quiet"]) == 0
    state = load_checkpoint(run / "checkpoints" / "last.pt")
    for weights in (state["networks"]["G"], state["ema"]["G"]):
        for key, value in weights.items():
            if value.shape == (1,) and key.endswith(".scale"):  # noise: {per_channel: false}
                value.zero_()
    out = run / "quiet.pt"
    save_checkpoint({k: v for k, v in state.items() if k not in ("format", "version",
                                                                 "digest")}, out)
    return out


def _torch(checkpoint, z, psi):
    _, gan, _ = load_model(checkpoint, psi=psi)
    with torch.no_grad():
        return gan.nets["G"].eval()(z)


def test_onnx_and_torchscript_bake_in_the_truncation(quiet_g, tmp_path):
    ort = pytest.importorskip("onnxruntime", reason="the 'export' extra is not installed")
    onnx_file, script = tmp_path / "g.onnx", tmp_path / "g.pt"
    for fmt, out in (("onnx", onnx_file), ("torchscript", script)):
        assert main(["export", str(quiet_g), "--format", fmt, "--out", str(out),
                     "--psi", "0.5"]) == 0
    z = torch.randn(3, 8, generator=torch.Generator().manual_seed(4))
    expected = _torch(quiet_g, z, 0.5)
    assert not torch.allclose(expected, _torch(quiet_g, z, 1.0), atol=1e-4)
    session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    got = torch.from_numpy(session.run(None, {session.get_inputs()[0].name: z.numpy()})[0])
    assert torch.allclose(got, expected, atol=1e-5, rtol=0)
    with torch.no_grad():
        assert torch.allclose(torch.jit.load(str(script))(z), expected, atol=1e-6, rtol=0)


def test_psi_on_a_model_without_truncation_is_an_error(quiet_g, tmp_path, capsys):
    dcgan = tmp_path / "d"
    assert main(["run", str(ROOT / "specs" / "dcgan.yaml"),
                 *[x for o in TINY["dcgan"] for x in ("--set", o)], "--steps", "1", "--out",
                 str(dcgan), "--quiet"]) == 0
    assert main(["sample", str(dcgan / "checkpoints" / "last.pt"), "--out",
                 str(tmp_path / "s.png"), "--psi", "0.7"]) == 2
    assert "has no truncation layer" in capsys.readouterr().err
    assert main(["sample", str(quiet_g), "--out", str(tmp_path / "t.png"), "--psi", "0.7",
                 "--n", "4"]) == 0


@pytest.mark.parametrize("options", [{}, {"up": 2}, {"down": 2}, {"demodulate": False}])
def test_the_shared_weight_form_equals_the_grouped_convolution(options):
    ldef = LAYERS.get("modulated_conv")
    module = ldef.build(ldef.normalize({"out": 4, "with": "w", **options}), [(3, 8, 8), (5,)])
    x, w = torch.randn(2, 3, 8, 8), torch.randn(2, 5)
    assert torch.allclose(module._shared_weights(x, w), module(x, w), atol=1e-5)
