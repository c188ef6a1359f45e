"""The digits evaluators: FD in the project's digit-classifier space, class coverage, and for
conditional models per-label accuracy (cGAN, ACGAN) or code purity (InfoGAN)."""

from __future__ import annotations

from typing import Any

import torch

from ganbuilder.errors import UserError
from ganbuilder.evaluate.classifier import digit_classifier, digit_data
from ganbuilder.evaluate.draw import draw, generated
from ganbuilder.evaluate.frechet import frechet_distance
from ganbuilder.evaluate.images import code_purity, conditional_accuracy, sample_metrics
from ganbuilder.evaluate.registry import Job, evaluator
from ganbuilder.spec import Spec


def _image(spec: Spec, data: dict) -> str | None:
    if data["source"] != "digits":
        return None
    real = spec.analysis.tensor_shapes.get("real")
    return generated(spec, lambda shape: real is not None and shape == tuple(real))


def _conditional_latent(spec: Spec, tensor: str) -> tuple[str, int] | None:
    """The categorical latent that `tensor` is generated from, if any."""
    from ganbuilder.sampling import label_latent

    try:
        name, classes = label_latent(spec)
    except UserError:
        return None
    return (name, classes) if name in spec.analysis.reads(tensor) else None


def _categorical_codes(spec: Spec) -> set[str]:
    from ganbuilder.sampling import latent_codes

    return {code.name for code in latent_codes(spec) if code.categorical}


@evaluator("digits", _image, rank=30)
def evaluate_digits(job: Job) -> dict[str, Any]:
    """FD against held-out digits, digit score and class coverage of an image generator on
    `digits`; `conditional_digits` / `infogan_digits` when a categorical latent drives it."""
    spec, cfg, tensor, n = job.spec, job.data, job.target, job.n
    size, channels = cfg["image_size"], cfg["channels"]
    expected = sorted(cfg["classes"])
    clf = digit_classifier(size, channels)
    real = digit_data(size, channels)
    keep_test = torch.isin(real.test_labels, torch.tensor(expected))
    keep_train = torch.isin(real.train_labels, torch.tensor(expected))
    test_images = real.test_images[keep_test]
    out: dict[str, Any] = {"kind": "digits", "tensor": tensor, "n": n,
                           "classifier_accuracy": clf.accuracy,
                           "real_test_images": len(test_images),
                           # Whether the GAN never saw the test digits (it trained on `train`).
                           "held_out": cfg.get("split", "all") == "train"}
    conditional = _conditional_latent(spec, tensor)
    fixed = None
    if conditional is not None:
        name, classes = conditional
        requested = torch.arange(n) % classes  # balanced over the labels
        fixed = {name: requested}
    fake = draw(spec, job.gan, tensor, n, job.seed, fixed)
    out.update(sample_metrics(fake, clf, test_images, expected))
    out["fd_real"] = frechet_distance(clf.features(real.train_images[keep_train]),
                                      clf.features(test_images))
    if conditional is not None and conditional[0] in _categorical_codes(spec):
        out["kind"] = "infogan_digits"
        out["code"] = conditional[0]
        out.update(code_purity(fake, requested, clf))
    elif conditional is not None:
        out["kind"] = "conditional_digits"
        out["label"] = conditional[0]
        digit_of = [expected[i] if i < len(expected) else -1 for i in range(conditional[1])]
        out.update(conditional_accuracy(fake, requested, clf, digit_of))
    return out
