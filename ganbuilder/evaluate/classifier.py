"""A small CNN digit classifier the project trains itself, for judging generated digits.

Nothing is downloaded: the default classifier learns sklearn's bundled 8x8 digits (through the
`digits` data source at the requested image size and channels). Any other labelled image domain
can be learned by passing `train_images`/`train_labels` (e.g. the B domain of a translation
task, for "an independent classifier trained only on the target domain").

The network (four 3x3 conv + batch norm + ReLU layers, global average pooling to 64 features,
a linear head) sees every input resized to 16x16, so any image size works; `image_size` picks
the resolution of the training data (the GAN's). It is trained with outlier exposure (Hendrycks
et al. 2019): noise and flat images in each batch are pushed towards a uniform class
distribution, so that its largest class probability is low on images that are no digit.

Training is seeded, single-threaded, and takes a few seconds on a CPU (99.4% held-out accuracy
on the digits' test split at 8, 16, 32 and 64 pixels). Trained weights are cached under
`~/.cache/ganbuilder/classifiers/` (or `$GANBUILDER_CACHE/classifiers/`), keyed by image size,
channels, domain name, a fingerprint of the training data and `VERSION`; a cache file that
cannot be read, or that was written for other data, is silently retrained and replaced.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ganbuilder.errors import UserError
from ganbuilder.files import write_file
from ganbuilder.runs.checkpoint import quiet_load

VERSION = 2  # bump when the architecture or training recipe changes: old cache files retrain
INTERNAL_SIZE = 16  # every input is resized to this (digits hold 8x8 pixels of information)
FEATURES = 64  # width of the penultimate layer that `features` returns
HOLD_OUT = 0.2  # share held out for `accuracy` when the data has no test split
SEED = 0
EPOCHS = 5
BATCH = 64
JUNK = 16  # junk images added to each training batch
JUNK_WEIGHT = 0.25

_MEMORY: dict[str, Classifier] = {}  # classifiers already loaded or trained in this process


def cache_dir() -> Path:
    """Where trained classifiers are kept: $GANBUILDER_CACHE/classifiers, default ~/.cache/..."""
    root = os.environ.get("GANBUILDER_CACHE")
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "ganbuilder"
    return base / "classifiers"


@contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one thread: small convolutions gain little from more, and lose badly to
    oversubscription on shared cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


class _Net(nn.Module):
    def __init__(self, channels: int, classes: int):
        super().__init__()

        def block(c_in: int, c_out: int) -> list[nn.Module]:
            return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                    nn.ReLU(inplace=True)]

        self.body = nn.Sequential(
            *block(channels, 32), *block(32, 32), nn.MaxPool2d(2),  # 8x8
            *block(32, 64), nn.MaxPool2d(2),  # 4x4
            *block(64, FEATURES), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )
        self.head = nn.Sequential(nn.Dropout(0.2), nn.Linear(FEATURES, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def _as_batch(images: Any, channels: int) -> torch.Tensor:
    """[N, C, H, W] (or [N, H, W]) images in [-1, 1] -> float [N, channels, 16, 16] on CPU."""
    x = torch.as_tensor(np.asarray(images) if not torch.is_tensor(images) else images)
    x = x.detach().float().cpu()
    if x.dim() == 3:
        x = x.unsqueeze(1)
    if x.dim() != 4:
        raise ValueError(f"expected images shaped [N, C, H, W], got {tuple(x.shape)}")
    if x.shape[1] != channels:
        # Grayscale <-> RGB: average the channels, then replicate.
        x = x.mean(1, keepdim=True).expand(-1, channels, -1, -1)
    if tuple(x.shape[-2:]) != (INTERNAL_SIZE, INTERNAL_SIZE):
        shrink = x.shape[-1] > INTERNAL_SIZE or x.shape[-2] > INTERNAL_SIZE
        x = F.interpolate(x, size=(INTERNAL_SIZE, INTERNAL_SIZE), mode="bilinear",
                          align_corners=False, antialias=shrink)
    return x.clamp(-1.0, 1.0).contiguous()


class Classifier:
    """A trained classifier: `predict`, `probabilities`, `features`, and held-out `accuracy`."""

    def __init__(self, net: _Net, channels: int, image_size: int, domain: str, accuracy: float,
                 classes: int):
        self.net = net.eval()
        self.channels = channels
        self.image_size = image_size
        self.domain = domain
        self.accuracy = accuracy
        self.classes = classes

    @torch.no_grad()
    def _run(self, images: Any, part: str, chunk: int = 512) -> torch.Tensor:
        x = _as_batch(images, self.channels)
        outs = []
        with one_thread():
            for i in range(0, len(x), chunk):
                feats = self.net.body(x[i:i + chunk])
                outs.append(feats if part == "features" else self.net.head(feats))
        if not outs:
            width = FEATURES if part == "features" else self.classes
            return torch.empty(0, width)
        return torch.cat(outs)

    def logits(self, images: Any) -> torch.Tensor:
        return self._run(images, "logits")

    def probabilities(self, images: Any) -> torch.Tensor:
        """Softmax class probabilities, [N, classes]."""
        return self.logits(images).softmax(1)

    def predict(self, images: Any) -> torch.Tensor:
        """Predicted labels (int64), [N]."""
        return self.logits(images).argmax(1)

    def features(self, images: Any) -> torch.Tensor:
        """Penultimate features (after global average pooling), [N, FEATURES]."""
        return self._run(images, "features")


@dataclass(frozen=True)
class DigitSplit:
    """Digits at one image size: the classifier's training part and its held-out part."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor


