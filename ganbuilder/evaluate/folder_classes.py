"""Classifier metrics for image generators on labelled data (an ImageFolder-style folder with
class subfolders, MNIST): the project's small CNN (`ganbuilder.evaluate.classifier`) is trained
on up to MAX_IMAGES training images of the run's data and held out on its test split (a fixed
20% of the training images when there is none). It gives

- `classifier_fd`: the Fréchet distance of generated and real held-out images in that
  classifier's 64-d feature space (not comparable to Inception FID);
- `class_accuracy` (and `class_accuracy/<class>`) for a generator conditioned on a label
  latent with as many classes as the data: the share of samples generated for each label that
  the classifier recognises as that class, from samples balanced over the labels.
"""

from __future__ import annotations

from typing import Any

import torch

from ganbuilder.errors import UserError
from ganbuilder.evaluate.classifier import digit_classifier
from ganbuilder.evaluate.draw import draw
from ganbuilder.evaluate.features import evenly, open_real
from ganbuilder.evaluate.frechet import frechet_distance
from ganbuilder.evaluate.images import conditional_accuracy
from ganbuilder.evaluate.registry import Job

MAX_IMAGES = 5000  # training images read for the classifier


def _labelled(source: Any, limit: int) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Images and labels of a source (evenly spread, no augmentation), None without labels."""
    indices = torch.from_numpy(evenly(len(source), limit))
    batches = [source.batch(indices[i:i + 250], None) for i in range(0, len(indices), 250)]
    if not batches or "label" not in batches[0]:
        return None
    return (torch.cat([b["real"].float() for b in batches]),
            torch.cat([b["label"] for b in batches]))


def _label_latent(job: Job) -> tuple[str, int] | None:
    """The categorical latent the scored tensor is generated from, if any."""
    from ganbuilder.sampling import label_latent

    try:
        name, classes = label_latent(job.spec)
    except UserError:
        return None
    return (name, classes) if name in job.spec.analysis.reads(job.target) else None


def classifier_metrics(job: Job) -> dict[str, Any]:
    """The metrics above, or {} when the data carries no labels."""
    from ganbuilder.data import open_source

    train = _labelled(open_source(job.data, job.spec.base_dir), MAX_IMAGES)
    if train is None:
        return {}
    real_source, _, name, held_out = open_real(job.spec, job.data)
    test = _labelled(real_source, MAX_IMAGES) if held_out else None
    images, labels = train
    size, channels = images.shape[-1], images.shape[1]
    clf = digit_classifier(size, channels, f"folder-{name}", images, labels,
                           *(test if test is not None else (None, None)))
    out: dict[str, Any] = {
        "classifier": f"the project's CNN trained on {len(images)} images of the run's data "
                      f"({clf.classes} classes), accuracy held out on "
                      f"{'the test split' if test is not None else '20% of them'}",
        "classifier_accuracy": clf.accuracy}
    conditional = _label_latent(job)
    fixed = None
    if conditional is not None and conditional[1] == clf.classes:
        requested = torch.arange(job.n) % clf.classes
        fixed = {conditional[0]: requested}
    fake = draw(job.spec, job.gan, job.target, job.n, job.seed, fixed)
    reference = test[0] if test is not None else images
    out["classifier_fd"] = frechet_distance(clf.features(fake), clf.features(reference))
    if fixed is not None:
        out.update(conditional_accuracy(fake, requested, clf))
    return out

