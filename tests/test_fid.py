"""The feature-set metrics pinned to known values: FID, KID, precision/recall,
density/coverage (ganbuilder.evaluate.fid)."""

import numpy as np
import pytest

from ganbuilder.evaluate.fid import (
    KIDSubsetError,
    density_coverage,
    fid,
    fid_from_stats,
    kid,
    polynomial_mmd,
    precision_recall,
)
from ganbuilder.evaluate.frechet import gaussian_stats


def exact_gaussian(n: int, mean: np.ndarray, cov: np.ndarray, seed: int) -> np.ndarray:
    """n samples whose sample mean and (N-1) covariance are exactly `mean` and `cov`."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, len(mean)))
    z -= z.mean(0)
    # Whiten to an identity sample covariance, then colour with a square root of cov.
    w, v = np.linalg.eigh(np.atleast_2d(np.cov(z, rowvar=False)))
    z = z @ v @ np.diag(w ** -0.5) @ v.T
    w, v = np.linalg.eigh(cov)
    return z @ (v * np.sqrt(w)) @ v.T + mean


@pytest.mark.parametrize("n, dim", [(200, 16), (12, 64)])  # more and fewer samples than dims
def test_fid_of_a_set_with_itself_is_zero(n, dim):
    x = np.random.default_rng(0).normal(size=(n, dim)) * 3 + 1
    assert fid(x, x) == pytest.approx(0.0, abs=1e-8)


def test_fid_of_two_gaussian_sets_is_the_closed_form():
    rng = np.random.default_rng(1)
    rotation, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    d1 = np.array([1.0, 2.0, 0.5, 3.0, 1.5, 0.2])
    d2 = np.array([2.0, 0.5, 0.5, 1.0, 4.0, 0.3])
    mu1, mu2 = rng.standard_normal(6), rng.standard_normal(6)
    # A shared eigenbasis: tr(S1 + S2 - 2 (S1 S2)^(1/2)) = sum (sqrt d1 - sqrt d2)^2.
    s1, s2 = rotation @ np.diag(d1) @ rotation.T, rotation @ np.diag(d2) @ rotation.T
    x, y = exact_gaussian(500, mu1, s1, 2), exact_gaussian(400, mu2, s2, 3)
    closed = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(d1) - np.sqrt(d2)) ** 2).sum()
    assert fid(x, y) == pytest.approx(closed, rel=1e-9)
    assert fid_from_stats(mu1, s1, mu2, s2) == pytest.approx(closed, rel=1e-9)


def test_one_dimensional_fid():
    x = exact_gaussian(50, np.zeros(1), np.eye(1), 4)
    y = exact_gaussian(60, np.array([3.0]), np.array([[4.0]]), 5)
    assert fid(x, y) == pytest.approx(3.0 ** 2 + (1.0 - 2.0) ** 2, rel=1e-9)


def test_low_rank_fid_equals_the_covariance_route_and_scipy():
    scipy_linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(6)
    x = rng.standard_normal((20, 48)) @ rng.standard_normal((48, 48))
    y = rng.standard_normal((30, 48)) * 2 + 0.5
    (mu1, s1), (mu2, s2) = gaussian_stats(x), gaussian_stats(y)
    root = scipy_linalg.sqrtm(s1 @ s2).real
    reference = ((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * root)
    assert fid(x, y) == pytest.approx(reference, rel=1e-6)
    assert fid_from_stats(mu1, s1, mu2, s2) == pytest.approx(reference, rel=1e-6)


def test_kid_is_the_unbiased_polynomial_mmd_worked_by_hand():
    # One feature, k(a, b) = (a b + 1)^3. XX off-diagonal: k(0,1) twice = 2 -> 2 / (2*1) = 1.
    # YY: k(1,2) = 27 twice -> 27. XY: k(0,1) + k(0,2) + k(1,1) + k(1,2) = 1+1+8+27 = 37,
    # times 2 / 2^2 = 18.5. MMD^2 = 1 + 27 - 18.5 = 9.5.
    x, y = np.array([[0.0], [1.0]]), np.array([[1.0], [2.0]])
    assert polynomial_mmd(x, y) == pytest.approx(9.5)
    mean, std, size = kid(x, y, subsets=5, subset_size=2)
    assert (mean, std, size) == (pytest.approx(9.5), pytest.approx(0.0), 2)


def test_kid_refuses_a_subset_larger_than_a_set():
    # As torch-fidelity: subsets of the whole set every time give a spread of ~1e-16.
    x, y = np.zeros((50, 3)), np.ones((40, 3))
    with pytest.raises(KIDSubsetError, match=r"subset size 45 .* 50 real and 40 generated"):
        kid(x, y, subset_size=45)
    assert kid(x, y, subsets=3, subset_size=40)[2] == 40


def test_kid_scales_the_kernel_by_the_feature_count():
    # Two features: a.b / 2. x = {(0,0), (2,0)}, y = {(2,0), (2,2)}.
    # XX: k = (0 + 1)^3 = 1 twice -> 1. YY: (4/2 + 1)^3 = 27 twice -> 27.
    # XY: (0+1)^3 + (0+1)^3 + (4/2+1)^3 + (4/2+1)^3 = 1 + 1 + 27 + 27 = 56 -> 2*56/4 = 28.
    x, y = np.array([[0.0, 0.0], [2.0, 0.0]]), np.array([[2.0, 0.0], [2.0, 2.0]])
    assert polynomial_mmd(x, y) == pytest.approx(1 + 27 - 28)


def test_kid_of_samples_of_one_distribution_is_near_zero_and_of_shifted_ones_positive():
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((400, 8)), rng.standard_normal((400, 8))
    same, std, size = kid(x, y, subsets=20, subset_size=100, seed=1)
    assert size == 100
    assert abs(same) < 3 * std + 1e-3
    shifted, _, _ = kid(x, y + 1.0, subsets=20, subset_size=100, seed=1)
    assert shifted > 0.1


def test_precision_and_recall_of_identical_and_of_far_apart_sets():
    x = np.random.default_rng(8).standard_normal((60, 5))
    assert precision_recall(x, x) == {"precision": 1.0, "recall": 1.0}
    assert precision_recall(x, x + 100.0) == {"precision": 0.0, "recall": 0.0}


def test_precision_counts_fake_points_inside_real_knn_balls():
    real = np.arange(10.0)[:, None]  # k=3 radius of 0 and 9 is 3, of every other point 2
    fake = np.array([[0.5], [4.0], [8.9], [11.0], [12.5], [-3.5], [20.0], [30.0]])
    # Inside: 0.5, 4.0, 8.9, 11.0 (|11 - 9| = 2 <= 3); 12.5 and -3.5 are 3.5 from the ends.
    assert precision_recall(real, fake)["precision"] == pytest.approx(4 / 8)


def test_density_and_coverage():
    x = np.random.default_rng(9).standard_normal((80, 4))
    same = density_coverage(x, x)
    assert same["coverage"] == 1.0
    assert 0.5 < same["density"] < 1.5
    assert density_coverage(x, x + 50.0) == {"density": 0.0, "coverage": 0.0}
    # Generated = the real points with x0 > 0: each covers its own ball, few of the others.
    half = x[x[:, 0] > 0]
    share = len(half) / len(x)
    assert share <= density_coverage(x, half)["coverage"] < 1.0
    assert precision_recall(x, half)["precision"] == 1.0


def test_a_point_on_a_balls_rim_or_a_duplicate_is_not_inside():
    # prdc's strict '<'. k = 1: the duplicated real points 0 and 5 have radius 0, 9 has 4.
    real = np.array([[0.0], [0.0], [5.0], [5.0], [9.0]])
    fake = np.array([[0.0], [5.0], [7.0], [12.0]])
    # 0 and 5 sit on radius-0 balls and 5 on the rim of 9's ball: only 7 and 12 are inside.
    assert precision_recall(real, fake, k=1)["precision"] == 0.5
    # One ball each for 7 and 12, over k * 4 fakes; of the five balls only 9's is covered.
    assert density_coverage(real, fake, k=1) == {"density": 0.5, "coverage": 0.2}


def test_duplicates_in_many_dimensions_are_exactly_apart_zero():
    # Large, offset features: the expansion |a|^2 + |b|^2 - 2 a.b leaves rounding noise of
    # ~1e-7 where the distance is 0, which would put duplicates inside radius-"0" balls.
    rng = np.random.default_rng(11)
    points = 1000.0 + rng.standard_normal((12, 2048)) * 0.01
    real = np.concatenate([points, points])  # each point twice: every 1-NN radius is 0
    scores = {**precision_recall(real, points, k=1), **density_coverage(real, points, k=1)}
    assert scores == {"precision": 0.0, "recall": 1.0, "density": 0.0, "coverage": 0.0}


def test_metrics_refuse_too_few_samples():
    with pytest.raises(ValueError, match="k=3"):
        precision_recall(np.zeros((3, 2)), np.zeros((10, 2)))
    with pytest.raises(ValueError, match="at least 2"):
        fid(np.zeros((1, 2)), np.zeros((5, 2)))


def test_ssim_of_an_image_with_itself_is_one_and_of_flat_images_the_closed_form():
    from ganbuilder.evaluate.ssim import C1, ssim, ssim_per_image

    x = np.random.default_rng(10).uniform(-1, 1, (3, 3, 20, 20))
    assert ssim(x, x) == pytest.approx(1.0, abs=1e-12)
    # Flat images: no variance, so SSIM = (2ab + C1) / (a^2 + b^2 + C1) on the [0, 1] scale.
    a, b = np.full((1, 1, 16, 16), 0.0), np.full((1, 1, 16, 16), 0.5)  # 0.5 and 0.75
    expected = (2 * 0.5 * 0.75 + C1) / (0.5 ** 2 + 0.75 ** 2 + C1)
    assert float(ssim_per_image(a, b)[0]) == pytest.approx(expected, rel=1e-12)
    # Inverted structure scores far below noise added to the same image.
    assert ssim(x, -x) < ssim(x, np.clip(x + 0.1, -1, 1)) < 1.0
    assert ssim(x[..., :8, :8], x[..., :8, :8]) == pytest.approx(1.0)  # smaller than 11x11


def test_paired_translation_on_a_users_folders_uses_the_test_split(tmp_path, monkeypatch):
    from PIL import Image

    from ganbuilder.cli import main
    from ganbuilder.evaluate import evaluate_checkpoint

    monkeypatch.setenv("GANBUILDER_CACHE", str(tmp_path / "cache"))
    rng = np.random.default_rng(11)
    for phase, count in (("train", 4), ("test", 3)):
        for side in "AB":
            (tmp_path / "pairs" / side / phase).mkdir(parents=True)
        for i in range(count):
            a = rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)
            Image.fromarray(a).save(tmp_path / "pairs" / "A" / phase / f"{i}.png")
            Image.fromarray(255 - a).save(tmp_path / "pairs" / "B" / phase / f"{i}.png")
    run = tmp_path / "run"
    assert main(["run", "specs/pix2pix.yaml", "--set", "params.ngf=4", "--set", "params.ndf=4",
                 "--set", "data.source=paired", "--set", f"data.root={tmp_path / 'pairs'}",
                 "--set", "data.batch_size=2", "--steps", "1", "--out", str(run),
                 "--quiet"]) == 0
    result = evaluate_checkpoint(run / "checkpoints" / "last.pt", n=10)
    assert result["kind"] == "paired_translation"
    assert result["held_out"] is True and result["n"] == 3  # the three test pairs
    assert -1 <= result["ssim"] <= 1 and result["psnr"] > 0
