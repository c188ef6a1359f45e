"""LAPGAN's pyramid: chained sampling, residual generators, critics conditioned on low-pass."""

import torch

from ganbuilder.compile.model import GAN, TensorCache
from ganbuilder.spec import load_spec

from .conftest import ROOT, TINY

LAPGAN = ROOT / "specs" / "lapgan.yaml"


def _model() -> tuple:
    torch.manual_seed(0)
    spec = load_spec(LAPGAN, TINY.get("lapgan", []))
    return spec, GAN(spec).eval()


def _latents(spec, n: int) -> dict[str, torch.Tensor]:
    return {name: torch.randn(n, *spec.analysis.tensor_shapes[name])
            for name in ("z0", "z1")}


def test_lapgan_sample_chains_the_levels_from_noise():
    spec, gan = _model()
    z = _latents(spec, 5)
    nets = gan.nets
    with torch.no_grad():
        level0 = nets["G0"](z["z0"])
        expected = nets["G1"](z["z1"], nets["up"](level0))
        fake = TensorCache(gan, z).get("fake")
    assert level0.shape == (5, 1, 8, 8)
    assert fake.shape == (5, 1, 16, 16)
    assert torch.allclose(fake, expected)
    assert spec.sampling["tensors"][0] == "fake"  # what `evaluate` scores


def test_lapgan_generator_adds_its_residual_to_the_low_pass_image():
    spec, gan = _model()
    G1 = gan.nets["G1"]
    z, coarse = torch.randn(3, *spec.analysis.tensor_shapes["z1"]), torch.rand(3, 1, 16, 16)
    with torch.no_grad():
        assert not torch.allclose(G1(z, coarse), coarse)
        last = [m for m in G1.modules() if isinstance(m, torch.nn.Conv2d)][-1]
        last.weight.zero_()
        last.bias.zero_()
        assert torch.equal(G1(z, coarse), coarse)  # no residual: the low-pass image itself


def test_lapgan_critic_judges_the_image_given_its_low_pass_version():
    _, gan = _model()
    D1 = gan.nets["D1"]
    image = torch.rand(1, 1, 16, 16)
    with torch.no_grad():
        same, other = D1(image.repeat(2, 1, 1, 1), torch.stack([image[0], -image[0]]))
    assert not torch.allclose(same, other)


def test_lapgan_levels_train_independently_on_real_coarse_images():
    producers = load_spec(LAPGAN).analysis.producers
    assert producers["fake1"] == {"down", "G1", "up"}  # G1 trains on real low-pass images
    assert producers["fake"] == {"G0", "up", "G1"}     # while samples chain G0 into G1
