"""Multi-domain translation (StarGAN on `digit_domains`): held-out images, each translated to
another domain drawn at random, judged by classifiers the project trains on the real images.

- `domain_accuracy`: the share of translations a domain classifier (trained on the training
  split's images, labelled by domain) assigns to the requested domain.
- `digit_kept`, where the data names each image's `digit`: the share a digit classifier
  (trained on the training split's images in every domain) reads as the source's digit.
"""

from __future__ import annotations

from typing import Any

import torch

from ganbuilder.evaluate.classifier import digit_classifier
from ganbuilder.evaluate.registry import Job, evaluator
from ganbuilder.evaluate.translation import _open
from ganbuilder.spec import Spec
from ganbuilder.translate_domain import domain_classes, domain_generator

MAX_IMAGES = 3000  # training images per classifier (600 digits in 5 looks)


def _applies(spec: Spec, data: dict) -> Any:
    """A generator of an image and a target domain index, on data with domain labels."""
    found = domain_generator(spec)
    if found is None or found.shape or spec.analysis.tensor_shapes.get("label") != ():
        return None
    return found


def _everything(source, limit: int) -> dict:
    return source.batch(torch.arange(min(len(source), limit)), None)


@evaluator("domain_translation", _applies, rank=15)
def evaluate_domains(job: Job) -> dict[str, Any]:
    """Held-out images translated to random other domains: domain accuracy, digit kept."""
    spec, cfg, found = job.spec, job.data, job.target
    classes = domain_classes(spec, found)
    train, test = _open(cfg, "train", spec.base_dir), _open(cfg, "test", spec.base_dir)
    seen, batch = _everything(train, MAX_IMAGES), _everything(test, job.n)
    real, label = batch["real"].float(), batch["label"]
    g = torch.Generator().manual_seed(job.seed)
    # Another domain than the image's own, uniformly.
    target = (label + 1 + torch.randint(classes - 1, label.shape, generator=g)) % classes
    net = job.gan.nets[found.network].eval()
    device = next(net.parameters()).device
    fakes = []
    with torch.no_grad():
        for x, c in zip(real.split(256), target.split(256), strict=True):
            args = [x.to(device), c.to(device)]
            fakes.append(net(*(args if found.image_position == 0 else args[::-1])).cpu())
    fake = torch.cat(fakes).float()
    size, channels = real.shape[-1], real.shape[1]
    name = f"{cfg['source']}-domains"
    by_domain = digit_classifier(size, channels, name, seen["real"].float(), seen["label"],
                                 real, label)
    out: dict[str, Any] = {
        "kind": "domain_translation", "n": len(real), "held_out": True,
        "domain_accuracy": float((by_domain.predict(fake) == target).float().mean()),
        "classifier_accuracy/domain": by_domain.accuracy,
    }
    if "digit" in batch:
        by_digit = digit_classifier(size, channels, f"{cfg['source']}-digits",
                                    seen["real"].float(), seen["digit"], real, batch["digit"])
        out["digit_kept"] = float((by_digit.predict(fake) == batch["digit"]).float().mean())
        out["classifier_accuracy/digit"] = by_digit.accuracy
    return out
