"""Self-describing checkpoints: resolved spec text, weights, optimizers, RNG and data state.

Written atomically (temp file, then rename) so a crash never leaves a half-written file, and
loadable with `torch.load(weights_only=True)`: nothing in them is pickled code. Each file
records a sha256 digest of its contents, so a changed byte is reported as damage instead of
loading as a silently different model, and a file with non-finite weights is never loaded.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import pickle
import re
import shutil
import struct
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch

from ganbuilder.errors import CheckpointError, UserError
from ganbuilder.files import write_file
from ganbuilder.runs.folder import latest_checkpoint

FORMAT = "ganbuilder-checkpoint"
VERSION = 2  # 2 added the digest and the optimizer types
_READABLE = (1, 2)  # version 1 files have no digest; they still load, unverified


def save_checkpoint(state: dict[str, Any], path: Path) -> None:
    """Write `state` (tensors and plain values) with its format, version and digest."""
    payload = {"format": FORMAT, "version": VERSION, **_to_cpu(state)}
    payload["digest"] = content_digest(payload)
    buffer = io.BytesIO()  # serialized first: the disk's own error, never torch's C++ one
    torch.save(payload, buffer)
    try:
        write_file(path, buffer.getbuffer())
    except UserError as exc:
        raise CheckpointError(f"{exc}; the checkpoint there before, if any, is kept") from None


def link_checkpoint(written: Path, path: Path) -> None:
    """Make `path` (last.pt) the checkpoint just `written`, without writing it again: a hard
    link where the file system has them, else a copy, renamed into place either way."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.link")  # this process's own name
    try:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        try:
            os.link(written, tmp)
        except OSError:
            shutil.copyfile(written, tmp)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise CheckpointError(f"cannot write checkpoint {path} ({exc.strerror or exc}); the "
                              "one there before, if any, is kept") from None


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read and verify a checkpoint; a missing, damaged, malformed or foreign file, or one
    holding non-finite weights, is a CheckpointError that says which."""
    return _read_verified(path, _REQUIRED)


def load_weights(path: str | Path) -> dict[str, Any]:
    """Read and verify a checkpoint for its networks alone (`run --init`): the trainer's own
    state (optimizers, RNG, sampler) may be missing, as in an imported model's file."""
    return _read_verified(path, _WEIGHTS)


def _read_verified(path: str | Path, required: dict[str, Any]) -> dict[str, Any]:
    path = checkpoint_file(path)
    try:
        state = quiet_load(path)
    except Exception as exc:  # torch raises many types for a damaged file
        code = unsafe_global(exc)
        if code is not None:
            raise CheckpointError(f"checkpoint {path} was refused: loading it would run code "
                                  f"({code}); a ganbuilder checkpoint holds only tensors and "
                                  "plain values, so ganbuilder did not write this file") from None
        raise CheckpointError(f"cannot read checkpoint {path}: the file is damaged or not a "
                              f"checkpoint ({load_failure(exc)})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a ganbuilder checkpoint")
    version = state.get("version")
    if version not in _READABLE:
        raise CheckpointError(f"{path} has checkpoint version {version}; "
                              f"this ganbuilder reads versions {', '.join(map(str, _READABLE))}")
    if version >= 2:
        _verify_digest(state, path)
    _check_layout(state, path, required)
    tensors = [(f"network {n} parameter '{k}'", v) for n, sd in state["networks"].items()
               for k, v in sd.items()]
    tensors += [(f"weight average of {n} parameter '{k}'", v)
                for n, sd in state.get("ema", {}).items() for k, v in sd.items()]
    bad = first_nonfinite(tensors)
    if bad is not None:
        raise CheckpointError(f"checkpoint {path} holds non-finite weights ({bad}): it was "
                              "written after training diverged; use an earlier checkpoint")
    return state


def checkpoint_file(path: str | Path) -> Path:
    """`path` as a checkpoint file; a folder (a run folder, say) or a missing file is a
    CheckpointError, naming the checkpoint a run folder holds."""
    path = Path(path)
    if path.is_dir():
        inside = latest_checkpoint(path)
        raise CheckpointError(f"{path} is a folder, not a checkpoint"
                              + (f": did you mean {inside}?" if inside else ""))
    if not path.is_file():
        if path.exists():  # a FIFO or a device: never opened (it would block or never end)
            raise CheckpointError(f"{path} is not a regular file, so not a checkpoint")
        raise CheckpointError(f"checkpoint not found: {path}")
    return path


