"""The translation evaluator: L1 / PSNR / SSIM of G(A) against B on held-out pairs (the test
or val split of a folder layout that has one), and `label_kept`
(the share of translations a classifier trained only on the target domain labels as the
source image's label) where the data carries labels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ganbuilder.errors import UserError
from ganbuilder.evaluate.classifier import Classifier, digit_classifier
from ganbuilder.evaluate.draw import latent, run
from ganbuilder.evaluate.images import label_kept, paired_metrics
from ganbuilder.evaluate.registry import Job, evaluator
from ganbuilder.evaluate.ssim import ssim
from ganbuilder.spec import Spec

MAX_DOMAIN_IMAGES = 5000  # training images read per domain for a target-domain classifier
_SHORT = {"AtoB": "AB", "BtoA": "BA"}


def _schema(cfg: dict) -> dict:
    from ganbuilder.data.registry import source_def

    return source_def(cfg).schema


def _test_phase(cfg: dict, base_dir: Path) -> str | None:
    """`test` or `val` where a folder layout with phases has that split (root/test/,
    root/testA/ and root/testB/, or A/test/ and B/test/), else None."""
    from ganbuilder.data.registry import resolve_path

    if "phase" not in _schema(cfg) or not cfg.get("root"):
        return None
    root = resolve_path(cfg["root"], base_dir)
    for phase in ("test", "val"):
        if ((root / phase).is_dir() or all((root / f"{phase}{s}").is_dir() for s in "AB")
                or all((root / s / phase).is_dir() for s in "AB")):
            return phase
    return None


def _open(cfg: dict, split: str | None, base_dir: Path):
    from ganbuilder.data import open_source

    cfg = dict(cfg)
    if split is not None and "split" in _schema(cfg):
        cfg["split"] = split
    elif split == "test" and (phase := _test_phase(cfg, base_dir)):
        cfg["phase"] = phase
    return open_source(cfg, base_dir)


def _domain(source, side: str, limit: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Every image of one side (`A` or `B`) of a translation source, without augmentation,
    and its labels (None without labels)."""
    from ganbuilder.data.twodomain import TwoDomainSource

    if isinstance(source, TwoDomainSource):
        size = min(source.size_A if side == "A" else source.size_B, limit)
        own = torch.arange(size)
        other_size = source.size_B if side == "A" else source.size_A
        pair = (own, own % other_size) if side == "A" else (own % other_size, own)
        batch = source.domain_batch(*pair, None)
    else:
        batch = source.batch(torch.arange(min(len(source), limit)), None)
    labels = batch.get(f"label_{side}", batch.get("label"))
    return batch[f"real_{side}"].float(), labels


def _domain_classifier(spec: Spec, cfg: dict, side: str) -> Classifier | None:
    """A classifier trained only on one domain's training images, held out on its test split."""
    train_images, train_labels = _domain(_open(cfg, "train", spec.base_dir), side,
                                         MAX_DOMAIN_IMAGES)
    if train_labels is None:
        return None
    test_images = test_labels = None
    if "split" in _schema(cfg):
        test_images, test_labels = _domain(_open(cfg, "test", spec.base_dir), side,
                                           MAX_DOMAIN_IMAGES)
    name = f"{cfg['source']}-{cfg.get('direction', 'AtoB')}-{side}"
    size, channels = train_images.shape[-1], train_images.shape[1]
    return digit_classifier(size, channels, name, train_images, train_labels,
                            test_images, test_labels)


def translation_tensors(spec: Spec) -> dict[str, str]:
    """{"AB": tensor G_AB(real_A), "BA": tensor G_BA(real_B)}, as the analysis finds them."""
    return {_SHORT[d]: t for d, t in spec.analysis.translation.items()}


@evaluator("translation", lambda spec, data: translation_tensors(spec) or None, rank=10)
def evaluate_translation(job: Job) -> dict[str, Any]:
    """L1, PSNR (paired) and label kept (labelled data) of a translation model."""
    from ganbuilder.data.twodomain import TwoDomainSource

    spec, cfg, tensors = job.spec, job.data, job.target
    held_out = "split" in _schema(cfg) or _test_phase(cfg, spec.base_dir) is not None
    source = _open(cfg, "test", spec.base_dir)
    unpaired = isinstance(source, TwoDomainSource)
    count = min(job.n, len(source))
    batch = source.batch(torch.arange(count), None)
    device = next(job.gan.parameters()).device
    inputs = latent(spec, count, job.seed, device)
    inputs.update({k: v.to(device) for k, v in batch.items()})
    values = dict(zip(tensors, run(job.gan, inputs, list(tensors.values())), strict=True))
    out: dict[str, Any] = {"kind": "unpaired_translation" if unpaired else "paired_translation",
                           "n": count, "held_out": held_out,
                           **{f"tensor/{k}": v for k, v in tensors.items()}}
    if not unpaired and "AB" in values:
        out.update(paired_metrics(values["AB"], batch["real_B"]))
        out["ssim"] = ssim(values["AB"], batch["real_B"])
    for direction, fake in values.items():
        src, dst = direction
        labels = batch.get(f"label_{src}", batch.get("label"))
        if labels is None:
            continue
        clf = _domain_classifier(spec, cfg, dst)
        if clf is None:
            continue
        out[f"label_kept/{direction}"] = label_kept(fake, labels, clf)
        out[f"classifier_accuracy/{dst}"] = clf.accuracy
    if not any(k.startswith(("l1", "label_kept")) for k in out):
        raise UserError(f"no metric applies to '{spec.name}': unpaired translation needs labelled "
                        "data (label_A / label_B) for 'label kept'")
    return out
