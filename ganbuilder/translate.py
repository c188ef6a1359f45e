"""Using a trained image-to-image model on the user's images: translation (pix2pix, CycleGAN,
DiscoGAN), super-resolution (SRGAN, ESRGAN), or any model whose forward computes an image as
`NET(..., image, ...)` from one data image that a loss ties to the data (the analysis's
`image_maps`): the folder's images feed that argument and the tensor is written. The call's
other arguments are latents (drawn from `seed`) or values the caller gives (`extra`).

Nothing the user has is written over: every output name is decided and checked before the first
image is written. The output folder may not be a folder holding inputs, two inputs may not share
an output name, and an existing file is replaced only with `force`. Images go through the same
decoder and resizing as the training sources (bilinear to load_size, then a center crop).

Aligned pairs: pix2pix's data sets store A and B side by side (A left, B right), and the
`paired` source splits them. `translate` takes the half the model reads in the chosen direction
(A for AtoB, B for BtoA, swapped when the spec's data says `direction: BtoA`), as that source
does. `aligned=None` (auto) splits images exactly twice as wide as high when the model was
trained on aligned pairs: the `paired` source, unless its folder is still there and holds the
A/ and B/ layout instead. True splits every image, False none.

Sizes: images are resized to the size the network was trained on, unless `native_size`, which
feeds each image at its own size (a fully convolutional model: super-resolution of a photo);
the spec's shape rules say beforehand whether the network takes that size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganbuilder.data.imagefiles import read_image, to_tensor
from ganbuilder.data.paired import split_aligned
from ganbuilder.data.registry import resolve_path, with_defaults
from ganbuilder.errors import UserError
from ganbuilder.files import real_path, same_file, write_file
from ganbuilder.runs.grid import to_uint8
from ganbuilder.sampling import load_model
from ganbuilder.spec import Spec
from ganbuilder.spec.analysis import DIRECTIONS, ImageMap
from ganbuilder.spec.shapes import plan_network
from ganbuilder.translate_domain import domain_map
from ganbuilder.translate_files import file_maps, file_readers

_IMAGE_TYPES = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}


def find_generator(spec: Spec, direction: str) -> str:
    """The network that maps real_A to B (AtoB) or real_B to A (BtoA), as the analysis says."""
    net = spec.analysis.generator(direction)
    if net is None:
        source = DIRECTIONS[direction][0]
        raise UserError(f"model '{spec.name}' has no generator for {direction} (no forward "
                        f"tensor computed as NET({source}) that a loss ties to the other domain)")
    return net


def choose_map(spec: Spec, direction: str | None = None, tensor: str | None = None) -> ImageMap:
    """The image map `translate` applies: the forward tensor named by `tensor`; else, for an
    A<->B model, the translation in `direction` (AtoB when not given); else the one tensor a
    loss ties to a data image other than the one it reads (not an identity term); else the one
    map from a file input, a label map (translate_files.py)."""
    maps = {**file_maps(spec), **spec.analysis.image_maps}
    names = ", ".join(maps) or "none"
    if tensor is not None:
        if tensor not in maps:
            raise UserError(f"model '{spec.name}' has no image tensor '{tensor}' to write; it "
                            f"has: {names} (a forward tensor NET(image) tied to the data)")
        return maps[tensor]
    if spec.analysis.translation or direction is not None:
        direction = direction or "AtoB"
        network = find_generator(spec, direction)
        fake = spec.analysis.translation[direction]
        source, target = DIRECTIONS[direction]
        return maps.get(fake) or ImageMap(fake, network, source, 0, (), (target,))
    mapped = [m for m in maps.values() if set(m.targets) - {m.image}]
    if not mapped:  # SPADE: no loss ties G(seg, z) itself, but seg is what the files hold
        mapped = list(file_maps(spec).values())
    if len(mapped) != 1:
        detail = (f"several: {', '.join(m.tensor for m in mapped)}; choose one with --tensor"
                  if mapped else "no forward tensor computed as NET(image) from a data image "
                  "that a loss ties to the data")
        raise UserError(f"model '{spec.name}' has no single image-to-image map ({detail})")
    return mapped[0]


def _inputs(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in _IMAGE_TYPES
                       and p.is_file())
        if not files:
            raise UserError(f"no images (png, jpg, bmp, webp) in {path}")
        return files
    if not path.is_file():
        raise UserError(f"input not found: {path}")
    return [path]


def plan_outputs(inputs: list[Path], out: Path, force: bool = False) -> list[tuple[Path, Path]]:
    """(input, output) pairs, each output `out/<input stem>.png`, refused before anything is
    written when an output would replace an input, collide with another output, or (without
    `force`) replace an existing file."""
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file; it must name a folder for the translations")
    out_dir = real_path(out)
    holders = {real_path(p).parent for p in inputs}
    if out_dir in holders:
        raise UserError(f"--out {out} holds the input images; choose another folder, so that "
                        "no original is overwritten or mixed with the translations")
    plan: dict[Path, Path] = {}
    for path in inputs:
        target = out / (path.stem + ".png")
        if target in plan:
            raise UserError(f"{plan[target]} and {path} would both be written to {target}; "
                            "rename one of them or translate them separately")
        plan[target] = path
    linked = [(t, hit) for t in plan if (hit := same_file(t, inputs)) is not None]
    if linked:  # a hard link or symlink in --out to an input image
        target, hit = linked[0]
        raise UserError(f"{target} is the same file as the input {hit}: translate never "
                        "writes over its inputs")
    taken = [t for t in plan if t.exists() or t.is_symlink()]
    folders = [t for t in taken if t.is_dir()]
    if folders:
        raise UserError(f"{folders[0]} is a folder; the translation of {plan[folders[0]]} "
                        "cannot be written there")
    if taken and not force:
        names = ", ".join(t.name for t in taken[:3]) + (", ..." if len(taken) > 3 else "")
        raise UserError(f"{len(taken)} output file(s) already exist in {out} ({names}); "
                        "choose another --out, or pass --force to replace them")
    return [(path, target) for target, path in plan.items()]


def input_half(data: dict, direction: str) -> int:
    """Which half of an aligned A|B image the generator for `direction` reads: 0 left, 1 right.

    The stored order is A|B; `direction: BtoA` in the spec's data swaps the sides, as the
    `paired` source does, so real_A is then the right half.
    """
    swapped = data.get("direction") == "BtoA"
    return int((direction == "BtoA") != swapped)


def trained_on_aligned(spec: Spec, data: dict) -> bool:
    """Whether the model learnt from aligned A|B files, judged as the `paired` source would.

    The training folder may be gone (or be relative to a spec file that is not here); then
    the aligned layout, pix2pix's own, is assumed.
    """
    if data["source"] != "paired":
        return False
    root = resolve_path(data["root"], spec.base_dir)
    base = root / data["phase"] if (root / data["phase"]).is_dir() else root
    return not ((base / "A").is_dir() or (base / "B").is_dir())


def _to_input(im: Any, mode: str, load_size: int, size: int) -> torch.Tensor:
    """As the sources prepare a fixed batch: resize to load_size, then a center crop."""
    x = to_tensor(im, mode, load_size)
    top = (load_size - size) // 2
    return x[:, top : top + size, top : top + size]


def _write_png(image: np.ndarray, target: Path) -> None:
    """Write through a uniquely named temporary file, so no other file is ever touched."""
    from PIL import Image

    write_file(target, lambda f: Image.fromarray(image).save(f, format="PNG"))


def _check_native(spec: Spec, chosen: ImageMap, shapes: list, height: int, width: int,
                  path: Path) -> None:
    """Refuse an image size the network's shape rules do not take, before running it."""
    given = list(shapes)
    given[chosen.position] = (shapes[chosen.position][0], height, width)
    plan = plan_network(chosen.network, spec.tree["networks"][chosen.network], given)
    if plan.error is not None or len(plan.output_shape or ()) != 3:
        why = plan.error[1] if plan.error is not None else "its output is not an image"
        raise UserError(f"{path}: network '{chosen.network}' cannot take a {width}x{height} "
                        f"image at its own size ({why}); leave out --native-size to resize it "
                        f"to the trained size")


