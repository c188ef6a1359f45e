"""Scoring two image sets without a model: `ganbuilder evaluate --fake DIR|NPZ --real DIR|NPZ`.

Samples made elsewhere, or one real set against another, get the Inception metrics of a
checkpoint's evaluation: the same protocols, the same feature cache (a folder is read once per
protocol and weights file), the same report.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from ganbuilder.errors import UserError
from ganbuilder.evaluate.inception_images import (
    extractor_for,
    image_set,
    score_features,
    write_stats,
)
from ganbuilder.evaluate.protocols import protocol


def score_sets(fake: str | Path, real: str | Path, seed: int = 0, device: str = "cpu",
               options: dict | None = None) -> dict[str, Any]:
    """FID, KID, precision/recall and density/coverage of the `fake` set against the `real`
    one (each a folder of images or an .npz statistics file); `options` as the Inception
    evaluator's (`inception`, `protocol`, `n_real` caps both sets, `kid_subset_size`,
    `save_stats` for the real set, `progress`)."""
    from ganbuilder.device import pick_device

    opts = options or {}
    protocol(opts.get("protocol"))  # a wrong name is said before any file is looked at
    for given, flag in ((real, "--real"), (fake, "--fake")):
        path = Path(given).expanduser()
        if path.suffix.lower() == ".npz" and not path.is_file():
            raise UserError(f"{flag} {path}: no such statistics file")
        if path.suffix.lower() != ".npz" and not path.is_dir():
            raise UserError(f"{flag} {path}: no such folder (or a statistics file *.npz)")
    start = time.perf_counter()
    say = opts.get("progress") or (lambda line: None)
    extractor = extractor_for(opts, pick_device(device))
    limit = opts.get("n_real")
    say(f"real images: {real}")
    real_set = image_set(extractor, real, limit, "--real")
    if opts.get("save_stats"):
        write_stats(real_set, opts["save_stats"])
    say(f"generated images: {fake}")
    fake_set = image_set(extractor, fake, limit, "--fake")
    out: dict[str, Any] = {"kind": "inception", "fake": fake_set.description,
                           "n": fake_set.count, "real": real_set.description,
                           "n_real": real_set.count, "seed": seed, **extractor.protocol()}
    out.update(score_features(real_set, fake_set, seed, opts.get("kid_subset_size")))
    out["seconds"] = round(time.perf_counter() - start, 2)
    return {k: None if isinstance(v, float) and not math.isfinite(v) else v
            for k, v in out.items()}
