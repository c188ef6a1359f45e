"""Reading another project's checkpoint file: torch's weights-only loader (a file that would
run code is refused with what to do instead), then which reference networks it holds."""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import pickletools
import re
import zipfile
from pathlib import Path
from typing import Any

import torch

from ganbuilder.errors import CheckpointError, UserError
from ganbuilder.runs.checkpoint import (
    FORMAT,
    checkpoint_file,
    load_failure,
    quiet_load,
    unsafe_global,
)
from ganbuilder.zoo.registry import Layout, NetworkMap

State = dict[str, torch.Tensor]


def load_file(path: Path, layout: Layout) -> Any:
    """The file's contents as `torch.load(weights_only=True)` reads them, allowing only the
    plain-value classes the layout names; a file that needs code is a CheckpointError saying
    which code and what to do instead."""
    path = checkpoint_file(path)
    allowed = [_resolve(name) for name in layout.safe_globals]
    context = (torch.serialization.safe_globals(allowed) if allowed
               else contextlib.nullcontext())
    try:
        with context:
            return quiet_load(path)
    except Exception as exc:  # torch raises many types for a file it cannot read
        code = unsafe_global(exc) or _first_global(path)
        if code is not None:
            raise CheckpointError(
                f"{path} was refused: loading it would run code ({code}), as a pickled "
                f"network module or snapshot does; {layout.code_advice}") from None
        raise CheckpointError(f"cannot read {path}: the file is damaged or not a PyTorch "
                              f"checkpoint ({load_failure(exc)})") from None


def held_networks(path: Path, contents: Any, layout: Layout, named: str | None
                  ) -> tuple[dict[str, State], dict[str, torch.Tensor]]:
    """The reference networks a file holds (reference name -> state dict) and the layout's
    extra tensors in it (`latent_avg`). `named`: the reference network the user said a file
    of one network's state dict holds (`G_A=FILE`)."""
    if isinstance(contents, dict) and contents.get("format") == FORMAT:
        raise UserError(f"{path} is already a ganbuilder checkpoint: sample, evaluate or run "
                        "it as it is")
    if not isinstance(contents, dict):
        raise UserError(f"{path} holds a {type(contents).__name__}, not a state dict (a "
                        "mapping of names to tensors)")
    wrapped = next((contents[w] for w in layout.wrappers if isinstance(contents.get(w), dict)),
                   None)
    if wrapped is not None:  # {"params_ema": state dict}: the file's one network
        contents = wrapped
    references = {m.reference for m in layout.networks}
    inside = {k: v for k, v in contents.items() if k in references and isinstance(v, dict)}
    if inside:  # a container: {"g": ..., "d": ..., "g_ema": ..., "latent_avg": ...}
        if named is not None and named not in inside:
            raise UserError(f"{path} holds {', '.join(sorted(inside))}, not {named}")
        picked = {named: inside[named]} if named else inside
        extras = {e.entry: contents[e.entry] for e in layout.extras
                  if isinstance(contents.get(e.entry), torch.Tensor)}
        return {k: _state(path, k, v) for k, v in picked.items()}, extras
    state = _state(path, named or "the file", contents)
    if named is not None:
        return {named: state}, {}
    return {_which(path, state, layout): state}, {}


def sha256(path: Path) -> str:
    """The file's sha256, recorded in the imported checkpoint."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _state(path: Path, what: str, value: Any) -> State:
    """A state dict of tensors, without DataParallel's `module.` prefix."""
    if not isinstance(value, dict) or not value:
        raise UserError(f"{path}: {what} is not a state dict (a mapping of names to tensors)")
    bad = [k for k, v in value.items() if not isinstance(k, str) or not isinstance(v,
                                                                                   torch.Tensor)]
    if bad:
        raise UserError(f"{path}: {what} is not a state dict: entry {bad[0]!r} is no tensor")
    if all(k.startswith("module.") for k in value):
        value = {k[len("module."):]: v for k, v in value.items()}
    return dict(value)


def _which(path: Path, state: State, layout: Layout) -> str:
    """The reference network a file of one state dict holds: by its name, else the only
    network whose rules take all its keys."""
    by_name = [m.reference for m in layout.networks
               if any(re.search(p, path.name) for p in m.files)]
    if len(by_name) == 1:
        return by_name[0]
    fitting = [m.reference for m in layout.networks if _takes_all(m, state)]
    if len(fitting) == 1:
        return fitting[0]
    names = fitting or [m.reference for m in layout.networks]
    raise UserError(f"{path} holds one network's state dict, and its name does not say which "
                    f"of layout '{layout.name}'s networks it is: name it, e.g. "
                    f"{names[0]}={path} (one of {', '.join(names)})")


def _takes_all(network: NetworkMap, state: State) -> bool:
    return all(any(re.fullmatch(r.pattern, k) for r in network.rules) for k in state)


def _first_global(path: Path) -> str | None:
    """The first class or function a plain pickle file (not torch's zip format) would load,
    read from its opcodes without running any: torch's loader stops at opcodes it does not
    take (protocol 5's frames) before it says a file needs code."""
    if zipfile.is_zipfile(path):
        return None
    strings: list[str] = []
    try:
        with open(path, "rb") as f:
            for op, arg, _ in pickletools.genops(f):
                if op.name == "GLOBAL":
                    return str(arg).replace(" ", ".")
                if op.name == "STACK_GLOBAL" and len(strings) >= 2:
                    return f"{strings[-2]}.{strings[-1]}"
                if isinstance(arg, str):
                    strings.append(arg)
    except Exception:  # not a pickle at all: the caller's message says the file is unreadable
        return None
    return None


def _resolve(name: str) -> type:
    module, _, attr = name.rpartition(".")
    return getattr(importlib.import_module(module), attr)
