"""LPIPS (vgg, v0.1) from local weights files: the distance's properties, a reference
computation from its definition, and the super-resolution evaluator with and without the files.
The weights here are random tensors under the real files' keys and shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from ganbuilder.cli import main
from ganbuilder.errors import UserError
from ganbuilder.evaluate import evaluate_checkpoint
from ganbuilder.evaluate import lpips as lpips_module
from ganbuilder.evaluate.lpips import CHANNELS, find_files, load_lpips
from ganbuilder.layers.weight_layouts import VGG_CONFIGS

from .test_superres import srgan_checkpoint  # noqa: F401  (a fixture)

DATA = Path(__file__).parent / "data" / "lpips_reference.json"


def _vgg_state(seed: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    state, cin, index = {}, 3, 0
    for v in VGG_CONFIGS["vgg16"]:
        if v == "M":
            index += 1
            continue
        std = (2 / (9 * cin)) ** 0.5  # He scale, so the deep taps are not vanishingly small
        state[f"features.{index}.weight"] = torch.randn(v, cin, 3, 3, generator=g) * std
        state[f"features.{index}.bias"] = torch.randn(v, generator=g) * 0.1
        cin, index = v, index + 2
    state["classifier.6.bias"] = torch.zeros(1000)  # torchvision's head: not used
    return state


def _heads_state(seed: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    # LPIPS's heads are non-negative (clamped when they were fitted).
    return {f"lin{k}.model.1.weight": torch.rand(1, c, 1, 1, generator=g) * 0.1
            for k, c in enumerate(CHANNELS)}


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """A torch home whose hub cache holds a random VGG16 file, and a random heads file."""
    home = tmp_path_factory.mktemp("torch")
    (home / "hub" / "checkpoints").mkdir(parents=True)
    vgg, heads = _vgg_state(0), _heads_state(1)
    torch.save(vgg, home / "hub" / "checkpoints" / "vgg16-397923af.pth")
    torch.save(heads, home / "vgg.pth")
    return home, vgg, heads


@pytest.fixture
def present(weights, monkeypatch):
    home, vgg, heads = weights
    monkeypatch.setenv("TORCH_HOME", str(home))
    monkeypatch.setenv("GANBUILDER_LPIPS", str(home / "vgg.pth"))
    return vgg, heads


def _reference(vgg: dict, heads: dict, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """LPIPS written out from its definition, layer by layer on the files' tensors."""
    shift = torch.tensor([-.030, -.088, -.188]).view(1, 3, 1, 1)
    scale = torch.tensor([.458, .448, .450]).view(1, 3, 1, 1)
    out = []
    for x in (a, b):
        x = (x.repeat(1, 3 // x.shape[1], 1, 1) - shift) / scale
        taps, index = [], 0
        for block in (2, 2, 3, 3, 3):
            for _ in range(block):
                x = F.relu(F.conv2d(x, vgg[f"features.{index}.weight"],
                                    vgg[f"features.{index}.bias"], padding=1))
                index += 2
            taps.append(x)
            if len(taps) < 5:  # relu5_3 is the last tap
                x = F.max_pool2d(x, 2)
                index += 1
        out.append(taps)
    total = torch.zeros(a.shape[0])
    for k, (fa, fb) in enumerate(zip(*out, strict=True)):
        na = fa / (fa.norm(dim=1, keepdim=True) + 1e-10)
        nb = fb / (fb.norm(dim=1, keepdim=True) + 1e-10)
        weighted = ((na - nb) ** 2 * heads[f"lin{k}.model.1.weight"]).sum(1)
        total += weighted.mean((1, 2))
    return total


def test_lpips_is_zero_on_itself_positive_symmetric_and_matches_the_definition(present):
    vgg, heads = present
    net = load_lpips(*find_files())
    g = torch.Generator().manual_seed(2)
    a = torch.rand(3, 3, 20, 24, generator=g) * 2 - 1
    b = (a + 0.3 * torch.randn(3, 3, 20, 24, generator=g)).clamp(-1, 1)
    assert torch.equal(net(a, a), torch.zeros(3))
    d = net(a, b)
    assert (d > 0).all() and torch.allclose(d, net(b, a), rtol=1e-5, atol=0)
    assert torch.allclose(d, _reference(vgg, heads, a, b), rtol=1e-4, atol=1e-7)
    grey = a[:, :1]
    assert torch.allclose(net(grey, b[:, :1]), _reference(vgg, heads, grey, b[:, :1]),
                          rtol=1e-4, atol=1e-7)


def test_lpips_matches_the_lpips_package_on_the_same_weights(present):
    """Figures from the lpips package's own LPIPS(net='vgg', version='0.1') run on these random
    weights (tests/data/lpips_reference.json: how they were made is recorded there)."""
    stored = json.loads(DATA.read_text())
    net = load_lpips(*find_files())
    g = torch.Generator().manual_seed(stored["image_seed"])
    shape = stored["shape"]
    a = torch.rand(*shape, generator=g) * 2 - 1
    b = torch.rand(*shape, generator=g) * 2 - 1
    assert net(a, b).tolist() == pytest.approx(stored["lpips"], rel=1e-4)


def test_missing_files_are_named_with_where_to_put_them(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.delenv("GANBUILDER_LPIPS", raising=False)
    monkeypatch.setattr(lpips_module.importlib.util, "find_spec", lambda name: None)
    line = find_files()
    assert isinstance(line, str) and "\n" not in line
    assert str(tmp_path / "hub" / "checkpoints") in line and "vgg16-397923af.pth" in line
    assert "weights/v0.1/vgg.pth" in line and "--lpips" in line and "never downloads" in line
    with pytest.raises(UserError, match=r"--lpips .*nothere\.pth: no such file"):
        find_files(tmp_path / "nothere.pth")


def test_a_file_with_other_shapes_is_one_clear_error(present, tmp_path):
    _, heads = present
    bad = dict(heads, **{"lin4.model.1.weight": torch.zeros(1, 256, 1, 1)})
    torch.save(bad, tmp_path / "bad.pth")
    vgg, _ = find_files()
    with pytest.raises(UserError, match=r"bad\.pth: not LPIPS's linear heads weights: shapes "
                                        r"differ: lin4\.model\.1\.weight \(1, 256, 1, 1\)"):
        load_lpips(vgg, tmp_path / "bad.pth")


def test_superres_evaluation_reports_lpips_when_the_files_exist(present, srgan_checkpoint):  # noqa: F811
    result = evaluate_checkpoint(srgan_checkpoint, n=16)
    assert result["lpips"] > 0 and result["bicubic_lpips"] > 0
    assert "vgg16-397923af.pth" in result["lpips_weights"] and "lpips_note" not in result


def test_superres_evaluation_says_how_to_get_lpips_without_the_files(
        srgan_checkpoint, tmp_path, monkeypatch, capsys):  # noqa: F811
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.delenv("GANBUILDER_LPIPS", raising=False)
    monkeypatch.setattr(lpips_module.importlib.util, "find_spec", lambda name: None)
    result = evaluate_checkpoint(srgan_checkpoint, n=16)
    assert "lpips" not in result and result["psnr"] > 0
    assert result["lpips_note"].startswith("LPIPS not computed: it needs vgg16-397923af.pth")
    assert main(["evaluate", str(srgan_checkpoint), "--n", "8"]) == 0
    assert "lpips_note" in capsys.readouterr().out
    assert main(["evaluate", str(srgan_checkpoint), "--lpips", str(tmp_path / "no.pth")]) == 2
    assert "no.pth: no such file" in capsys.readouterr().err
