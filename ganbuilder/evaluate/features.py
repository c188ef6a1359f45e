"""Inception features of image sets: extraction under a protocol, and image sets with a cache.

How an image becomes an Inception input, and which files of a folder count, is the protocol's
(`ganbuilder.evaluate.protocols`: `clean`, clean-fid's, by default; `pytorch-fid`). Generated
images are first quantised to uint8 ([-1, 1] -> round((x + 1) * 127.5)), as a saved PNG would
be, so that a model's samples and the same samples saved to a folder score alike. Grey images
are repeated to three channels. The Inception network itself never resizes.

Image sets come from a folder (images used at their own size), a saved statistics file
(`.npz` with `mu` and `sigma`, as pytorch-fid's `--save-stats` writes, and `features` when
ganbuilder wrote it), or a run's own data section at the training resolution (its test split
where the layout has one). Features of a folder or a run's data are cached under
`$GANBUILDER_CACHE/inception/` (default `~/.cache/ganbuilder/`), named by the folder and a
sha256 over the image content, the weights file and the protocol.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganbuilder.errors import UserError
from ganbuilder.evaluate.inception import (
    STANDARD_SHA256_PREFIX,
    WEIGHTS_NAME,
    file_sha256,
    load_inception,
)
from ganbuilder.evaluate.protocols import DEFAULT, PROTOCOLS, Protocol
from ganbuilder.files import write_file

INPUT_SIZE = 299
BATCH = 25  # images per Inception forward pass
VERSION = 2  # bump when preprocessing changes: cached features are recomputed


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """[-1, 1] float images [N, C, H, W] (C = 1 or 3) -> uint8 [N, H, W, 3]."""
    from ganbuilder.runs.grid import to_uint8 as grid_uint8

    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise UserError(f"Inception features need images shaped [N, 1 or 3, H, W], got "
                        f"{tuple(images.shape)}")
    return grid_uint8(images.detach().float().cpu().numpy())


class Extractor:
    """The Inception network of one weights file on one device, under one protocol."""

    def __init__(self, weights: Path, device: str | torch.device = "cpu",
                 protocol: Protocol | None = None):
        self.weights = weights
        self.method = protocol or PROTOCOLS.get(DEFAULT)
        self.sha256 = file_sha256(weights)
        self.standard = self.sha256.startswith(STANDARD_SHA256_PREFIX)
        self.device = torch.device(device)
        self.net = load_inception(weights).to(self.device)
        self.size = INPUT_SIZE

    def protocol(self) -> dict[str, Any]:
        """What a score computed with these features depends on."""
        weights = (f"{WEIGHTS_NAME} (standard)" if self.standard else
                   f"{self.weights.name} (sha256 {self.sha256[:8]}, NOT the standard "
                   f"{WEIGHTS_NAME}: scores are not comparable with published ones)")
        return {"protocol": self.method.name, "features": "inception-v3 pool3 (2048-d)",
                "inception_weights": weights,
                "preprocess": self.method.preprocess.format(size=self.size),
                "listing": self.method.listing, "compares_with": self.method.compares_with}

    def key(self) -> str:
        """What cached features depend on besides the images."""
        return f"{self.sha256}-{self.size}-{self.method.name}-v{VERSION}"

    def features(self, batches: Iterable[np.ndarray | list[np.ndarray]],
                 progress: Callable[[int], None] | None = None) -> np.ndarray:
        """[N, 2048] float64 features of batches of uint8 H x W x 3 images (any sizes)."""
        out, done = [], 0
        for batch in batches:
            for i in range(0, len(batch), BATCH):
                part = batch[i:i + BATCH]
                x = self.method.inputs(list(part), self.size)
                with torch.no_grad():
                    f = self.net(x.to(self.device))
                out.append(f.double().cpu().numpy())
                done += len(part)
                if progress is not None:
                    progress(done)
        if not out:
            raise UserError("no images to compute Inception features of")
        return np.concatenate(out)


@dataclass
class RealFeatures:
    """Features (None when only a statistics file's mu/sigma are known) of a real set."""

    description: str
    count: int
    mu: np.ndarray
    sigma: np.ndarray
    features: np.ndarray | None


def from_features(description: str, features: np.ndarray) -> RealFeatures:
    from ganbuilder.evaluate.frechet import gaussian_stats

    mu, sigma = gaussian_stats(features)
    return RealFeatures(description, len(features), mu, sigma, features)


def save_stats(real: RealFeatures, path: Path) -> Path:
    """pytorch-fid's statistics file (`mu`, `sigma`), plus `features` for KID and P/R,
    written whole or not at all."""
    arrays = {"mu": real.mu, "sigma": real.sigma}
    if real.features is not None:
        arrays["features"] = real.features.astype(np.float32)
    return write_file(path, lambda f: np.savez(f, **arrays))


def load_stats(path: Path) -> RealFeatures:
    """A statistics file: pytorch-fid's (mu, sigma) or ganbuilder's (with features)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: not a readable statistics file (.npz): {exc}") from None
    if "mu" not in arrays or "sigma" not in arrays:
        raise UserError(f"{path}: a statistics file holds 'mu' and 'sigma' (pytorch-fid's "
                        f"--save-stats); this one has {sorted(arrays)}")
    feats = arrays.get("features")
    mu, sigma = arrays["mu"].astype(np.float64), arrays["sigma"].astype(np.float64)
    if mu.shape != (2048,) or sigma.shape != (2048, 2048):
        raise UserError(f"{path}: mu {mu.shape} and sigma {sigma.shape} are not 2048-d "
                        "Inception statistics")
    count = len(feats) if feats is not None else 0
    return RealFeatures(f"statistics file {path}", count, mu, sigma,
                        None if feats is None else feats.astype(np.float64))


def cache_dir() -> Path:
    root = os.environ.get("GANBUILDER_CACHE")
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "ganbuilder"
    return base / "inception"


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:60] or "data"


def cached(extractor: Extractor, name: str, digest: str, description: str,
           compute: Callable[[], np.ndarray]) -> RealFeatures:
    """Real features from the cache file of (`name`, content `digest`, extractor), else
    computed and stored; a damaged cache file is recomputed."""
    key = hashlib.sha256(f"{digest}-{extractor.key()}".encode()).hexdigest()[:20]
    path = cache_dir() / f"{_safe(name)}-{key}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as data:
                return from_features(description, data["features"].astype(np.float64))
        except (OSError, ValueError, KeyError):
            pass
    features = compute()
    # A cache that cannot be written only costs the next evaluation the time.
    with contextlib.suppress(UserError):
        write_file(path, lambda f: np.savez(f, features=features.astype(np.float32)))
    return from_features(description, features.astype(np.float32).astype(np.float64))


def evenly(count: int, limit: int | None) -> np.ndarray:
    """At most `limit` (None: all) indices spread evenly over range(count) (class folders
    stay mixed)."""
    if limit is None or count <= limit:
        return np.arange(count)
    return np.unique(np.linspace(0, count - 1, limit).round().astype(np.int64))


def folder_features(extractor: Extractor, folder: Path, limit: int | None,
                    flag: str = "--real") -> RealFeatures:
    """Features of the images the protocol lists in `folder` (at most `limit`, spread evenly;
    None: all), each used at its own size; `flag` names the folder in messages."""
    from ganbuilder.data.imagefiles import read_image

    if not folder.is_dir():
        raise UserError(f"{flag} {folder}: no such folder (or a statistics file *.npz)")
    found = extractor.method.list_images(folder)
    if len(found) < 2:
        raise UserError(f"{flag} {folder}: found {len(found)} image(s) "
                        f"({extractor.method.listing}); the metrics need at least 2")
    files = [found[i] for i in evenly(len(found), limit)]
    digest = hashlib.sha256()
    for f in files:
        digest.update(str(f.relative_to(folder)).encode())
        digest.update(file_sha256(f).encode())

    def batches() -> Iterator[list[np.ndarray]]:
        for i in range(0, len(files), BATCH):
            yield [_uint8_rgb(read_image(f, flag)) for f in files[i:i + BATCH]]

    of = f" of {len(found)}" if len(files) < len(found) else ""
    return cached(extractor, folder.name, digest.hexdigest(),
                  f"{len(files)}{of} images in {folder}", lambda: extractor.features(batches()))


def _uint8_rgb(image: Any) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def data_features(extractor: Extractor, spec: Any, cfg: dict, limit: int | None
                  ) -> RealFeatures:
    """Features of the run's own data (its test split where the layout has one), at the
    training resolution, without augmentation (at most `limit` images; None: all)."""
    source, where, name, _ = open_real(spec, cfg)
    indices = evenly(len(source), limit)
    if len(indices) < 2:
        raise UserError(f"the run's data ({where}) holds {len(indices)} image(s); FID needs 2")
    images = [to_uint8(source.batch(torch.from_numpy(indices[i:i + BATCH]), None)["real"])
              for i in range(0, len(indices), BATCH)]
    digest = hashlib.sha256()
    for batch in images:
        digest.update(np.ascontiguousarray(batch).tobytes())
    return cached(extractor, name, digest.hexdigest(), f"{len(indices)} images of {where}",
                  lambda: extractor.features(images))


def open_real(spec: Any, cfg: dict) -> tuple[Any, str, str, bool]:
    """The data source of real images to compare with, a description, a name for its cache
    file, and whether it is held out: the source's `held_out` keys (its test split) where its
    entry has them; where its first path key names a train/ folder, a sibling test/ or val/;
    else the training images."""
    from ganbuilder.data import open_source
    from ganbuilder.data.folder import has_images
    from ganbuilder.data.registry import resolve_path, source_def

    cfg = dict(cfg)
    src = source_def(cfg)
    where = f"data source '{cfg['source']}'"
    held_out = False
    key = next((k for k in src.path_keys if cfg.get(k)), None)
    if src.held_out:
        cfg.update(src.held_out)
        held_out = True
        where += ", " + ", ".join(f"{k} {v}" for k, v in src.held_out.items())
    elif key is not None:
        root = resolve_path(cfg[key], spec.base_dir)
        where = f"{root}"
        if root.name.lower() in ("train", "training"):
            for name in ("test", "val", "valid", "validation"):
                sibling = root.parent / name
                if sibling.is_dir() and has_images(sibling):
                    cfg[key], where = str(sibling), f"{sibling} (the held-out split)"
                    held_out = True
                    break
        if not held_out:
            where += " (the training images: no test/ or val/ beside it)"
    name = Path(str(cfg.get(key) if key else cfg["source"])).name
    if cfg.get("split"):
        name += f"-{cfg['split']}"
    return open_source(cfg, spec.base_dir), where, name, held_out
