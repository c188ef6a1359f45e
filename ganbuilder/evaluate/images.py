"""Metrics for generated and translated images, judged by the project's own classifiers.

Images are [N, C, H, W] floats in [-1, 1] (tensors or arrays), as generators and data sources
produce them.

- `sample_metrics` (unconditional digit generators):
  `fd`: Fréchet distance between classifier features of the samples and of held-out real digits
  ("FD in the feature space of the project's own digit classifier, not comparable to Inception
  FID"); `digit_score`: mean over samples of the classifier's largest class probability (near 1
  for clear digits, near 1/10 for noise); `entropy`: mean entropy (nats) of those class
  probabilities; `classes_covered`: number of classes holding >= 2% of the predicted labels;
  `class_kl`: KL divergence (nats) of the predicted-label histogram from uniform over the
  expected classes (0 = balanced, log K = one class only); `off_class`: share of predictions
  outside the expected classes; `class_share/<digit>`: each expected class's share of the
  predictions, so the class a generator misses or favours shows.
- `conditional_accuracy` (conditional generators): for each requested label, the share of its
  samples that the classifier recognises as that digit (`class_accuracy/<digit>`), and their mean.
- `code_purity` (InfoGAN's categorical code, learned without labels): the classifier's
  majority digit among the samples of each code value (`code_digits`, indexed by value), the
  share of samples agreeing with their value's majority digit (`code_purity`, cluster purity;
  `code_purity/<value>` per value), and how many different digits the values map to
  (`distinct_digits`; 10 when the code has found every digit).
- `paired_metrics` (paired translation): `l1` = mean |G(A) - B| on the [-1, 1] scale; `psnr` =
  mean over images of 10 log10(1 / MSE) with both images mapped to [0, 1] (capped at 100 dB).
- `label_kept` (translation with labels): the share of translated images that a classifier
  trained only on the target domain labels as the source image's label.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch

from ganbuilder.evaluate.classifier import Classifier
from ganbuilder.evaluate.frechet import frechet_distance

COVERAGE_SHARE = 0.02  # a class counts as covered with at least this share of predictions
PSNR_CAP = 100.0


def _tensor(images: Any) -> torch.Tensor:
    x = images if torch.is_tensor(images) else torch.as_tensor(np.asarray(images))
    return x.detach().float().cpu()


def class_histogram_metrics(labels: Any, expected: Iterable[int], classes: int = 10
                            ) -> dict[str, float]:
    """`classes_covered`, `class_kl` and `off_class` of predicted labels (see module doc)."""
    y = torch.as_tensor(labels).long().reshape(-1)
    expected = sorted(set(int(c) for c in expected))
    counts = torch.bincount(y, minlength=classes).double()
    n = max(1, len(y))
    covered = int((counts / n >= COVERAGE_SHARE).sum())
    inside = counts[expected]
    total = float(inside.sum())
    if total > 0:
        p = inside / total
        p = p[p > 0]
        kl = float((p * torch.log(p * len(expected))).sum())
    else:
        kl = math.log(len(expected))
    shares = {f"class_share/{c}": float(counts[c] / n) for c in expected}
    return {"classes_covered": covered, "class_kl": kl, "off_class": 1.0 - total / n, **shares}


def sample_metrics(fake: Any, classifier: Classifier, real: Any,
                   expected: Iterable[int] = range(10)) -> dict[str, float]:
    """FD against `real` (held-out real images), digit score, entropy and class coverage."""
    fake = _tensor(fake)
    probs = classifier.probabilities(fake)
    entropy = -(probs * probs.clamp_min(1e-12).log()).sum(1)
    out = {
        "fd": frechet_distance(classifier.features(fake), classifier.features(real)),
        "digit_score": float(probs.max(1).values.mean()),
        "entropy": float(entropy.mean()),
    }
    out.update(class_histogram_metrics(probs.argmax(1), expected, classifier.classes))
    return out


def conditional_accuracy(fake: Any, requested: Any, classifier: Classifier,
                         digit_of: list[int] | None = None) -> dict[str, float]:
    """Per-class accuracy of the classifier on samples generated for each requested label.

    `requested` holds the label each sample was generated for; `digit_of[label]` is the
    classifier class it should be (the identity by default).
    """
    pred = classifier.predict(_tensor(fake))
    requested = torch.as_tensor(requested).long().reshape(-1)
    target = requested if digit_of is None else torch.tensor(digit_of)[requested]
    out: dict[str, float] = {}
    for label in sorted(set(requested.tolist())):
        rows = requested == label
        name = label if digit_of is None else digit_of[label]
        out[f"class_accuracy/{name}"] = float((pred[rows] == target[rows]).float().mean())
    out["class_accuracy"] = float(np.mean(list(out.values()))) if out else float("nan")
    return out


def code_purity(fake: Any, codes: Any, classifier: Classifier) -> dict[str, Any]:
    """How well an unsupervised categorical code captures digit identity (see module doc)."""
    pred = classifier.predict(_tensor(fake))
    codes = torch.as_tensor(codes).long().reshape(-1)
    out: dict[str, Any] = {}
    digits, agree = [], 0
    for value in sorted(set(codes.tolist())):
        counts = torch.bincount(pred[codes == value], minlength=classifier.classes)
        digits.append(int(counts.argmax()))
        agree += int(counts.max())
        out[f"code_purity/{value}"] = float(counts.max() / counts.sum())
    out["code_purity"] = agree / max(1, len(codes))
    out["code_digits"] = digits
    out["distinct_digits"] = len(set(digits))
    return out


def paired_metrics(fake_B: Any, real_B: Any) -> dict[str, float]:
    """L1 ([-1, 1] scale) and PSNR ([0, 1] scale, dB) of translations against their targets."""
    fake, real = _tensor(fake_B), _tensor(real_B)
    if fake.shape != real.shape:
        raise ValueError(f"translated images {tuple(fake.shape)} and targets "
                         f"{tuple(real.shape)} differ in shape")
    l1 = (fake - real).abs().mean()
    mse = (((fake + 1) / 2 - (real + 1) / 2) ** 2).flatten(1).mean(1).double()
    psnr = (10 * torch.log10(1.0 / mse.clamp_min(10 ** (-PSNR_CAP / 10))))
    return {"l1": float(l1), "psnr": float(psnr.mean())}


def label_kept(translated: Any, source_labels: Any, target_classifier: Classifier) -> float:
    """Share of translated images the target-domain classifier labels as their source label."""
    pred = target_classifier.predict(_tensor(translated))
    labels = torch.as_tensor(source_labels).long().reshape(-1)
    return float((pred == labels).float().mean())
