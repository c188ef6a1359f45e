"""The latent explorer's model: which latents and output it draws, and the walks it renders."""

from __future__ import annotations

import pytest
import torch

from ganbuilder.compile.model import GAN
from ganbuilder.design.latent_explorer import ExplorerModel, frames_image, parse_seeds
from ganbuilder.errors import UserError
from ganbuilder.layers.stylegan2 import truncation_layers
from ganbuilder.spec import load_spec
from ganbuilder.train.trainer import Trainer

from .conftest import ROOT, TINY

SPECS = ROOT / "specs"
INFOGAN = ["params.ngf=8", "params.ndf=8", "params.nz=8", "params.hidden=16"]


@pytest.fixture(autouse=True)
def one_torch_thread():
    # Two cores shared with other jobs: a second intra-op thread makes tiny models far slower.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def model_of(name: str, overrides: list[str]) -> ExplorerModel:
    spec = load_spec(SPECS / f"{name}.yaml", overrides)
    return ExplorerModel(spec, GAN(spec))


def alone(model: ExplorerModel, seed: int, **pinned: torch.Tensor) -> torch.Tensor:
    """Sample `seed` drawn on its own (with some latents replaced)."""
    latents = {k: v[None].clone() for k, v in model.latents(seed).items()}
    for name, value in pinned.items():
        latents[name] = value[None]
    return model.render(latents)[0]


def test_interpolation_ends_are_the_two_samples_alone():
    model = model_of("dcgan", TINY["dcgan"])
    assert model.output == "fake" and model.continuous == ["z"] and model.labels is None
    for mode in ("linear", "slerp"):
        frames = model.interpolation(3, 7, 5, mode)
        assert frames.shape == (5, 1, 16, 16)
        assert torch.allclose(frames[0], alone(model, 3), atol=1e-5)
        assert torch.allclose(frames[-1], alone(model, 7), atol=1e-5)
        assert not torch.allclose(frames[0], frames[-1])
    with pytest.raises(UserError, match="takes no label"):
        model.sweep(0)


def test_arithmetic_renders_the_group_means_and_their_sum():
    model = model_of("dcgan", TINY["dcgan"])
    frames = model.arithmetic([0, 1], [2], [3, 4, 5])
    assert frames.shape == (4, 1, 16, 16)
    z = {s: model.latents(s)["z"] for s in range(6)}
    mean_a = (z[0] + z[1]) / 2
    assert torch.allclose(frames[0], alone(model, 0, z=mean_a), atol=1e-5)
    total = mean_a - z[2] + (z[3] + z[4] + z[5]) / 3
    assert torch.allclose(frames[3], alone(model, 0, z=total), atol=1e-5)
    with pytest.raises(UserError, match="at least one seed"):
        model.arithmetic([0], [], [1])


def test_class_sweep_draws_one_frame_per_class():
    model = model_of("cgan", ["params.nz=8"])
    assert model.labels == ("y", 10)
    frames = model.sweep(seed=1)
    assert frames.shape == (10, 1, 16, 16)
    assert not torch.allclose(frames[0], frames[1])
    assert torch.allclose(frames[4], alone(model, 1, y=torch.tensor(4)), atol=1e-5)


def test_infogan_codes_and_a_traversal_varies_one_code_along_each_row():
    model = model_of("infogan", INFOGAN)
    assert model.codes == [("c (10 values)", "c", 0), ("u[0] (-2 … 2)", "u", 0),
                           ("u[1] (-2 … 2)", "u", 1)]
    frames, columns = model.traversal(5, 2, "c", 0, 8)
    assert frames.shape == (20, 1, 16, 16) and columns == 10
    assert torch.allclose(frames[13], alone(model, 6, c=torch.tensor(3)), atol=1e-5)
    frames, columns = model.traversal(5, 2, "u", 1, 5)
    assert frames.shape == (10, 1, 16, 16) and columns == 5
    u = model.latents(5)["u"].clone()
    u[1] = 2.0
    assert torch.allclose(frames[4], alone(model, 5, u=u), atol=1e-5)
    with pytest.raises(UserError, match="no latent 'w'"):
        model.traversal(0, 1, "w", 0, 3)


@pytest.mark.parametrize("name", ["pix2pix", "gan_ring8"])
def test_a_model_whose_output_is_not_an_image_of_latents_alone_is_refused(name):
    spec = load_spec(SPECS / f"{name}.yaml")
    with pytest.raises(UserError, match="latents alone"):
        ExplorerModel(spec, GAN(spec))


def test_a_checkpoint_loads_with_its_step(tmp_path):
    spec = load_spec(SPECS / "dcgan.yaml", TINY["dcgan"] + ["data.batch_size=8"])
    Trainer(spec, tmp_path / "run", steps=2).run()
    model = ExplorerModel.load(tmp_path / "run" / "checkpoints" / "last.pt")
    assert model.step == 2 and model.spec.name == spec.name
    assert model.interpolation(0, 1, 2, "linear").shape == (2, 1, 16, 16)


def test_frames_image_and_seeds():
    frames = torch.zeros(6, 1, 4, 4)
    rows, side_by_side = frames_image(frames, 3), frames_image(frames)
    assert rows.dtype.name == side_by_side.dtype.name == "uint8"
    assert rows.shape[0] > side_by_side.shape[0] and rows.shape[1] < side_by_side.shape[1]
    assert parse_seeds("0 1, 2  3") == [0, 1, 2, 3]
    assert parse_seeds("") == []
    with pytest.raises(UserError, match="whole numbers"):
        parse_seeds("1 two")


STYLEGAN2 = [*TINY["stylegan2"], "params.mixing=0"]


def test_psi_pulls_every_sample_towards_the_mean_style():
    model = model_of("stylegan2", STYLEGAN2)
    for m in model.gan.modules():  # no per-pixel noise: the styles alone decide the image
        if type(m).__name__ == "NoiseInjection":
            m.fixed = torch.zeros(1, 1, 1, 1)
    assert model.truncates
    truncation_layers(model.gan)[0].w_avg.normal_()  # a mean w that shows
    far = [alone(model, s) for s in (0, 1)]
    model.set_psi(0.0)
    near = [alone(model, s) for s in (0, 1)]
    assert not torch.allclose(far[0], far[1], atol=1e-4)
    assert torch.allclose(near[0], near[1], atol=1e-5)  # psi 0: the mean style's image
    model.set_psi(1.0)
    assert torch.allclose(alone(model, 0), far[0], atol=1e-5)


def test_psi_on_a_model_without_truncation_is_an_error():
    model = model_of("dcgan", TINY["dcgan"])
    assert not model.truncates
    with pytest.raises(UserError, match="no truncation layer"):
        model.set_psi(0.7)


def test_style_mixing_runs_from_sample_a_to_sample_b():
    model = model_of("stylegan2", STYLEGAN2)
    for m in model.gan.modules():
        if type(m).__name__ == "NoiseInjection":
            m.fixed = torch.zeros(1, 1, 1, 1)
    frames = model.style_mixing(3, 4)
    assert frames.shape[0] == model.style_layers + 1 == 5
    assert torch.allclose(frames[0], alone(model, 3), atol=1e-5)
    assert torch.allclose(frames[-1], alone(model, 4), atol=1e-5)
    assert not torch.allclose(frames[1], frames[0], atol=1e-4)
    assert not torch.allclose(frames[1], frames[-1], atol=1e-4)
    with pytest.raises(UserError, match="no style_mix layer"):
        model_of("dcgan", TINY["dcgan"]).style_mixing(0, 1)