def checkpoint_step(path: Path) -> int | None:
    """The step a checkpoint was saved at, read without loading its tensors into memory;
    None when the file cannot tell (loading it properly then says why)."""
    try:
        state = quiet_load(path, mmap=True)
    except Exception:  # any unreadable file: the caller falls back to a full load's message
        return None
    step = state.get("step") if isinstance(state, dict) else None
    return step if isinstance(step, int) and not isinstance(step, bool) and step >= 0 else None


def checkpoint_spec_text(path: Path) -> str | None:
    """The spec text a checkpoint holds, read without loading its tensors into memory; None
    when the file cannot tell."""
    try:
        state = quiet_load(path, mmap=True)
    except Exception:  # any unreadable file: nothing to compare with
        return None
    text = state.get("spec_text") if isinstance(state, dict) else None
    return text if isinstance(text, str) else None


def content_digest(state: Mapping[str, Any]) -> str:
    """sha256 over every key and value of a checkpoint except its own `digest` entry, in a
    fixed encoding (tensors by dtype, shape and bytes), so it does not depend on how torch
    lays out the file."""
    h = hashlib.sha256()
    _feed(h, {k: v for k, v in state.items() if k != "digest"})
    return h.hexdigest()


def first_nonfinite(named: Iterable[tuple[str, torch.Tensor]]) -> str | None:
    """The name of the first floating-point tensor holding a NaN or infinity, or None."""
    named = [(name, t) for name, t in named
             if isinstance(t, torch.Tensor) and (t.is_floating_point() or t.is_complex())]
    ok = [True] * len(named)
    by_device: dict[torch.device, list[int]] = {}
    for i, (_, t) in enumerate(named):
        by_device.setdefault(t.device, []).append(i)
    # One read-back per device: a sync per tensor would stall training on a GPU.
    for indices in by_device.values():
        flags = torch.stack([torch.isfinite(named[i][1]).all() for i in indices]).tolist()
        for i, flag in zip(indices, flags, strict=True):
            ok[i] = flag
    return next((name for (name, _), flag in zip(named, ok, strict=True) if not flag), None)


def check_compatible(state: dict, nets: dict[str, torch.nn.Module], path: Path) -> None:
    """Every network, parameter name and shape must match, or nothing is loaded."""
    saved = state["networks"]
    if set(saved) != set(nets):
        raise CheckpointError(
            f"{path} holds networks {sorted(saved)}, the spec defines {sorted(nets)}"
        )
    for name, net in nets.items():
        mine = net.state_dict()
        theirs = saved[name]
        for key in sorted(set(mine) | set(theirs)):
            if key not in theirs or key not in mine:
                raise CheckpointError(f"{path}: network {name} differs from the spec "
                                      f"(parameter '{key}' only in the "
                                      f"{'spec' if key in mine else 'checkpoint'})")
            if mine[key].shape != theirs[key].shape:
                raise CheckpointError(
                    f"{path}: network {name} parameter '{key}' has shape "
                    f"{tuple(theirs[key].shape)} in the checkpoint, {tuple(mine[key].shape)} "
                    "in the spec"
                )


def networks_only(state: dict) -> bool:
    """Whether a checkpoint holds networks only (`ganbuilder import`'s, with an `imported`
    record): its optimizers, sampler and pools are empty, and training from it starts them,
    and the noise, afresh at step 0."""
    return isinstance(state.get("imported"), dict)


def optimizer_types(optimizers: Mapping[str, torch.optim.Optimizer]) -> dict[str, str]:
    """What a checkpoint records of each objective's optimizer so a resume can compare it."""
    return {name: type(opt).__name__ for name, opt in optimizers.items()}


