import math

import pytest
import torch

from ganbuilder.latent_ops import arithmetic, class_sweep, interpolate, lerp, slerp


@pytest.fixture
def pair() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.randn(16, 1, 1, generator=g), torch.randn(16, 1, 1, generator=g)


@pytest.mark.parametrize("mode", ["linear", "slerp"])
def test_interpolation_endpoints_are_the_chosen_latents(pair, mode):
    a, b = pair
    frames = interpolate(a, b, 7, mode)
    assert frames.shape == (7, 16, 1, 1)
    assert torch.equal(frames[0], a) and torch.equal(frames[-1], b)


def test_slerp_endpoints_and_midpoint_norm(pair):
    a, b = pair
    assert torch.allclose(slerp(a, b, 0.0), a, atol=1e-6)
    assert torch.allclose(slerp(a, b, 1.0), b, atol=1e-6)
    mid = slerp(a, b, 0.5)
    # On the great circle: the norm is the mean of the ends' norms, while lerp's midpoint
    # is shorter (it cuts through the inside of the sphere where Gaussian latents are rare).
    assert math.isclose(mid.norm().item(), (a.norm() + b.norm()).item() / 2, rel_tol=1e-5)
    assert lerp(a, b, 0.5).norm() < mid.norm()


def test_slerp_of_unit_vectors_stays_on_the_circle():
    a, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    mid = slerp(a, b, 0.5)
    assert torch.allclose(mid, torch.tensor([1.0, 1.0]) / math.sqrt(2))


def test_slerp_of_parallel_vectors_is_linear():
    a = torch.tensor([1.0, 2.0])
    assert torch.allclose(slerp(a, 3 * a, 0.5), 2 * a)


def test_linear_interpolation_is_evenly_spaced(pair):
    a, b = pair
    frames = interpolate(a, b, 5, "linear")
    assert torch.allclose(frames[2], (a + b) / 2)


@pytest.mark.parametrize(("steps", "mode"), [(1, "linear"), (3, "cubic")])
def test_interpolation_rejects_bad_arguments(pair, steps, mode):
    with pytest.raises(ValueError):
        interpolate(*pair, steps, mode)


def test_arithmetic_is_mean_a_minus_mean_b_plus_mean_c():
    a = torch.tensor([[1.0, 0.0], [3.0, 0.0]])
    b = torch.tensor([[0.0, 1.0]])
    c = torch.tensor([[0.0, 0.0], [0.0, 4.0]])
    assert torch.equal(arithmetic(a, b, c), torch.tensor([2.0, 1.0]))
    with pytest.raises(ValueError, match="group B"):
        arithmetic(a, b[:0], c)


def test_class_sweep_repeats_the_latent_per_label():
    z = torch.randn(8)
    latents, labels = class_sweep(z, 10)
    assert latents.shape == (10, 8) and all(torch.equal(row, z) for row in latents)
    assert labels.tolist() == list(range(10))
