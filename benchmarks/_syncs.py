"""Counting the points where a training step would wait for a GPU, on any machine.

A CUDA step runs ahead of the GPU until the host asks for a value the GPU computes: `.item()`,
`float(t)`, `bool(t)` (an `if` on a tensor), `.tolist()`, `.cpu()`, `.numpy()`, a boolean
mask (`nonzero`), `torch.cuda.synchronize()`, or a copy from pageable host memory to the device
without `non_blocking` (CUDA stages it synchronously). `SyncCounter` patches those Python entry
points for the duration of a `with` block and counts the calls made by the thread that entered
it (a prefetch thread works on host tensors only), so a run on the CPU counts what the same
code would make a GPU wait for.

What lives on the host in a CUDA run is not counted when read: draws of a CPU generator (a
history pool's coin tosses), the batches a data source returns (`mark_host`), and tensors the
caller names with `host()` (an optimizer's step counters, kept on the CPU by torch's Adam).
Draws of the generators named in `device_generators` (the trainer's, which a CUDA run creates
on the GPU) are device tensors. Syncs inside C++ are out of its sight (in the steps measured
here, GradScaler's check is a Python `.item()` and is counted).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable
from typing import Any

import torch

_HOST = "_ganbuilder_host"  # the attribute that tags a host tensor


def host(tensors: Iterable[Any]) -> None:
    """Tag tensors that live in host memory in a CUDA run too."""
    for value in tensors:
        if isinstance(value, torch.Tensor):
            setattr(value, _HOST, True)


def mark_host(batch: dict) -> dict:
    """Tag a data batch's tensors as host memory; returns the batch."""
    host(batch.values())
    return batch


def optimizer_steps(optimizers: Iterable[torch.optim.Optimizer]) -> list[torch.Tensor]:
    """The step counters torch keeps on the CPU (all but fused or capturable optimizers)."""
    return [s["step"] for opt in optimizers for s in opt.state.values()
            if isinstance(s.get("step"), torch.Tensor) and s["step"].device.type == "cpu"
            and not opt.defaults.get("fused") and not opt.defaults.get("capturable")]


def _is_host(t: Any) -> bool:
    return isinstance(t, torch.Tensor) and getattr(t, _HOST, False)


_READS = ("item", "tolist", "__bool__", "__float__", "__int__", "__index__", "numpy", "cpu",
          "nonzero")
_DRAWS = ("rand", "randn", "randint", "randperm")


class SyncCounter:
    """`with SyncCounter(device_generators) as count:` ... `count.total`, `count.by_kind`."""

    def __init__(self, device_generators: Iterable[torch.Generator] = ()) -> None:
        self.by_kind: Counter[str] = Counter()
        self.device_generators = {id(g) for g in device_generators}
        self._saved: list[tuple[Any, str, Any]] = []
        self._thread = threading.get_ident()
        self._inside = threading.local()  # within a counted call, nested calls are not counted

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())

    def reset(self) -> None:
        self.by_kind.clear()

    def _count(self, kind: str) -> None:
        if threading.get_ident() == self._thread and not getattr(self._inside, "on", False):
            self.by_kind[kind] += 1

    def _patch(self, owner: Any, name: str, wrapper: Any) -> None:
        original = getattr(owner, name)
        self._saved.append((owner, name, original))
        setattr(owner, name, wrapper(original))

    def _read(self, kind: str):
        def wrapper(original):
            def patched(t, *args, **kwargs):
                if getattr(self._inside, "on", False):
                    return original(t, *args, **kwargs)
                if not _is_host(t):
                    self._count(kind)
                self._inside.on = True
                try:
                    return original(t, *args, **kwargs)
                finally:
                    self._inside.on = False
            return patched
        return wrapper

    def _to(self, original):
        def patched(t, *args, **kwargs):
            moves = "device" in kwargs or any(isinstance(a, torch.device | str) for a in args)
            blocking = not kwargs.get("non_blocking", False) and not any(
                a is True for a in args)
            if moves and blocking and _is_host(t):
                self._count("blocking copy to the device")
            return original(t, *args, **kwargs)
        return patched

    def _getitem(self, original):
        def patched(t, index):
            if isinstance(index, torch.Tensor) and index.dtype == torch.bool:
                self._count("boolean mask")
            return original(t, index)
        return patched

    def _draw(self, original):
        def patched(*args, **kwargs):
            out = original(*args, **kwargs)
            gen = kwargs.get("generator")
            if gen is not None and id(gen) not in self.device_generators:
                setattr(out, _HOST, True)
            return out
        return patched

    def _synchronize(self, original):
        def patched(*args, **kwargs):
            self._count("torch.cuda.synchronize")
            return original(*args, **kwargs)
        return patched

    def __enter__(self) -> SyncCounter:
        self._thread = threading.get_ident()
        for name in _READS:
            self._patch(torch.Tensor, name, self._read(f".{name}()"))
        self._patch(torch.Tensor, "to", self._to)
        self._patch(torch.Tensor, "__getitem__", self._getitem)
        for name in _DRAWS:
            self._patch(torch, name, self._draw)
        self._patch(torch.cuda, "synchronize", self._synchronize)
        return self

    def __exit__(self, *exc: object) -> None:
        for owner, name, original in reversed(self._saved):
            setattr(owner, name, original)
        self._saved.clear()
