"""The feature-set metrics of image generators, on any (N, F) features (Inception's in practice).

- FID (Heusel et al. 2017): the Fréchet distance of Gaussians fitted to the two sets
  (`ganbuilder.evaluate.frechet`); 0 for a set and itself. pytorch-fid's scipy sqrtm of the
  2048 x 2048 product takes a minute on a CPU; here tr((S1 S2)^(1/2)) is exact and faster:
  with fewer samples than features, S1 = A A^T and S2 = B B^T (centred features over
  sqrt(N - 1)) give tr((S1 S2)^(1/2)) = the sum of the singular values of B^T A, since the
  nonzero eigenvalues of A A^T B B^T are those of (B^T A)^T (B^T A); otherwise it is the sum of
  the square roots of the eigenvalues of S1^(1/2) S2 S1^(1/2).
- KID (Bińkowski et al. 2018): the unbiased estimator of the squared MMD with the polynomial
  kernel k(x, y) = (x.y / F + 1)^3, averaged over `subsets` random subsets of `subset_size`
  from each set (drawn without replacement, seeded), as their code and clean-fid do (100 x 1000);
  reported with the standard deviation over subsets. Unbiased: it can be slightly negative.
  A subset larger than either set is refused (`KIDSubsetError`), as torch-fidelity refuses
  it: subsets that are the whole set every time give a spread of ~1e-16 that reads as real.
- Precision and recall (Kynkäänniemi et al. 2019, k = 3): each sample's k-NN radius within its
  own set defines a ball; precision is the share of generated samples inside some real ball,
  recall the share of real samples inside some generated ball.
- Density and coverage (Naeem et al. 2020, k = 5, real balls only): density counts how many
  real balls hold each generated sample, divided by k and averaged (about 1 when the sets
  match; not bounded by 1); coverage is the share of real balls holding a generated sample.

"Inside" is strict, distance < radius, as in prdc (Naeem et al.'s code), with exact distances
where rounding could decide (`ganbuilder.evaluate.balls`): a duplicate of a real sample whose
ball has radius 0 is in no ball.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ganbuilder.evaluate.balls import inside_counts, knn_radii, nearest
from ganbuilder.evaluate.frechet import (
    frechet_from_stats,
    gaussian_stats,
    trace_sqrt_product_eig,
)

PR_K = 3
DC_K = 5
KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000


class KIDSubsetError(ValueError):
    """The KID subset size exceeds a set's sample count."""


def _matrix(features: Any) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(features, dtype=np.float64))
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"need at least 2 feature vectors shaped (N, F), got {tuple(x.shape)}")
    return x


def fid_from_stats(mu1: np.ndarray, s1: np.ndarray, mu2: np.ndarray, s2: np.ndarray
                   ) -> float:
    """FID between two feature sets given by their means and covariances."""
    return frechet_from_stats(mu1, s1, mu2, s2, trace_sqrt_product_eig)


def fid(real: Any, fake: Any) -> float:
    """FID between two (N, F) feature sets."""
    x, y = _matrix(real).numpy(), _matrix(fake).numpy()
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"feature sizes differ: {x.shape[1]} and {y.shape[1]}")
    if min(len(x), len(y)) > x.shape[1]:
        return fid_from_stats(*gaussian_stats(x), *gaussian_stats(y))
    a = (x - x.mean(0)) / np.sqrt(len(x) - 1)
    b = (y - y.mean(0)) / np.sqrt(len(y) - 1)
    diff = x.mean(0) - y.mean(0)
    root = np.linalg.svd(b @ a.T, compute_uv=False).sum()
    return max(float(diff @ diff + (a * a).sum() + (b * b).sum() - 2.0 * root), 0.0)


def polynomial_mmd(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 of two equal-sized sets with k(a, b) = (a.b / F + 1)^3."""
    m, dim = len(x), x.shape[1]
    kxx = (x @ x.T / dim + 1) ** 3
    kyy = (y @ y.T / dim + 1) ** 3
    kxy = (x @ y.T / dim + 1) ** 3
    same = (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1))
    return float(same - 2.0 * kxy.sum() / (m * m))


def kid(real: Any, fake: Any, subsets: int = KID_SUBSETS, subset_size: int = KID_SUBSET_SIZE,
        seed: int = 0) -> tuple[float, float, int]:
    """(mean, std over subsets, subset size) of the unbiased polynomial-kernel MMD^2; a
    `subset_size` above either set's count is a KIDSubsetError."""
    x, y = _matrix(real).numpy(), _matrix(fake).numpy()
    m = subset_size
    if m > min(len(x), len(y)) or m < 2:
        raise KIDSubsetError(
            f"KID's subset size {m} needs at least that many samples in each set (and at "
            f"least 2); got {len(x)} real and {len(y)} generated")
    rng = np.random.default_rng(seed)
    values = [polynomial_mmd(x[rng.choice(len(x), m, replace=False)],
                             y[rng.choice(len(y), m, replace=False)]) for _ in range(subsets)]
    return float(np.mean(values)), float(np.std(values)), m


def precision_recall(real: Any, fake: Any, k: int = PR_K) -> dict[str, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019)."""
    x, y = _matrix(real), _matrix(fake)
    precision = (inside_counts(y, x, knn_radii(x, k)) > 0).double().mean()
    recall = (inside_counts(x, y, knn_radii(y, k)) > 0).double().mean()
    return {"precision": float(precision), "recall": float(recall)}


def density_coverage(real: Any, fake: Any, k: int = DC_K) -> dict[str, float]:
    """Density and coverage (Naeem et al. 2020), from the real samples' k-NN balls."""
    x, y = _matrix(real), _matrix(fake)
    radii = knn_radii(x, k)
    density = inside_counts(y, x, radii).double().sum() / (k * len(y))
    # A real ball is covered when its nearest generated sample lies inside it.
    covered = (nearest(x, y) < radii).double().mean()
    return {"density": float(density), "coverage": float(covered)}
