"""Data sets that yield batches of named tensors, and the reproducible sampler over them."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from ganbuilder._lazy import torch
from ganbuilder.data.loader import WorkerPool, collate, make_items, seeded
from ganbuilder.errors import DataError

Batch = dict[str, Any]  # name -> torch.Tensor


class DataSource:
    """Holds (or lazily reads) a data set; yields batches as dicts of named tensors."""

    num_classes: int | None = None
    class_names: list[str] | None = None
    # Items are read from files: made one by one, each with its own seed, in `data.workers`
    # processes. In-memory sources make a whole batch at once instead.
    decodes: bool = False

    def __len__(self) -> int:
        raise NotImplementedError

    def describe(self) -> str | None:
        """One line on what was found (files, classes, sizes) for the CLI to print at start.

        None for sources with nothing to report beyond their spec (built-in data sets).
        """
        return None

    def batch(self, indices: Any, generator: Any | None) -> Batch:
        """The items at `indices` (an int64 tensor) as one batch, row i made from indices[i]
        alone (so that a rank can make only its rows of a global batch).

        `generator` drives random augmentation; None means deterministic (no flips, center crops).
        """
        raise NotImplementedError

    def sampler(self, batch_size: int, seed: int) -> BatchSampler:
        return BatchSampler(self, batch_size, seed)

    def fixed_batch(self, n: int) -> Batch:
        """The first n items (cycling if fewer), without augmentation: for sample grids."""
        return self.batch(torch.arange(n) % len(self), None)


class TensorSource(DataSource):
    """A data set held in memory; `transform` turns the stored rows into batch tensors."""

    def __init__(
        self,
        tensors: dict[str, Any],
        transform: Callable[[Batch], Batch] | None = None,
        num_classes: int | None = None,
        class_names: list[str] | None = None,
    ):
        self.tensors = tensors
        self.transform = transform
        self.num_classes = num_classes
        self.class_names = class_names
        self._len = len(next(iter(tensors.values())))

    def __len__(self) -> int:
        return self._len

    def batch(self, indices: Any, generator: Any | None) -> Batch:
        out = {name: t[indices] for name, t in self.tensors.items()}
        return self.transform(out) if self.transform else out


class BatchSampler:
    """Infinite, reproducible epoch-shuffled batches.

    Items are drawn without replacement within an epoch; the last partial batch of an epoch is
    dropped and a new permutation starts. Shuffling and augmentation share one torch.Generator,
    so its state (with the permutation and position) is all a resume needs. For a source that
    `decodes` files, the generator draws one seed per item and each item's augmentation uses its
    own seed: items can then be made in worker processes, one batch ahead, and under several
    ranks each rank makes only its `share` of the global batch, all without changing a batch.
    """

    def __init__(self, source: DataSource, batch_size: int, seed: int):
        n = len(source)
        if batch_size > n:
            raise DataError(
                f"batch_size {batch_size} is larger than the data set ({n} items)",
                path="data.batch_size",
            )
        self.source = source
        self.batch_size = batch_size
        self.epoch = 0  # permutations started so far
        self._size = n
        self._gen = torch.Generator().manual_seed(seed)
        self._perm = torch.empty(0, dtype=torch.int64)
        self._pos = 0
        self.share: slice | None = None  # this rank's rows of each global batch
        self._pool: WorkerPool | None = None
        self._ahead: tuple[dict, Callable[[], Batch]] | None = None  # (state before, batch)
        self._pin = False

    @staticmethod
    def decode(source: DataSource, index: tuple, generator: Any | None) -> Batch:
        """The items at `index` (the indices `_indices` plans) as one batch."""
        return source.batch(index[0], generator)

    def _indices(self) -> tuple:
        """The next batch's indices into the source."""
        return (self._take(),)

    def use_workers(self, workers: int, pin: bool = False) -> None:
        """Make a decoding source's items in `workers` processes, one batch ahead (0: in this
        process, when asked); `pin` puts batches in pinned memory for fast copies to CUDA."""
        self.close()
        self._pin = pin
        if workers > 0 and self.source.decodes:
            self._pool = WorkerPool(partial(_make_item, type(self).decode, self.source),
                                    workers, pin)

    def close(self) -> None:
        """Stop the workers, if any (the next batch is then made here)."""
        self._rewind()
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def next(self) -> Batch:
        if not self.source.decodes:
            index = self._indices()  # planned for the global batch: the same on every rank
            if self.share is not None:  # rows are made independently: this rank's rows only
                index = tuple(t[self.share] for t in index)
            return self.decode(self.source, index, self._gen)
        if self._ahead is not None:
            batch, self._ahead = self._ahead[1](), None
        else:
            batch = collate(make_items(partial(_make_item, self.decode, self.source),
                                       self._plan()), self._pin)
        if self._pool is not None:
            before = self._state()
            self._ahead = (before, self._pool.submit(self._plan()))
        return batch

    def _plan(self) -> list[tuple[tuple, int]]:
        """The next batch's items (this rank's share) as (indices, seed) pairs: the seeds come
        from the sampler's generator for the whole global batch, so the stream is the same for
        any number of ranks and workers."""
        index = self._indices()
        seeds = torch.randint(2**62, (len(index[0]),), generator=self._gen)
        rows = range(len(seeds))[self.share] if self.share is not None else range(len(seeds))
        return [(tuple(int(t[j]) for t in index), int(seeds[j])) for j in rows]

    def _rewind(self) -> None:
        """Forget a batch made ahead: the sampler is back where the consumer is."""
        if self._ahead is not None:
            self.load_state_dict(self._ahead[0])

    def _take(self) -> Any:
        """The next batch_size indices of the epoch, starting a new permutation when needed."""
        if self._pos + self.batch_size > len(self._perm):
            self._perm = torch.randperm(self._size, generator=self._gen)
            self._pos = 0
            self.epoch += 1
        indices = self._perm[self._pos : self._pos + self.batch_size]
        self._pos += self.batch_size
        return indices

    def __iter__(self) -> BatchSampler:
        return self

    def __next__(self) -> Batch:
        return self.next()

    def state_dict(self) -> dict:
        """Tensors and ints only, so it round-trips through torch.save/load(weights_only=True).
        A batch made ahead is not yet consumed: the state is the one from before it."""
        return self._ahead[0] if self._ahead is not None else self._state()

    def load_state_dict(self, state: dict) -> None:
        self._ahead = None  # a batch made ahead from the old state no longer follows
        self._load(state)

    def _state(self) -> dict:
        return {
            "generator": self._gen.get_state(),
            "perm": self._perm.clone(),
            "pos": self._pos,
            "epoch": self.epoch,
            "size": self._size,
        }

    def _load(self, state: dict) -> None:
        if int(state["size"]) != self._size:
            raise DataError(
                f"the saved sampler state is for a data set of {int(state['size'])} items, "
                f"but this one has {self._size}; did the data change since the checkpoint?",
                path="data",
            )
        self._gen.set_state(state["generator"])
        self._perm = state["perm"].clone().to(torch.int64)
        self._pos = int(state["pos"])
        self.epoch = int(state["epoch"])


def _make_item(decode: Callable, source: DataSource, index: tuple, seed: int) -> Batch:
    """One planned item as a batch of one, its augmentation drawn from its own seed."""
    return decode(source, tuple(torch.tensor([i]) for i in index), seeded(seed))
