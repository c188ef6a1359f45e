"""`evaluate_checkpoint`: rebuild a model from its checkpoint and run the evaluator that
applies to its spec (the first by rank in the registry)."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from ganbuilder.errors import UserError
from ganbuilder.evaluate.registry import EVALUATORS, Job

# Samples one evaluation scores at most: FID papers use 50,000; more only exhausts memory.
MAX_SAMPLES = 200_000


def evaluate_checkpoint(path: str | Path, n: int | None = None, seed: int = 0,
                        device: str = "cpu", ema: bool = True, options: dict | None = None
                        ) -> dict[str, Any]:
    """Metrics for the model in a checkpoint, from `n` samples drawn with `seed` (None: the
    evaluator's own number, 2,500 for 2D mixtures as VEEGAN and PacGAN score them; with the
    weight averages of a run with `training.ema`, unless `ema` is False); `options` go to the
    evaluator (`Job.options`)."""
    from ganbuilder.data.registry import with_defaults
    from ganbuilder.sampling import check_seed, load_model

    if n is not None and not 2 <= n <= MAX_SAMPLES:
        raise UserError(f"--n must be in 2..{MAX_SAMPLES}, got {n}")
    check_seed(seed)
    start = time.perf_counter()
    spec, gan, step = load_model(path, device, ema)
    cfg = with_defaults(spec.tree["data"])
    out: dict[str, Any] = {"checkpoint": str(path), "spec": spec.name, "step": step,
                           "source": cfg["source"], "seed": seed,
                           "weights": "ema" if ema and "ema" in spec.training else "live"}
    for entry in EVALUATORS.ranked():
        target = entry.applies(spec, cfg)
        if target is not None:
            samples = entry.samples if n is None else n
            out.update(entry.run(Job(spec, gan, cfg, samples, seed, target, options or {})))
            break
    else:
        names = ", ".join(e.name for e in EVALUATORS.ranked())
        raise UserError(
            f"no evaluation applies to '{spec.name}' (data source '{cfg['source']}'); the "
            f"evaluators ({names}) know generators on ring8/grid25/digits, image generators "
            "on image data, translation between real_A and real_B, and super-resolution")
    out["seconds"] = round(time.perf_counter() - start, 2)
    return {k: _plain(v) for k, v in out.items()}


def _plain(value: Any) -> Any:
    """JSON-able scalars: NaN and infinities become None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