def check_optimizers(state: dict, optimizers: Mapping[str, torch.optim.Optimizer],
                     path: Path) -> None:
    """Each objective's saved optimizer must be the kind the spec builds, over the same
    parameters, or resuming would fail mid-step (or silently change the optimizer)."""
    saved = state["optimizers"]
    if set(saved) != set(optimizers):
        raise CheckpointError(f"{path}: the checkpoint has objectives {sorted(saved)}, the "
                              f"spec {sorted(optimizers)}")
    kinds = state.get("optimizer_types", {})
    for name, opt in optimizers.items():
        where = f"{path}: objective {name}"
        theirs, mine = saved[name], type(opt).__name__
        if name in kinds and kinds[name] != mine:
            raise CheckpointError(f"{where} was trained with {kinds[name]}, the spec asks for "
                                  f"{mine}; resume with the checkpoint's optimizer or start a "
                                  "new run")
        groups = theirs.get("param_groups")
        per_param = theirs.get("state")
        if not isinstance(groups, list) or not isinstance(per_param, dict) or not all(
                isinstance(g, dict) and isinstance(g.get("params"), list) for g in groups):
            raise CheckpointError(f"{where}: the saved optimizer state is malformed")
        # Version 1 files do not record the type: an optimizer setting the spec's optimizer
        # does not have (Adam's betas under RMSprop) shows it is another kind.
        foreign = sorted({k for g in groups for k in g} - {"params"} - set(opt.defaults))
        if name not in kinds and foreign:
            raise CheckpointError(f"{where}: the checkpoint's optimizer has settings "
                                  f"{foreign} that {mine} does not; it was trained with "
                                  "another optimizer")
        if len(groups) != len(opt.param_groups):
            raise CheckpointError(f"{where}: the checkpoint's optimizer has {len(groups)} "
                                  f"parameter groups, the spec's {len(opt.param_groups)}")
        for group, mine_group in zip(groups, opt.param_groups, strict=True):
            if len(group["params"]) != len(mine_group["params"]):
                raise CheckpointError(
                    f"{where}: the checkpoint's optimizer updates {len(group['params'])} "
                    f"parameter tensors, the spec's {len(mine_group['params'])} (did the "
                    "objective's `updates` change?)")
            for i, (key, param) in enumerate(zip(group["params"], mine_group["params"],
                                                 strict=True)):
                for slot, value in (per_param.get(key) or {}).items():
                    if (isinstance(value, torch.Tensor) and value.dim() > 0
                            and value.shape != param.shape):
                        raise CheckpointError(
                            f"{where}: optimizer state '{slot}' of parameter {i} has shape "
                            f"{tuple(value.shape)} in the checkpoint, {tuple(param.shape)} in "
                            "the spec (did the objective's `updates` change?)")


# -- layout ------------------------------------------------------------------------------------

class _MapOf:
    """A layout entry: a dict from str to values of one layout."""

    def __init__(self, inner: Any):
        self.inner = inner


_TENSORS = _MapOf(torch.Tensor)
_REQUIRED: dict[str, Any] = {
    "spec_text": str,
    "step": int,
    "networks": _MapOf(_TENSORS),
    "optimizers": _MapOf(dict),
    "rng": {"torch": torch.Tensor, "latent": torch.Tensor, "pool": torch.Tensor},
    "sampler": dict,
    "pools": _MapOf({"size": int, "items": list}),
}
# Absent from checkpoints written before the feature (term state, EMA, the weights a run
# started from) or before version 2.
_OPTIONAL: dict[str, Any] = {
    "term_states": _MapOf(_TENSORS),
    "ema": _MapOf(_TENSORS),
    "optimizer_types": _MapOf(str),
    "init": dict,
}


# What a model's weights need: a file of networks alone (an import) has no trainer state.
_WEIGHTS: dict[str, Any] = {"spec_text": str, "networks": _MapOf(_TENSORS)}


def _check_layout(state: dict, path: Path, required: dict[str, Any] = _REQUIRED) -> None:
    problems: list[str] = []
    for key, layout in required.items():
        _expect(state, key, layout, key, problems, required=True)
    for key, layout in {**_REQUIRED, **_OPTIONAL}.items():
        if key not in required:
            _expect(state, key, layout, key, problems, required=False)
    if not problems and state.get("step", 0) < 0:
        problems.append(f"'step' is {state['step']}")
    if problems:
        raise CheckpointError(f"checkpoint {path} is malformed: {'; '.join(problems[:3])}"
                              + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""))


def _expect(parent: dict, key: Any, layout: Any, where: str, problems: list[str],
            required: bool = True) -> None:
    if key not in parent:
        if required:
            problems.append(f"'{where}' is missing")
        return
    value = parent[key]
    if isinstance(layout, dict):
        if not isinstance(value, dict):
            problems.append(f"'{where}' should be a mapping, not {type(value).__name__}")
            return
        for sub, sub_layout in layout.items():
            _expect(value, sub, sub_layout, f"{where}.{sub}", problems)
    elif isinstance(layout, _MapOf):
        if not isinstance(value, dict):
            problems.append(f"'{where}' should be a mapping, not {type(value).__name__}")
            return
        for sub in value:
            if not isinstance(sub, str):
                problems.append(f"'{where}' has a key {sub!r} that is not a name")
                continue
            _expect(value, sub, layout.inner, f"{where}.{sub}", problems)
    elif not isinstance(value, layout) or (layout is int and isinstance(value, bool)):
        problems.append(f"'{where}' should be {_KIND.get(layout, layout.__name__)}, not "
                        f"{type(value).__name__}")