def _other_inputs(spec: Spec, chosen: ImageMap, extra: dict[str, Any] | None, seed: int,
                  device: Any) -> dict[str, torch.Tensor]:
    """One value per other argument of the call: the caller's, or a latent draw."""
    from ganbuilder.data.latent import sample_latent

    extra = dict(extra or {})
    drawn = sample_latent(spec.tree.get("latent") or {}, 1, torch.Generator().manual_seed(seed),
                          device)
    out = {}
    for name in chosen.others:
        if name in extra:
            out[name] = torch.as_tensor(extra.pop(name), device=device).unsqueeze(0)
        elif name in drawn:
            out[name] = drawn[name]
        else:
            raise UserError(f"'{chosen.tensor}: {chosen.network}(...)' also reads '{name}' "
                            f"(data), which translate has no value for")
    if extra:
        raise UserError(f"'{chosen.tensor}' does not read {', '.join(sorted(extra))}")
    return out


@torch.no_grad()
def translate_checkpoint(checkpoint: str | Path, source: str | Path, out: str | Path,
                         direction: str | None = None, device: str = "cpu",
                         aligned: bool | None = None, force: bool = False,
                         tensor: str | None = None, native_size: bool = False,
                         extra: dict[str, Any] | None = None, seed: int = 0,
                         domain: str | None = None) -> list[Path]:
    """Apply a model's image map (see `choose_map`) to an image or a folder of images, into
    `out` as `<stem>.png`; returns the files written.

    See the module docstring for what is refused, `aligned` (None: auto) and `native_size`;
    `domain` picks a multi-domain model's generator and target domain (translate_domain.py).
    Where the map reads a tensor the source makes from a file (a label map's `seg`), each input
    file goes through the source's reader instead of the image decoder (translate_files.py).
    """
    plan = plan_outputs(_inputs(Path(source)), Path(out), force)
    spec, gan, _ = load_model(checkpoint, device)
    if domain is not None:
        chosen, target_domain = domain_map(spec, domain)
        extra = {**(extra or {}), **target_domain}
    else:
        chosen = choose_map(spec, direction, tensor)
    net = gan.nets[chosen.network].eval()
    shapes = spec.analysis.networks[chosen.network].input_shapes
    channels, size, _ = shapes[chosen.position]
    data: dict[str, Any] = with_defaults(spec.tree["data"])
    half = input_half(data, direction or "AtoB")
    auto_split = aligned is None and trained_on_aligned(spec, data)
    load_size = max(data.get("load_size") or size, size)
    mode = "L" if channels == 1 else "RGB"
    param = next(net.parameters())
    others = _other_inputs(spec, chosen, extra, seed, param.device)
    reader = file_readers(spec).get(chosen.image)
    if reader is not None and (native_size or aligned):
        raise UserError(f"'{chosen.tensor}' reads {chosen.image}, made from each input file at "
                        "the trained size; --native-size and --aligned apply to images")
    written = []
    for path, target in plan:
        if reader is not None:
            x = reader(path, data)
        else:
            im = read_image(path, key="")
            width, height = im.size
            if aligned or (auto_split and width == 2 * height):
                im = split_aligned(im, path, key="")[half]
            if native_size:
                _check_native(spec, chosen, shapes, im.size[1], im.size[0], path)
                x = _native(im, mode)
            else:
                x = _to_input(im, mode, load_size, size)
        args = [others.get(name) for name in _arguments(spec, chosen)]
        args[chosen.position] = x.unsqueeze(0).to(param.device)
        image = to_uint8(net(*args).float().cpu().numpy())[0]
        _write_png(image, target)
        written.append(target)
    return written


def _arguments(spec: Spec, chosen: ImageMap) -> tuple[str, ...]:
    """The names the forward call passes, in order."""
    return tuple(str(a) for a in spec.analysis.forward[chosen.tensor].args)


def _native(im: Any, mode: str) -> torch.Tensor:
    """An image at its own size as a [C, H, W] tensor in [-1, 1]."""
    array = np.asarray(im.convert(mode), dtype=np.uint8)
    x = torch.from_numpy(array.copy()).reshape(im.size[1], im.size[0], -1)
    return x.permute(2, 0, 1).float() * (2.0 / 255.0) - 1.0
