"""The Inception evaluator: FID, KID, precision/recall and density/coverage of an image
generator trained on image data (a folder, MNIST files, any source whose `real` is an image),
against real images (`--real DIR` or a statistics file, else the run's own data, its test split
where the layout has one); on labelled data also the classifier metrics of `folder_classes`.

`Job.options` (all optional): `inception` (weights path; else $GANBUILDER_INCEPTION, else
torch's hub cache), `protocol` (`clean`, the default, or `pytorch-fid`:
`ganbuilder.evaluate.protocols`), `real` (a folder of images or an .npz statistics file),
`n_real` (at most this many real images, spread evenly over the set; default: all, as both
protocols' projects score), `kid_subset_size` (default 1000), `save_stats` (write the real
set's statistics there), `progress` (a callable given one line of text per batch).
`score_features` computes the scores of two feature sets; `ganbuilder.evaluate.sets` uses it
for two image sets without a model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ganbuilder.errors import UserError
from ganbuilder.evaluate.draw import CHUNK, generated, latent, run
from ganbuilder.evaluate.features import (
    Extractor,
    RealFeatures,
    data_features,
    folder_features,
    from_features,
    load_stats,
    save_stats,
    to_uint8,
)
from ganbuilder.evaluate.fid import (
    DC_K,
    KID_SUBSET_SIZE,
    KID_SUBSETS,
    PR_K,
    KIDSubsetError,
    density_coverage,
    fid,
    fid_from_stats,
    kid,
    precision_recall,
)
from ganbuilder.evaluate.folder_classes import classifier_metrics
from ganbuilder.evaluate.inception import find_weights
from ganbuilder.evaluate.protocols import protocol
from ganbuilder.evaluate.registry import Job, evaluator
from ganbuilder.evaluate.toy2d import MIXTURES
from ganbuilder.spec import Spec

# Digits have their own evaluator: Inception features of 8x8 digits say little.
_OWN_EVALUATOR = {"digits", *MIXTURES}


def _image_generator(spec: Spec, data: dict) -> str | None:
    if data["source"] in _OWN_EVALUATOR:
        return None
    real = spec.analysis.tensor_shapes.get("real")
    if real is None or len(real) != 3 or real[0] not in (1, 3):
        return None
    return generated(spec, lambda shape: shape == tuple(real))


def extractor_for(options: dict, device: Any) -> Extractor:
    """The Inception network the options name, under their protocol."""
    return Extractor(find_weights(options.get("inception")), device,
                     protocol(options.get("protocol")))


def image_set(extractor: Extractor, path: str | Path, limit: int | None, flag: str
              ) -> RealFeatures:
    """A folder of images (features cached) or an .npz statistics file."""
    path = Path(path).expanduser()
    if path.suffix.lower() == ".npz":
        return load_stats(path)
    return folder_features(extractor, path, limit, flag)


def real_features(job: Job, extractor: Extractor) -> RealFeatures:
    """The real set the options name, or the run's own data."""
    opts = job.options
    limit = opts.get("n_real")
    if opts.get("real") is not None:
        return image_set(extractor, opts["real"], limit, "--real")
    return data_features(extractor, job.spec, job.data, limit)


def write_stats(real: RealFeatures, target: str | Path) -> None:
    """`--save-stats`: the real set's statistics file, or a UserError saying why not."""
    target = Path(target).expanduser()
    try:
        save_stats(real, target)
    except OSError as exc:
        raise UserError(f"--save-stats {target}: cannot write ({exc.strerror or exc})"
                        ) from None


def fake_batches(job: Job) -> Iterator[np.ndarray]:
    """The generator's samples, CHUNK at a time, as uint8 images."""
    device = next(job.gan.parameters()).device
    inputs = latent(job.spec, job.n, job.seed, device)
    for i in range(0, job.n, CHUNK):
        chunk = {k: v[i:i + CHUNK] for k, v in inputs.items()}
        yield to_uint8(run(job.gan, chunk, [job.target])[0])


def score_features(real: RealFeatures, fake: RealFeatures, seed: int,
                   kid_subset_size: int | None = None) -> dict[str, Any]:
    """FID, and with features on both sides KID, precision/recall and density/coverage; what
    cannot be computed is said in `note`."""
    out: dict[str, Any] = {}
    notes = []
    if real.features is None or fake.features is None:
        out["fid"] = fid_from_stats(real.mu, real.sigma, fake.mu, fake.sigma)
        out["note"] = ("KID, precision/recall and density/coverage need features; a "
                       "statistics file of pytorch-fid's holds only mu and sigma")
        return out
    out["fid"] = fid(real.features, fake.features)
    size = kid_subset_size or KID_SUBSET_SIZE
    out.update({"kid_subsets": KID_SUBSETS, "kid_subset_size": size, "pr_k": PR_K,
                "dc_k": DC_K})
    try:
        mean, std, _ = kid(real.features, fake.features, KID_SUBSETS, size, seed)
        out.update({"kid": mean, "kid_std": std})
    except KIDSubsetError as exc:
        notes.append(f"no KID: {exc} (--kid-subset-size sets a smaller one)")
    if min(len(fake.features), len(real.features)) > DC_K:
        out.update(precision_recall(real.features, fake.features, PR_K))
        out.update(density_coverage(real.features, fake.features, DC_K))
    else:
        notes.append(f"precision/recall and density/coverage need more than {DC_K} images "
                     "in each set")
    if notes:
        out["note"] = "; ".join(notes)
    return out


@evaluator("inception", _image_generator, rank=40)
def evaluate_inception(job: Job) -> dict[str, Any]:
    """FID, KID, precision/recall (k=3), density/coverage (k=5) in Inception-v3 features
    against real images; needs the FID Inception weights file (never downloaded)."""
    opts = job.options
    say: Callable[[str], None] = opts.get("progress") or (lambda line: None)
    device = next(job.gan.parameters()).device
    extractor = extractor_for(opts, device)
    say(f"real images: {opts.get('real') or 'the run data'}")
    real = real_features(job, extractor)
    if opts.get("save_stats"):
        write_stats(real, opts["save_stats"])
    fake = from_features(f"{job.n} samples of '{job.target}'", extractor.features(
        fake_batches(job), lambda done: say(f"generated images: {done}/{job.n}")))
    out: dict[str, Any] = {"kind": "inception", "tensor": job.target, "n": job.n,
                           "real": real.description, "n_real": real.count,
                           **extractor.protocol()}
    return {**out, **score_features(real, fake, job.seed, opts.get("kid_subset_size")),
            **classifier_metrics(job)}
