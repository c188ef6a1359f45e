"""Decoding a batch's items in worker processes (`data.workers`), one batch ahead.

A sampler plans a batch (its indices and one seed per item, drawn from the sampler's own
generator); each item is then made on its own from its index and seed, so the batch is the same
whether one process makes all items or several make a few each, and whatever order they finish
in. The workers only ever see (index, seed) pairs and return tensors.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from ganbuilder._lazy import torch

Item = Callable[[tuple, int], dict]  # (the item's indices, its seed) -> batch of one

_ITEM: Item | None = None  # the item function in a worker process, set by its initializer


def default_workers(device_type: str) -> int:
    """`data.workers: auto`: none on the CPU (its cores train), else half the cores, at most 8
    (a GPU waits on decoding, which the cores can do meanwhile)."""
    if device_type == "cpu":
        return 0
    return max(1, min(8, (os.cpu_count() or 2) // 2))


def make_items(item: Item, plan: Sequence[tuple[tuple, int]]) -> list[dict]:
    """Each planned item as a batch of one, in order, in this process."""
    return [item(index, seed) for index, seed in plan]


def collate(items: list[dict], pin: bool = False) -> dict:
    """Batches of one item each, concatenated along the first dimension; for CUDA straight
    into pinned memory (one copy, not a concatenation and then a pinned copy of it)."""
    if not pin:
        return {key: torch.cat([it[key] for it in items]) for key in items[0]}
    out = {}
    for key in items[0]:
        parts = [it[key] for it in items]
        shape = (sum(p.shape[0] for p in parts), *parts[0].shape[1:])
        out[key] = torch.cat(parts, out=torch.empty(shape, dtype=parts[0].dtype,
                                                    pin_memory=True))
    return out


class WorkerPool:
    """`workers` processes that make planned items; `submit` returns a future of the batch."""

    def __init__(self, item: Item, workers: int, pin: bool = False):
        # spawn, not fork: a forked copy of a process running torch's thread pools can hang.
        self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_start_worker, initargs=(item,))
        self.workers = workers
        self.pin = pin

    def submit(self, plan: Sequence[tuple[tuple, int]]) -> Callable[[], dict]:
        """Start making `plan`'s items (in about one chunk per worker); the returned function
        waits for them and collates the batch."""
        size = max(1, -(-len(plan) // self.workers))
        futures: list[Future] = [self._pool.submit(_make_chunk, list(plan[i:i + size]))
                                 for i in range(0, len(plan), size)]
        return lambda: collate([it for f in futures for it in f.result()], self.pin)

    def close(self) -> None:
        """Stop the workers (pending work is dropped)."""
        self._pool.shutdown(wait=False, cancel_futures=True)


def _start_worker(item: Item) -> None:
    global _ITEM
    torch.set_num_threads(1)  # each worker decodes one item at a time; threads would compete
    _ITEM = item


def _make_chunk(plan: list[tuple[tuple, int]]) -> list[dict]:
    assert _ITEM is not None
    return make_items(_ITEM, plan)


def seeded(seed: int) -> Any:
    """The generator an item's augmentation draws from."""
    return torch.Generator().manual_seed(int(seed))
