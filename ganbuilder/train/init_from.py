"""`run SPEC --init CKPT`: a new run (step 0, its own folder) that starts from the weights of
an earlier checkpoint (a run's, or one `ganbuilder import` wrote) instead of the spec's `init`.

Which networks: those the checkpoint holds (or the ones `--init-networks` names); the spec's
other networks keep their fresh initialisation. With `--init-optimizers` an objective whose
networks all came from the checkpoint also takes its optimizer state (Adam's moments), but
keeps the spec's learning rate and settings: only the per-parameter state is carried over.
Freezing is the spec's business (`frozen` networks and layers), so a fine-tuning spec is one
that extends the base and sets them. A network that does not fit is one located message per
network naming the keys and shapes, before anything is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
import yaml

from ganbuilder.errors import CheckpointError, UserError
from ganbuilder.runs.checkpoint import check_optimizers, load_weights
from ganbuilder.runs.metadata import file_sha256
from ganbuilder.spec import Spec
from ganbuilder.spec.paths import format_path

if TYPE_CHECKING:
    from ganbuilder.train.trainer import Trainer

MAX_LISTED = 6  # differing tensors named in a message; the rest are counted


@dataclass(frozen=True)
class InitFrom:
    """What `--init` asked for: the checkpoint, which networks (None: every one the checkpoint
    and the spec share) and whether optimizer state comes too."""

    path: Path
    networks: tuple[str, ...] | None = None
    optimizers: bool = False


def apply_init(trainer: Trainer, request: InitFrom) -> dict[str, Any]:
    """Load the requested weights (and optimizer state) into a freshly built trainer; returns
    the record of where they came from (path, sha256, networks, optimizers) for the run."""
    path = Path(request.path)
    state = load_weights(path)
    nets = trainer.gan.nets
    names = _networks(request, state["networks"], list(nets), path)
    check_fits(trainer.spec, state, names, {n: nets[n].state_dict() for n in names}, path)
    for name in names:
        nets[name].load_state_dict(state["networks"][name])
    if trainer.ema is not None:
        # The weight average starts from the checkpoint's average where it has one (a
        # StyleGAN's g_ema), else from the weights just loaded.
        for name in trainer.ema.names:
            if name in names:
                source = state.get("ema", {}).get(name) or state["networks"][name]
                trainer.ema.shadow[name] = {k: v.detach().clone().to(trainer.device)
                                            for k, v in source.items()}
    loaded = _optimizers(trainer, state, set(names), path) if request.optimizers else []
    return {"path": str(path.resolve()), "sha256": file_sha256(path),
            "networks": names, "optimizers": loaded,
            **({"step": state["step"]} if isinstance(state.get("step"), int) else {}),
            **({"spec_name": state["spec_name"]}
               if isinstance(state.get("spec_name"), str) else {})}


def _networks(request: InitFrom, saved: Mapping[str, Any], spec_nets: list[str],
              path: Path) -> list[str]:
    if request.networks is not None:
        for name in request.networks:
            if name not in spec_nets:
                raise UserError(f"--init-networks: {name} is not a network of the spec (it "
                                f"has {', '.join(spec_nets)})")
            if name not in saved:
                raise CheckpointError(f"--init-networks: {path} holds no network {name} (it "
                                      f"holds {', '.join(sorted(saved))})")
        return list(dict.fromkeys(request.networks))
    foreign = sorted(set(saved) - set(spec_nets))
    if foreign:
        raise CheckpointError(f"{path} holds networks the spec does not define "
                              f"({', '.join(foreign)}): name the ones to load with "
                              f"--init-networks, e.g. --init-networks "
                              f"{','.join(n for n in spec_nets if n in saved) or spec_nets[0]}")
    return [n for n in spec_nets if n in saved]


def check_fits(spec: Spec, state: Mapping[str, Any], names: list[str],
               mine: Mapping[str, Mapping[str, torch.Tensor]], path: Path) -> None:
    """Each named network's state dict must have the checkpoint's keys and shapes: one
    problem per network that does not, located at its first differing layer."""
    problems = []
    for name in names:
        theirs = state["networks"][name]
        differ = []
        for key in sorted(set(mine[name]) | set(theirs), key=_key_order):
            if key not in theirs:
                differ.append((key, f"'{key}' only in the spec"))
            elif key not in mine[name]:
                differ.append((key, f"'{key}' only in the checkpoint"))
            elif tuple(theirs[key].shape) != tuple(mine[name][key].shape):
                differ.append((key, f"'{key}' is {tuple(theirs[key].shape)} in the "
                                    f"checkpoint, {tuple(mine[name][key].shape)} in the spec"))
        if not differ:
            continue
        listed = "; ".join(text for _, text in differ[:MAX_LISTED])
        more = f"; and {len(differ) - MAX_LISTED} more" if len(differ) > MAX_LISTED else ""
        message = (f"--init {path}: network {name} does not fit the checkpoint's weights "
                   f"({len(differ)} tensors differ: {listed}{more}){_params_hint(spec, state)}")
        where = _layer_path(spec, name, differ[0][0])
        problems.extend(spec.locate(UserError(message, path=where)).problems)
    if problems:
        error = CheckpointError(problems[0].message)
        error.problems = problems
        error.args = ("\n".join(str(p) for p in problems),)
        raise error


def _key_order(key: str) -> tuple:
    """State dict keys in layer order: `10.weight` after `9.weight`."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in key.split("."))


