"""Style mixing (the `style_mix` layer): while training, a batch's per-layer styles split at a
random layer between two samples' w with the layer's probability; when sampling, `sample
--mix-seed` takes the fine styles from a second latent."""

from __future__ import annotations

import pytest
import torch

from ganbuilder.cli import main
from ganbuilder.layers import LAYERS
from ganbuilder.losses.path_length import path_lengths
from ganbuilder.runs.grid import load_png
from tests.conftest import ROOT, TINY


def _mixer(layers: int, prob: float):
    return LAYERS.get("style_mix").build({"layers": layers, "prob": prob}, [(5,)])


def test_training_batches_mix_two_samples_styles_at_a_crossover():
    torch.manual_seed(0)
    w = torch.randn(6, 5)
    mixer = _mixer(8, 1.0).train()
    crossovers = set()
    for _ in range(40):
        ws = mixer(w)
        assert ws.shape == (6, 8, 5)
        from_own = (ws == w[:, None]).all(2).all(0)            # per layer: every sample's own
        from_other = (ws == w.roll(1, 0)[:, None]).all(2).all(0)  # the previous sample's
        assert (from_own | from_other).all()
        cut = int(from_own.sum())
        assert from_own[:cut].all() and from_other[cut:].all() and 1 <= cut < 8
        crossovers.add(cut)
    assert crossovers == set(range(1, 8))  # every crossover layer is drawn


def test_mixing_happens_with_its_probability_and_never_in_eval_mode():
    torch.manual_seed(1)
    w = torch.randn(4, 5)
    mixer = _mixer(6, 0.9).train()
    mixed = sum(not (mixer(w) == w[:, None]).all() for _ in range(400))
    assert 0.85 < mixed / 400 < 0.95
    assert (_mixer(6, 0.0).train()(w) == w[:, None]).all()
    assert (mixer.eval()(w) == w[:, None]).all()


def test_gradients_reach_both_samples_w():
    w = torch.randn(3, 5, requires_grad=True)
    mixer = _mixer(4, 1.0).train()
    ws = mixer(w)
    ws[0, -1].sum().backward()  # sample 0's last layer reads sample 2's w
    assert w.grad[2].abs().sum() > 0 and w.grad[1].abs().sum() == 0


def test_path_length_over_per_layer_styles_averages_the_layers_squared_norms():
    """StyleGAN2's code: sqrt(mean over layers of |grad|² summed over w)."""
    torch.manual_seed(2)
    ws = torch.randn(3, 4, 5, requires_grad=True)
    weights = torch.randn(4, 5)
    image = (ws * weights).sum(2).view(3, 1, 2, 2)
    torch.manual_seed(3)
    lengths = path_lengths(image, ws)
    torch.manual_seed(3)
    y = torch.randn_like(image) / 2
    expected = ((y.view(3, 4, 1) * weights).pow(2).sum(2).mean(1)).sqrt()
    assert torch.allclose(lengths, expected, atol=1e-6)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    run = tmp_path_factory.mktemp("mix")
    sets = [x for o in TINY["stylegan2"] for x in ("--set", o)]
    assert main(["run", str(ROOT / "specs" / "stylegan2.yaml"), *sets, "--steps", "1",
                 "--out", str(run), "--quiet"]) == 0
    return run / "checkpoints" / "last.pt"


def test_sample_mixes_a_second_latents_fine_styles(trained, tmp_path):
    paths = {}
    for name, extra in (("a", []), ("b", ["--seed", "5"]),
                        ("mix", ["--mix-seed", "5", "--crossover", "1"]),
                        ("all", ["--mix-seed", "5", "--crossover", "0"])):
        paths[name] = tmp_path / f"{name}.png"
        assert main(["sample", str(trained), "--n", "4", "--out", str(paths[name]),
                     *extra]) == 0
    grids = {k: load_png(v) for k, v in paths.items()}
    assert not (grids["mix"] == grids["a"]).all() and not (grids["mix"] == grids["b"]).all()


@pytest.mark.parametrize("args, message", [
    (["--crossover", "2"], "give --mix-seed"),
    (["--mix-seed", "1", "--crossover", "99"], "--crossover: the crossover must be in 0..4"),
])
def test_bad_mixing_flags_are_one_message(trained, tmp_path, capsys, args, message):
    assert main(["sample", str(trained), "--out", str(tmp_path / "x.png"), *args]) == 2
    assert message in capsys.readouterr().err


def test_mixing_a_model_without_style_mix_is_an_error(tmp_path, capsys):
    run = tmp_path / "dc"
    sets = [x for o in TINY["dcgan"] for x in ("--set", o)]
    assert main(["run", str(ROOT / "specs" / "dcgan.yaml"), *sets, "--steps", "1", "--out",
                 str(run), "--quiet"]) == 0
    assert main(["sample", str(run / "checkpoints" / "last.pt"), "--out",
                 str(tmp_path / "x.png"), "--mix-seed", "3"]) == 2
    assert "no style_mix layer" in capsys.readouterr().err
