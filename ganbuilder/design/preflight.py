"""Data pre-flight while editing: what Start would find wrong with the data, said at once.

A spec can be valid and still fail the moment training opens its data: the root folder is not
there, holds no images, holds colour images where the spec reads one channel, or holds a number
of class folders that differs from the classes the spec draws. These checks read only the file
system and one image header (no torch, no decoding of the data set), so they run after every
check of the text; each problem sits on the `data:` key that causes it.
"""

from __future__ import annotations

import os
from pathlib import Path

from ganbuilder.data.folder import class_folders, is_image
from ganbuilder.data.registry import path_keys, resolve_path, source_def, with_defaults
from ganbuilder.errors import Location, Problem
from ganbuilder.files import is_regular
from ganbuilder.spec import Spec

# Enough files seen to trust the answer; a data set of a million images is not walked.
MAX_SCANNED = 2000


def _first_image(root: Path) -> Path | None:
    seen = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if is_image(name) and not name.startswith(".") and is_regular(Path(dirpath) / name):
                return Path(dirpath) / name
            seen += 1
            if seen > MAX_SCANNED:
                return None
    return None


def _channels(image: Path) -> int | None:
    """1 for a grayscale image, 3 for colour, None when the header cannot be read."""
    try:
        from PIL import Image

        with Image.open(image) as im:
            mode = im.mode
    except (OSError, ValueError, ImportError):
        return None
    return 1 if mode in ("1", "L", "LA", "I", "I;16", "F") else 3


def _where(spec: Spec, *path: str) -> Location | None:
    for depth in range(len(path), 0, -1):
        found = spec.locations.keys.get(path[:depth])
        if found is not None:
            return found
    return spec.locations.find(path)


def preflight(spec: Spec, base_dir: Path) -> list[Problem]:
    """What would stop or mislead training when it opens `spec`'s data (relative paths start
    at `base_dir`, the spec file's folder); empty when nothing is known to be wrong."""
    data = spec.tree.get("data") or {}
    source = data.get("source")
    given = [key for key in path_keys(data) if isinstance(data.get(key), str)]
    if not given:
        return []
    try:
        cfg = with_defaults(data)
    except Exception:  # the schema check reports a bad data section; nothing to add here
        return []
    problems: list[Problem] = []
    key = given[0]
    root = resolve_path(cfg[key], Path(base_dir))

    def problem(key: str, message: str) -> None:
        problems.append(Problem(f"data.{key}", message, _where(spec, "data", key)))

    if not root.exists():
        problem(key, f"data folder not found: {root} (training would stop at Start)")
        return problems
    if not root.is_dir():
        problem(key, f"the data {key} {root} is a file, not a folder")
        return problems
    if not source_def(data).images:
        return problems
    image = _first_image(root)
    if image is None:
        problem(key, f"no images (.png, .jpg, .jpeg, .bmp, .webp) found under {root}")
        return problems
    want = cfg.get("channels")
    have = _channels(image)
    if want == 1 and have == 3:
        problem("channels", f"the images are in colour ({image.name} has 3 channels) but the "
                            "spec reads 1 channel: they would be turned grayscale; set "
                            "channels: 3 to keep the colour")
    elif want == 3 and have == 1:
        problem("channels", f"the images are grayscale ({image.name} has 1 channel) but the "
                            "spec reads 3: each would be copied into three equal channels; "
                            "set channels: 1")
    if source == "folder" and cfg.get("labels") != "none":
        problems += _class_problems(spec, cfg, root)
    return problems


def _class_problems(spec: Spec, cfg: dict, root: Path) -> list[Problem]:
    folders = [p.name for p in class_folders(root)]
    listed = cfg.get("classes")
    count = len(listed) if listed else len(folders)
    out: list[Problem] = []
    if listed and folders and sorted(listed) != sorted(folders):
        out.append(Problem("data.classes",
                           f"the spec lists classes {list(listed)} but {root} has the class "
                           f"folders {folders}", _where(spec, "data", "classes")))
    for name in _label_latents(spec):
        drawn = spec.tree["latent"][name].get("classes")
        if isinstance(drawn, int) and count and drawn != count:
            found = f"{count} classes" + (f" (folders {', '.join(folders[:6])}"
                                           f"{', …' if len(folders) > 6 else ''})"
                                           if not listed else "")
            out.append(Problem("data.root",
                               f"the data has {found} but latent '{name}' draws from {drawn}: "
                               "the labels and the drawn classes would not match",
                               _where(spec, "data", "root")))
    return out


def _label_latents(spec: Spec) -> list[str]:
    """The categorical latents that stand in for the data's labels (a cGAN's or ACGAN's y): the
    spec reads `label` as well, and no `mutual_info` term has Q recover them (an InfoGAN code
    is the model's own, whatever number of values it has)."""
    analysis = spec.analysis
    if not any("label" in analysis.reads(n) for term in analysis.terms
               for names in term.tensors.values() for n in names):
        return []
    codes = {n for term in analysis.terms if term.kind == "mutual_info"
             for n in term.tensors.get("categorical", ())}
    latent = spec.tree.get("latent") or {}
    return [name for name, cfg in latent.items() if name not in codes
            and isinstance(cfg, dict) and cfg.get("dist") == "categorical"]


__all__ = ["preflight"]
