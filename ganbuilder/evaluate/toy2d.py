"""Mode coverage and sample quality for the 2D Gaussian mixtures `ring8` and `grid25`.

The convention of VEEGAN (Srivastava et al., "VEEGAN: Reducing Mode Collapse in GANs using
Implicit Variational Learning", NeurIPS 2017, Sec. 5.1), used since by PacGAN (Lin et al. 2018)
and others for the ring and grid mixtures that Unrolled GAN (Metz et al., ICLR 2017) made
standard:

- a generated sample is *high quality* (HQ) if it lies within 3 standard deviations (Euclidean
  distance <= 3 * std) of the mean of its nearest mixture component;
- a mode is *covered* ("captured") when at least `MIN_COUNT` = 10 of the HQ samples have it as
  their nearest mode, out of `SAMPLES` = 2,500 generated points (the PacGAN protocol, Lin et al.
  2018, Sec. 5). The count at a threshold of 1 (VEEGAN's looser reading) and the per-mode
  histogram of HQ samples are reported too, so a barely-touched mode or an imbalance shows.

Mode means and the component std are read from the data source definitions in
`ganbuilder.data.toy2d`, so they cannot drift from the data the models were trained on.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def mixture(source: str) -> tuple[np.ndarray, float]:
    """(means [K, 2], std) of a toy mixture source, `ring8` or `grid25`."""
    from ganbuilder.data import SOURCES, toy2d

    if source not in MIXTURES:
        raise ValueError(f"no mode metrics for data source '{source}'; "
                         f"known: {', '.join(MIXTURES)}")
    opener = SOURCES.get(source).open
    keywords = getattr(opener, "keywords", None) or {}
    means = keywords.get("means", getattr(toy2d, MIXTURES[source][0]))
    std = keywords.get("std", MIXTURES[source][1])
    return np.asarray(means, dtype=np.float64), float(std)


# Fallbacks, only used if a source stops being a functools.partial over open_mixture.
MIXTURES = {"ring8": ("RING8_MEANS", 0.01), "grid25": ("GRID25_MEANS", 0.05)}


SAMPLES = 2500  # generated points scored by default (VEEGAN, PacGAN)
MIN_COUNT = 10  # HQ samples a mode needs to count as captured (PacGAN)


def mode_metrics(points: Any, means: Any, std: float, min_count: int = MIN_COUNT,
                 prefix: str = "") -> dict[str, Any]:
    """Mode coverage and quality of [N, 2] generated points against a Gaussian mixture.

    Returns `modes_covered` (modes with >= min_count HQ samples), `modes_covered_at_1` (with
    at least one), `modes_total`, `min_count`, `mode_counts` (HQ samples per mode, in the
    mixture's order), `high_quality` (percentage of HQ samples, 0..100) and `mode_kl` (KL
    divergence of the HQ samples' mode histogram from uniform; 0 when HQ samples spread
    evenly, log K when they all sit on one mode, NaN with no HQ samples).
    """
    if hasattr(points, "detach"):
        points = points.detach().cpu().numpy()
    x = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    mu = np.asarray(means, dtype=np.float64)
    dist = np.linalg.norm(x[:, None, :] - mu[None, :, :], axis=2)  # [N, K]
    nearest = dist.argmin(1)
    hq = dist[np.arange(len(x)), nearest] <= 3.0 * std
    counts = np.bincount(nearest[hq], minlength=len(mu))
    total = counts.sum()
    if total:
        p = counts / total
        nz = p > 0
        kl = float((p[nz] * np.log(p[nz] * len(mu))).sum())
    else:
        kl = float("nan")
    return {
        f"{prefix}modes_covered": int((counts >= min_count).sum()),
        f"{prefix}modes_covered_at_1": int((counts >= 1).sum()),
        f"{prefix}modes_total": len(mu),
        f"{prefix}min_count": min_count,
        f"{prefix}mode_counts": [int(c) for c in counts],
        f"{prefix}high_quality": float(100.0 * hq.mean()) if len(x) else float("nan"),
        f"{prefix}mode_kl": kl,
    }


def toy2d_metrics(points: Any, source: str, min_count: int = MIN_COUNT) -> dict[str, Any]:
    """`mode_metrics` against the `ring8` or `grid25` source's own means and std."""
    means, std = mixture(source)
    return mode_metrics(points, means, std, min_count)
