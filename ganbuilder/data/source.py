"""Data sets that yield batches of named tensors, and the reproducible sampler over them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ganbuilder._lazy import torch
from ganbuilder.errors import DataError

Batch = dict[str, Any]  # name -> torch.Tensor


class DataSource:
    """Holds (or lazily reads) a data set; yields batches as dicts of named tensors."""

    num_classes: int | None = None
    class_names: list[str] | None = None

    def __len__(self) -> int:
        raise NotImplementedError

    def describe(self) -> str | None:
        """One line on what was found (files, classes, sizes) for the CLI to print at start.

        None for sources with nothing to report beyond their spec (built-in data sets).
        """
        return None

    def batch(self, indices: Any, generator: Any | None) -> Batch:
        """The items at `indices` (an int64 tensor) as one batch.

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
    so its state (with the permutation and position) is all a resume needs.
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

    def next(self) -> Batch:
        return self.source.batch(self._take(), self._gen)

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
        """Tensors and ints only, so it round-trips through torch.save/load(weights_only=True)."""
        return {
            "generator": self._gen.get_state(),
            "perm": self._perm.clone(),
            "pos": self._pos,
            "epoch": self.epoch,
            "size": self._size,
        }

    def load_state_dict(self, state: dict) -> None:
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