def _layer_path(spec: Spec, network: str, key: str) -> str:
    """The spec path of the top-level layer a state dict key belongs to (`3.weight` in a
    chain, `layers.3.weight` in a graph network); the network's when the key names none."""
    parts = key.split(".")
    index = parts[1] if parts[0] == "layers" and len(parts) > 1 else parts[0]
    layers = spec.analysis.networks[network].layers
    if index.isdigit() and int(index) < len(layers):
        return format_path(layers[int(index)].path)
    return format_path(("networks", network))


def _params_hint(spec: Spec, state: Mapping[str, Any]) -> str:
    """`; the checkpoint's spec has params.ngf=64 (here 32)`: the values its own spec was
    resolved with, where they differ from this spec's (often the cause)."""
    try:
        theirs = (yaml.safe_load(state["spec_text"]) or {}).get("params") or {}
    except (yaml.YAMLError, AttributeError):
        return ""
    mine = spec.tree.get("params") or {}
    differ = [f"params.{k}={theirs[k]} (here {mine[k]})" for k in mine
              if k in theirs and theirs[k] != mine[k]]
    return f"; the checkpoint's spec has {', '.join(differ)}" if differ else ""


def _optimizers(trainer: Trainer, state: Mapping[str, Any], loaded: set[str],
                path: Path) -> list[str]:
    """Optimizer state for each objective that updates only loaded networks; the spec's
    hyperparameters (lr, betas) stay. Returns the objectives that took it."""
    saved = state.get("optimizers")
    if not saved:
        raise CheckpointError(f"--init-optimizers: {path} holds no optimizer state (a "
                              "model's weights alone, as `ganbuilder import` writes): leave "
                              "out --init-optimizers")
    taken = []
    for objective in trainer.objectives:
        if not objective.updates <= loaded or objective.name not in saved:
            continue
        kinds = {k: v for k, v in state.get("optimizer_types", {}).items()
                 if k == objective.name}
        check_optimizers({"optimizers": {objective.name: saved[objective.name]},
                          "optimizer_types": kinds},
                         {objective.name: objective.optimizer}, path)
        settings = [{k: v for k, v in g.items() if k != "params"}
                    for g in objective.optimizer.param_groups]
        objective.optimizer.load_state_dict(saved[objective.name])
        for group, own in zip(objective.optimizer.param_groups, settings, strict=True):
            group.update(own)  # the fine-tuning spec's lr and betas, not the old run's
        taken.append(objective.name)
    if not taken:
        raise CheckpointError(f"--init-optimizers: no objective of the spec updates only "
                              f"networks loaded from {path} with a saved optimizer (it has "
                              f"{', '.join(sorted(saved))})")
    return taken