_KIND = {str: "text", int: "an integer", dict: "a mapping", list: "a list",
         torch.Tensor: "a tensor"}


# -- digest ------------------------------------------------------------------------------------

def _verify_digest(state: dict, path: Path) -> None:
    recorded = state.get("digest")
    if not isinstance(recorded, str):
        raise CheckpointError(f"checkpoint {path} is damaged: its digest is missing")
    try:
        actual = content_digest(state)
    except TypeError as exc:
        raise CheckpointError(f"checkpoint {path} is damaged: {exc}") from None
    if actual != recorded:
        raise CheckpointError(f"checkpoint {path} is damaged: its contents do not match the "
                              "digest recorded when it was saved (the file was changed or "
                              "corrupted); use another checkpoint")


def _feed(h: Any, value: Any) -> None:
    """Add one value to the digest; each kind is tagged so that no two values encode alike."""
    if isinstance(value, dict):
        h.update(b"d%d:" % len(value))
        for key, item in value.items():
            _feed(h, key)
            _feed(h, item)
    elif isinstance(value, (list, tuple)):
        h.update(b"%c%d:" % (ord("l") if isinstance(value, list) else ord("t"), len(value)))
        for item in value:
            _feed(h, item)
    elif isinstance(value, torch.Tensor):
        t = value.detach().contiguous().reshape(-1)
        h.update(f"x{t.dtype}{tuple(value.shape)}:".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    elif isinstance(value, str):
        data = value.encode("utf-8")
        h.update(b"s%d:" % len(data) + data)
    elif isinstance(value, bytes):
        h.update(b"b%d:" % len(value) + value)
    elif value is None or isinstance(value, bool):
        h.update(b"n" if value is None else b"T" if value else b"F")
    elif isinstance(value, int):
        h.update(b"i%d;" % value)
    elif isinstance(value, float):
        h.update(b"f" + struct.pack("<d", value))
    else:
        raise TypeError(f"a checkpoint cannot hold a {type(value).__name__}")


def _to_cpu(value: Any) -> Any:
    """The state with every tensor on the CPU: digested and written from one copy."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, dict):
        return {k: _to_cpu(v) for k, v in value.items()}
    if type(value) in (list, tuple):  # not torch.Size or named tuples, which hold no tensors
        return type(value)(_to_cpu(v) for v in value)
    return value


def quiet_load(path: str | Path, **options: Any) -> Any:
    """`torch.load(weights_only=True)` on the CPU without torch's warnings (a TorchScript
    archive, say): the caller's message says what the file is."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.load(path, map_location="cpu", weights_only=True, **options)


def unsafe_global(exc: Exception) -> str | None:
    """The code a pickle would have called (`builtins.exec`), when that is why torch's safe
    loader refused the file; its advice to load unsafely instead is left out."""
    # torch words it two ways: "Unsupported global: GLOBAL print", "unsupported GLOBAL os.system"
    found = re.search(r"unsupported global:? (?:GLOBAL )?(\S+)", str(exc), re.IGNORECASE)
    return found.group(1) if isinstance(exc, pickle.UnpicklingError) and found else None


# Where torch's own advice starts (to load the file unsafely, or to read its documentation).
_ADVICE = re.compile(r"(In PyTorch 2\.6|Re-running `?torch\.load|Check the documentation|"
                     r"You can use the following|Weights only load failed)")


def unreadable_reason(exc: Exception) -> str:
    """Why torch's safe loader refused a weights file, in a few words: the code it would run,
    or the gist of its error."""
    code = unsafe_global(exc)
    return f"loading it would run code ({code})" if code is not None else load_failure(exc)


def load_failure(exc: Exception) -> str:
    """The gist of torch's error for an unreadable file, without its advice."""
    text = str(exc)
    if "TorchScript" in text:
        return "it is a TorchScript file, as `ganbuilder export --format torchscript` writes"
    if "WeightsUnpickler error:" in text:
        text = text.split("WeightsUnpickler error:", 1)[1]
    text = _ADVICE.split(text, 1)[0]
    return next((line.strip() for line in text.splitlines() if line.strip()),
                type(exc).__name__)
