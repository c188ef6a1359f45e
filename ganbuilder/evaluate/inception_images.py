"""The Inception evaluator: FID, KID, precision/recall and density/coverage of an image
generator trained on image data (a folder, MNIST files, any source whose `real` is an image),
against real images (`--real DIR` or a statistics file, else the run's own data, its test split
where the layout has one); on labelled data also the classifier metrics of `folder_classes`.

`Job.options` (all optional): `inception` (weights path; else $GANBUILDER_INCEPTION, else
torch's hub cache), `real` (a folder of images or an .npz statistics file), `n_real` (at most
this many real images, spread evenly over the set; default 10000), `save_stats` (write the real
set's statistics there), `progress` (a callable given one line of text per batch).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ganbuilder.evaluate.draw import CHUNK, generated, latent, run
from ganbuilder.evaluate.features import (
    Extractor,
    RealFeatures,
    data_features,
    folder_features,
    load_stats,
    save_stats,
    to_uint8,
)
from ganbuilder.evaluate.fid import (
    DC_K,
    KID_SUBSET_SIZE,
    KID_SUBSETS,
    PR_K,
    density_coverage,
    fid,
    fid_from_stats,
    kid,
    precision_recall,
)
from ganbuilder.evaluate.folder_classes import classifier_metrics
from ganbuilder.evaluate.frechet import gaussian_stats
from ganbuilder.evaluate.inception import find_weights
from ganbuilder.evaluate.registry import Job, evaluator
from ganbuilder.evaluate.toy2d import MIXTURES
from ganbuilder.spec import Spec

N_REAL = 10000
# Digits have their own evaluator: Inception features of 8x8 digits say little.
_OWN_EVALUATOR = {"digits", *MIXTURES}


def _image_generator(spec: Spec, data: dict) -> str | None:
    if data["source"] in _OWN_EVALUATOR:
        return None
    real = spec.analysis.tensor_shapes.get("real")
    if real is None or len(real) != 3 or real[0] not in (1, 3):
        return None
    return generated(spec, lambda shape: shape == tuple(real))


def real_features(job: Job, extractor: Extractor) -> RealFeatures:
    """The real set the options name, or the run's own data."""
    opts = job.options
    limit = int(opts.get("n_real") or N_REAL)
    real = opts.get("real")
    if real is not None:
        real = Path(real).expanduser()
        if real.suffix.lower() == ".npz":
            return load_stats(real)
        return folder_features(extractor, real, limit)
    return data_features(extractor, job.spec, job.data, limit)


def fake_batches(job: Job) -> Iterator[np.ndarray]:
    """The generator's samples, CHUNK at a time, as uint8 images."""
    device = next(job.gan.parameters()).device
    inputs = latent(job.spec, job.n, job.seed, device)
    for i in range(0, job.n, CHUNK):
        chunk = {k: v[i:i + CHUNK] for k, v in inputs.items()}
        yield to_uint8(run(job.gan, chunk, [job.target])[0])


@evaluator("inception", _image_generator, rank=40)
def evaluate_inception(job: Job) -> dict[str, Any]:
    """FID, KID, precision/recall (k=3), density/coverage (k=5) in Inception-v3 features
    against real images; needs the FID Inception weights file (never downloaded)."""
    opts = job.options
    say: Callable[[str], None] = opts.get("progress") or (lambda line: None)
    device = next(job.gan.parameters()).device
    extractor = Extractor(find_weights(opts.get("inception")), device)
    say(f"real images: {opts.get('real') or 'the run data'}")
    real = real_features(job, extractor)
    if opts.get("save_stats"):
        save_stats(real, Path(opts["save_stats"]).expanduser())  # checked by the command
    fake = extractor.features(fake_batches(job),
                              lambda done: say(f"generated images: {done}/{job.n}"))
    out: dict[str, Any] = {"kind": "inception", "tensor": job.target, "n": job.n,
                           "real": real.description, "n_real": real.count,
                           **extractor.protocol()}
    if real.features is None:
        out["fid"] = fid_from_stats(real.mu, real.sigma, *gaussian_stats(fake))
        out["note"] = ("KID, precision/recall and density/coverage need real features; the "
                       "statistics file holds only mu and sigma")
        return {**out, **classifier_metrics(job)}
    out["fid"] = fid(real.features, fake)
    mean, std, size = kid(real.features, fake, KID_SUBSETS, KID_SUBSET_SIZE, job.seed)
    out.update({"kid": mean, "kid_std": std, "kid_subsets": KID_SUBSETS,
                "kid_subset_size": size, "pr_k": PR_K, "dc_k": DC_K})
    if min(len(fake), len(real.features)) > DC_K:
        out.update(precision_recall(real.features, fake, PR_K))
        out.update(density_coverage(real.features, fake, DC_K))
    else:
        out["note"] = (f"precision/recall and density/coverage need more than {DC_K} images "
                       "in each set")
    return {**out, **classifier_metrics(job)}
