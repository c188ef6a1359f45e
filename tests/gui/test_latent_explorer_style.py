"""The latent explorer's truncation slider and style mixing on a StyleGAN2 checkpoint
(offscreen): moving psi redraws the picture shown, pulled towards the mean style; models
without the layers grey the controls out and say why."""

from __future__ import annotations

import torch

from tests.conftest import TINY

from .conftest import SPECS


def _checkpoint(tmp_path, name: str, overrides: list[str]):
    from ganbuilder.spec import load_spec
    from ganbuilder.train.trainer import Trainer

    spec = load_spec(SPECS / f"{name}.yaml", [*overrides, "data.batch_size=8"])
    Trainer(spec, tmp_path / name, steps=2).run()
    return tmp_path / name / "checkpoints" / "last.pt"


def test_psi_slider_redraws_towards_the_mean_style(qtbot, tmp_path):
    from gui.latent_explorer import LatentExplorer

    explorer = LatentExplorer()
    qtbot.addWidget(explorer)
    explorer.set_checkpoint(_checkpoint(tmp_path, "stylegan2", TINY["stylegan2"]))
    explorer.seed_a.setValue(0)
    explorer.seed_b.setValue(1)
    explorer.frames.setValue(2)
    torch.manual_seed(0)
    wide = explorer.interpolate()
    assert explorer.psi.isEnabled() and explorer.mix_button.isEnabled()
    with qtbot.waitSignal(explorer.framesShown) as shown:
        explorer.psi.setValue(0)  # psi 0: both ends are the mean style's image
    narrow = shown.args[0]
    assert explorer.psi_label.text() == "0.00" and explorer.model.psi == 0.0
    # Noise still differs per frame: compare how far apart the two ends are.
    assert (narrow[0] - narrow[1]).abs().mean() < 0.5 * (wide[0] - wide[1]).abs().mean()
    frames = explorer.style_mixing()
    assert frames.shape[0] == explorer.model.style_layers + 1
    assert "Style mixing: sample A's (seed 0)" in explorer.caption.text()


def test_models_without_the_layers_grey_out_psi_and_mixing(qtbot, tmp_path):
    from gui.latent_explorer import LatentExplorer

    explorer = LatentExplorer()
    qtbot.addWidget(explorer)
    explorer.set_checkpoint(_checkpoint(tmp_path, "dcgan", TINY["dcgan"]))
    explorer.interpolate()
    assert not explorer.psi.isEnabled() and not explorer.mix_button.isEnabled()
    assert "no truncation layer" in explorer.psi.toolTip()
    assert "no style_mix layer" in explorer.mix_button.toolTip()
