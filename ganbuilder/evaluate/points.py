"""The 2D evaluator: mode coverage and high-quality share of generators on ring8 / grid25."""

from __future__ import annotations

from typing import Any

from ganbuilder.evaluate.draw import draw, generated
from ganbuilder.evaluate.registry import Job, evaluator
from ganbuilder.evaluate.toy2d import MIXTURES, SAMPLES, toy2d_metrics


def _points(spec, data: dict) -> str | None:
    if data["source"] not in MIXTURES:
        return None
    return generated(spec, lambda shape: shape == (2,))


@evaluator("toy2d", _points, rank=20, samples=SAMPLES)
def evaluate_points(job: Job) -> dict[str, Any]:
    """Modes captured (>= 10 high-quality samples each), the count at 1 and the per-mode
    histogram, and % high-quality samples of a 2D generator (VEEGAN / PacGAN protocol)."""
    fake = draw(job.spec, job.gan, job.target, job.n, job.seed)
    return {"kind": "toy2d", "tensor": job.target, "n": job.n,
            **toy2d_metrics(fake, job.data["source"])}
