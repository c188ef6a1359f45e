"""Using a trained model: rebuild it from a checkpoint alone and draw samples."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch

from ganbuilder.compile.model import GAN
from ganbuilder.errors import UserError
from ganbuilder.files import check_target
from ganbuilder.layers.stylegan2 import capture_styles, mix_styles, set_truncation
from ganbuilder.runs.checkpoint import check_compatible, load_checkpoint
from ganbuilder.runs.grid import save_png
from ganbuilder.runs.samples import render_samples, sample_groups
from ganbuilder.spec import Spec, load_spec_text


def load_model(checkpoint: str | Path, device: str = "cpu", ema: bool = True,
               psi: float | None = None) -> tuple[Spec, GAN, int]:
    """The spec, the trained networks and the step stored in a checkpoint file; the weight
    averages of a run with `training.ema` unless `ema` is False (the last step's weights);
    `psi` sets the truncation of every `truncation` layer."""
    from ganbuilder.device import pick_device

    checkpoint = Path(checkpoint)
    state = load_checkpoint(checkpoint)
    spec = load_spec_text(state["spec_text"], f"{checkpoint}#spec", checkpoint.parent,
                          resolved=True)
    gan = GAN(spec)
    check_compatible(state, dict(gan.nets), checkpoint)
    for name, net in gan.nets.items():
        # A run with `training.ema` samples with its averaged weights, as BigGAN's do.
        averaged = state.get("ema", {}).get(name) if ema else None
        net.load_state_dict(averaged or state["networks"][name])
    if psi is not None and not set_truncation(gan, psi):
        raise UserError(f"--psi: model '{spec.name}' has no truncation layer (StyleGAN2's "
                        "`truncation` after the mapping network)")
    return spec, gan.to(pick_device(device)), int(state["step"])


SEED_RANGE = (-(2**63), 2**64 - 1)  # what torch.Generator.manual_seed takes


def check_seed(seed: int) -> int:
    """`--seed` within the range a torch generator takes, or a UserError."""
    if not SEED_RANGE[0] <= seed <= SEED_RANGE[1]:
        raise UserError(f"--seed must be in {SEED_RANGE[0]}..{SEED_RANGE[1]}, got {seed}")
    return seed


def _capture_second_styles(gan: GAN, spec: Spec, data, device: torch.device, n: int,
                           fixed_labels: dict[str, int] | None, mix_seed: int | None,
                           crossover: int | None) -> None:
    """Style mixing for a grid: the styles of the latent `mix_seed` draws, kept by every
    style_mix layer, replace the grid's own from `crossover` on."""
    if mix_seed is None:
        raise UserError("--crossover mixes styles with a second latent: give --mix-seed")
    check_seed(mix_seed)
    layers = capture_styles(gan)
    if not layers:
        raise UserError(f"--mix-seed: model '{spec.name}' has no style_mix layer (StyleGAN2's "
                        "per-layer styles after the mapping network)")
    render_samples(gan, data, spec, device, seed=mix_seed, n=n, fixed_labels=fixed_labels)
    try:
        mix_styles(layers, layers[0].layers // 2 if crossover is None else crossover)
    except ValueError as exc:
        raise UserError(f"--crossover: {exc}") from None


class _NoData:
    """Stands in for the data source when samples need none: an empty fixed batch."""

    def fixed_batch(self, n: int) -> dict[str, torch.Tensor]:
        return {}


def label_latent(spec: Spec) -> tuple[str, int]:
    """The categorical latent a conditional model takes, and its number of classes."""
    latent = spec.tree.get("latent") or {}
    names = [n for n, cfg in latent.items() if cfg.get("dist") == "categorical"]
    rows_by = spec.sampling.get("rows_by")
    name = rows_by if rows_by in names else (names[0] if len(names) == 1 else None)
    if name is None:
        raise UserError(f"model '{spec.name}' takes no label: it has no categorical latent")
    return name, latent[name]["classes"]


@dataclass(frozen=True)
class LatentCode:
    """A latent input that a `mutual_info` term has Q recover (an InfoGAN code); `size` is the
    number of classes of a categorical code, or of values per sample of a continuous one."""

    name: str
    categorical: bool
    size: int


def latent_codes(spec: Spec) -> list[LatentCode]:
    """The spec's InfoGAN codes: every latent a `mutual_info` term names, once, in spec order."""
    latent = spec.tree.get("latent") or {}
    named = {name for term in spec.analysis.terms if term.kind == "mutual_info"
             for key in ("categorical", "continuous") for name in term.tensors.get(key, ())}
    codes = []
    for name, cfg in latent.items():
        if name in named:
            categorical = cfg.get("dist") == "categorical"
            size = cfg["classes"] if categorical else math.prod(cfg["shape"])
            codes.append(LatentCode(name, categorical, size))
    return codes


def sample_checkpoint(checkpoint: str | Path, out: str | Path, n: int = 64, seed: int = 0,
                      device: str = "cpu", label: int | None = None, ema: bool = True,
                      psi: float | None = None, force: bool = False,
                      mix_seed: int | None = None, crossover: int | None = None) -> Path:
    """Write a sample grid (PNG) drawn from a checkpoint with a given seed; `label` asks a
    conditional model for one class, `psi` truncates styles, `mix_seed` mixes styles: each
    sample's style layers from `crossover` on (default half of them) come from the latent
    that seed draws. `out` replaces an existing file only with `force`, and is never the
    checkpoint."""
    from ganbuilder.data import open_source

    check_seed(seed)
    check_target(out, force, [checkpoint], command="sample")
    spec, gan, _ = load_model(checkpoint, device, ema, psi)
    fixed_labels = None
    if label is not None:
        name, classes = label_latent(spec)
        if not 0 <= label < classes:
            raise UserError(f"--label must be in 0..{classes - 1}, got {label}")
        fixed_labels = {name: label}
    names = [name for group in sample_groups(spec) for name in group]
    points = spec.analysis.tensor_shapes.get(names[0]) == (2,)
    data = (open_source(spec.tree["data"], spec.base_dir)
            if points or spec.analysis.needs_data(names) else _NoData())
    device = next(gan.parameters()).device
    if mix_seed is not None or crossover is not None:
        _capture_second_styles(gan, spec, data, device, n, fixed_labels, mix_seed, crossover)
    image = render_samples(gan, data, spec, device, seed=seed, n=n, fixed_labels=fixed_labels)
    out = Path(out)
    save_png(image, out)
    return out
