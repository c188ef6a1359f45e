"""Fréchet distance between two feature sets, each summarised by its mean and covariance.

    FD = |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2))

the squared 2-Wasserstein distance between Gaussians fitted to the two sets (Dowson & Landau
1982; Heusel et al. 2017). ganbuilder computes it in the feature space of the project's own digit
classifier (`ganbuilder.evaluate.classifier`), so it is NOT comparable to Inception FID values
in papers: compare FDs of models evaluated by the same ganbuilder version, at the same image
size and sample count (the estimate is biased upward for small sample counts).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np


def _as_array(features: Any) -> np.ndarray:
    if hasattr(features, "detach"):
        features = features.detach().cpu().numpy()
    x = np.asarray(features, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"need at least 2 feature vectors shaped (N, F), got {x.shape}")
    return x


def gaussian_stats(features: Any) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased, N-1) covariance of (N, F) features."""
    x = _as_array(features)
    return x.mean(0), np.atleast_2d(np.cov(x, rowvar=False))


def trace_sqrt_product(s1: np.ndarray, s2: np.ndarray) -> float:
    """tr((S1 S2)^(1/2)) for symmetric PSD S1, S2: scipy's sqrtm when scipy is installed,
    else `trace_sqrt_product_eig`."""
    try:
        from scipy import linalg
    except ImportError:
        return trace_sqrt_product_eig(s1, s2)
    with warnings.catch_warnings():
        # Singular products are common (dead features, N < F) and handled below.
        warnings.simplefilter("ignore")
        covmean = linalg.sqrtm(s1 @ s2)
        if not np.isfinite(covmean).all():
            # A near-singular product: nudge both diagonals, as pytorch-fid does.
            offset = np.eye(len(s1)) * 1e-6
            covmean = linalg.sqrtm((s1 + offset) @ (s2 + offset))
    if np.iscomplexobj(covmean):
        # Imaginary parts are round-off of a product whose eigenvalues are real and >= 0.
        imag = np.abs(np.diagonal(covmean).imag).max()
        if imag > 1e-3 * max(1.0, np.abs(np.diagonal(covmean).real).max()):
            return trace_sqrt_product_eig(s1, s2)
        covmean = covmean.real
    return float(np.trace(covmean))


def trace_sqrt_product_eig(s1: np.ndarray, s2: np.ndarray) -> float:
    """tr((S1 S2)^(1/2)) by eigen-decomposition: S1 S2 is similar to the symmetric PSD matrix
    S1^(1/2) S2 S1^(1/2), so the trace is the sum of the square roots of its eigenvalues."""
    w, v = np.linalg.eigh(s1)
    root = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
    inner = root @ s2 @ root
    eig = np.linalg.eigvalsh((inner + inner.T) / 2)
    return float(np.sqrt(np.clip(eig, 0.0, None)).sum())


def frechet_from_stats(mu1: np.ndarray, s1: np.ndarray, mu2: np.ndarray, s2: np.ndarray,
                       trace_sqrt: Callable[[np.ndarray, np.ndarray], float] = trace_sqrt_product
                       ) -> float:
    """FD between the Gaussians N(mu1, S1) and N(mu2, S2); never below 0. `trace_sqrt`
    computes tr((S1 S2)^(1/2)) (`trace_sqrt_product_eig` is much faster for 2048-d)."""
    diff = np.asarray(mu1, np.float64) - np.asarray(mu2, np.float64)
    s1, s2 = np.atleast_2d(s1).astype(np.float64), np.atleast_2d(s2).astype(np.float64)
    fd = float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * trace_sqrt(s1, s2))
    return max(fd, 0.0)


def frechet_distance(features1: Any, features2: Any) -> float:
    """FD between two (N, F) feature sets (numpy arrays or torch tensors).

    In ganbuilder this is "FD in the feature space of the project's own digit classifier (not
    comparable to Inception FID)".
    """
    return frechet_from_stats(*gaussian_stats(features1), *gaussian_stats(features2))
