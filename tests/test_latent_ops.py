import math

import pytest
import torch

from ganbuilder.latent_ops import (
    arithmetic,
    class_sweep,
    code_traversal,
    interpolate,
    lerp,
    slerp,
)


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


@pytest.fixture
def rows() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return {"z": torch.randn(3, 4, generator=g), "c": torch.tensor([7, 2, 5]),
            "u": torch.rand(3, 2, generator=g) * 2 - 1}


def test_categorical_traversal_has_one_column_per_class(rows):
    out = code_traversal(rows, "c", classes=10)
    assert list(out) == ["z", "c", "u"]
    assert out["z"].shape == (30, 4) and out["u"].shape == (30, 2) and out["c"].shape == (30,)
    assert out["c"].dtype == torch.long
    assert out["c"].reshape(3, 10).tolist() == [list(range(10))] * 3
    for r in range(3):  # noise and the other code stay fixed along each row
        assert all(torch.equal(v, rows["z"][r]) for v in out["z"][r * 10:(r + 1) * 10])
        assert all(torch.equal(v, rows["u"][r]) for v in out["u"][r * 10:(r + 1) * 10])


def test_continuous_traversal_sweeps_one_dimension(rows):
    out = code_traversal(rows, "u", dim=1, steps=5)
    assert out["u"].shape == (15, 2) and out["c"].tolist() == [7] * 5 + [2] * 5 + [5] * 5
    grid = out["u"].reshape(3, 5, 2)
    assert torch.allclose(grid[:, :, 1], torch.tensor([-2.0, -1.0, 0.0, 1.0, 2.0]).expand(3, 5))
    assert torch.equal(grid[:, :, 0], rows["u"][:, 0:1].expand(3, 5))  # the other dimension
    assert torch.equal(out["z"].reshape(3, 5, 4), rows["z"].unsqueeze(1).expand(3, 5, 4))
    assert torch.equal(rows["u"], rows["u"].clone())  # the input is left alone
    ends = code_traversal(rows, "u", steps=2, lo=-1.0, hi=1.0)["u"][:, 0]
    assert ends.tolist() == [-1.0, 1.0] * 3


def test_continuous_traversal_keeps_the_code_shape():
    out = code_traversal({"u": torch.zeros(2, 1, 3)}, "u", dim=2, steps=3)
    assert out["u"].shape == (6, 1, 3) and out["u"][:, 0, 2].tolist() == [-2.0, 0.0, 2.0] * 2


@pytest.mark.parametrize(("code", "kwargs", "message"), [
    ("w", {}, "no input 'w'"),
    ("c", {}, "number of classes"),
    ("u", {"classes": 10}, "continuous"),
    ("u", {"dim": 2}, r"dim must be in 0\.\.1"),
    ("u", {"steps": 1}, "at least 2 steps"),
])
def test_code_traversal_rejects_bad_arguments(rows, code, kwargs, message):
    with pytest.raises(ValueError, match=message):
        code_traversal(rows, code, **kwargs)


def test_code_traversal_needs_one_row_count(rows):
    with pytest.raises(ValueError, match="different numbers of samples"):
        code_traversal({**rows, "z": rows["z"][:2]}, "c", classes=10)