def holdout_split(n: int, share: float = HOLD_OUT, seed: int = SEED
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Deterministic (train indices, test indices) holding out `share` of n items."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_test = max(1, round(n * share))
    return perm[n_test:].sort().values, perm[:n_test].sort().values


@functools.lru_cache(maxsize=8)
def digit_data(image_size: int, channels: int = 1) -> DigitSplit:
    """sklearn's digits (labels 0-9) at image_size, split into training and held-out parts.

    Uses the data source's own `split` key (train / test) when it has one; otherwise holds out
    a fixed 20% (`holdout_split`).
    """
    from ganbuilder.data import SOURCES, open_source

    cfg = {"source": "digits", "image_size": image_size, "channels": channels}

    def everything(source) -> tuple[torch.Tensor, torch.Tensor]:
        batch = source.batch(torch.arange(len(source)), None)
        return batch["real"].float(), batch["label"].long()

    if "split" in SOURCES.get("digits").schema:
        x, y = everything(open_source({**cfg, "split": "train"}, Path(".")))
        xt, yt = everything(open_source({**cfg, "split": "test"}, Path(".")))
        return DigitSplit(x, y, xt, yt)
    x, y = everything(open_source(cfg, Path(".")))
    train, test = holdout_split(len(x))
    return DigitSplit(x[train], y[train], x[test], y[test])


def _fingerprint(*tensors: torch.Tensor) -> str:
    h = hashlib.sha256()
    for t in tensors:
        h.update(str(tuple(t.shape)).encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def digit_classifier(image_size: int, channels: int = 1, domain: str = "digits",
                     train_images: Any = None, train_labels: Any = None,
                     test_images: Any = None, test_labels: Any = None) -> Classifier:
    """A trained classifier for images of `image_size` and `channels` (cached on disk).

    By default it learns sklearn's digits through the `digits` source and `accuracy` is measured
    on its held-out split. With `train_images` ([N, C, H, W] in [-1, 1]) and `train_labels`
    ([N], 0..K-1) it learns those instead, and `accuracy` is measured on `test_images` /
    `test_labels` when given, else on a fixed 20% held out of the training images; `domain`
    names the data in the cache key.
    """
    if (train_images is None) != (train_labels is None):
        raise ValueError("give both train_images and train_labels, or neither")
    if (test_images is None) != (test_labels is None):
        raise ValueError("give both test_images and test_labels, or neither")
    if train_images is None:
        split = digit_data(image_size, channels)
        x, y, xt, yt = split.train_images, split.train_labels, split.test_images, split.test_labels
    else:
        x, y = _as_tensor(train_images), _as_labels(train_labels)
        if len(x) != len(y):
            raise ValueError(f"{len(x)} train_images but {len(y)} train_labels")
        if test_images is None:
            train, test = holdout_split(len(x))
            x, y, xt, yt = x[train], y[train], x[test], y[test]
        else:
            xt, yt = _as_tensor(test_images), _as_labels(test_labels)
    if len(y) == 0:
        raise ValueError("no training images")
    classes = int(max(int(y.max()), int(yt.max()) if len(yt) else 0)) + 1
    recipe = torch.tensor([INTERNAL_SIZE, FEATURES, SEED, EPOCHS, BATCH, JUNK, JUNK_WEIGHT])
    key = (f"{_safe(domain)}-s{image_size}-c{channels}-v{VERSION}-"
           f"{_fingerprint(x, y, xt, yt, recipe)}")
    if key in _MEMORY:
        return _MEMORY[key]
    path = cache_dir() / f"{key}.pt"
    clf = _load(path, key, channels, image_size, domain, classes)
    if clf is None:
        net = _train(_as_batch(x, channels), y, classes, channels)
        clf = Classifier(net, channels, image_size, domain, 0.0, classes)
        clf.accuracy = float((clf.predict(xt) == yt).float().mean()) if len(yt) else float("nan")
        _save(path, key, clf)
    _MEMORY[key] = clf
    return clf


def _as_labels(labels: Any) -> torch.Tensor:
    y = labels if torch.is_tensor(labels) else torch.as_tensor(np.asarray(labels))
    return y.detach().long().cpu().reshape(-1)


def _as_tensor(images: Any) -> torch.Tensor:
    x = images if torch.is_tensor(images) else torch.as_tensor(np.asarray(images))
    return x.detach().float().cpu()


def _train(x: torch.Tensor, y: torch.Tensor, classes: int, channels: int) -> _Net:
    """Seeded Adam with a one-cycle schedule and +-1 pixel random shifts; leaves global RNGs."""
    with one_thread():
        return _fit(x, y, classes, channels)


def junk_images(n: int, channels: int, generator: torch.Generator) -> torch.Tensor:
    """Images that are no digit, [n, channels, 16, 16] in [-1, 1]: pixel noise, smooth noise
    at random scales and flat images, in equal parts."""
    size = INTERNAL_SIZE
    kind = torch.arange(n) % 3
    out = torch.rand(n, channels, size, size, generator=generator) * 2 - 1
    for i in range(n):
        if kind[i] == 1:
            side = int(torch.randint(2, 9, (1,), generator=generator))
            coarse = torch.randn(1, channels, side, side, generator=generator) * 1.5
            out[i] = torch.tanh(F.interpolate(coarse, size=(size, size), mode="bilinear",
                                              align_corners=False))[0]
        elif kind[i] == 2:
            out[i] = torch.rand(1, generator=generator) * 2 - 1
    return out


def _fit(x: torch.Tensor, y: torch.Tensor, classes: int, channels: int) -> _Net:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(SEED)
        gen = torch.Generator().manual_seed(SEED)
        net = _Net(channels, classes)
        steps_per_epoch = max(1, len(x) // BATCH)
        opt = torch.optim.Adam(net.parameters(), lr=3e-3, weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=3e-3, total_steps=EPOCHS * steps_per_epoch)
        padded = F.pad(x, (1, 1, 1, 1), mode="replicate")  # for +-1 pixel shifts
        net.train()
        for _ in range(EPOCHS):
            perm = torch.randperm(len(x), generator=gen)
            for b in range(steps_per_epoch):
                idx = perm[b * BATCH:(b + 1) * BATCH]
                dx, dy = torch.randint(3, (2,), generator=gen).tolist()
                batch = padded[idx, :, dy:dy + INTERNAL_SIZE, dx:dx + INTERNAL_SIZE]
                junk = junk_images(JUNK, channels, gen)
                logits = net(torch.cat([batch, junk]))
                loss = F.cross_entropy(logits[:len(idx)], y[idx])
                # Outlier exposure: junk should get a flat class distribution, so that the
                # largest class probability means "looks like a digit" (Hendrycks et al. 2019).
                loss = loss - JUNK_WEIGHT * logits[len(idx):].log_softmax(1).mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
        return net.eval()


def _load(path: Path, key: str, channels: int, image_size: int, domain: str, classes: int
          ) -> Classifier | None:
    try:
        state = quiet_load(path)
        if state["key"] != key or int(state["classes"]) != classes:
            return None
        net = _Net(channels, classes)
        net.load_state_dict(state["weights"])
        return Classifier(net, channels, image_size, domain, float(state["accuracy"]), classes)
    except Exception:  # missing, truncated, foreign or stale: retrain
        return None


def _save(path: Path, key: str, clf: Classifier) -> None:
    state = {"key": key, "classes": clf.classes, "accuracy": clf.accuracy,
             "weights": clf.net.state_dict()}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    # A read-only home (or a cache path that is a file) only costs the next run a retrain.
    with contextlib.suppress(UserError):
        write_file(path, buffer.getbuffer())
