"""Batches made in a background thread, ahead of the training thread.

The training thread only takes finished batches from a queue: indexing and resizing an
in-memory set, or collating (and, for CUDA, pinning) what the decoding workers made, happens
meanwhile in the prefetch thread, `depth` batches ahead. The sampler is the one source of the
stream, used by that thread alone while it runs; the state a checkpoint saves is the one from
before the first batch the training thread has not taken, so a resume neither skips nor
repeats a batch.
"""

from __future__ import annotations

import collections
import queue
import threading
from collections.abc import Iterable
from typing import Any

from ganbuilder.data.source import Batch


class Prefetcher:
    """Wraps a BatchSampler: `next()` returns its batches, made `depth` ahead in a thread.

    `keys` keeps only the tensors training reads (a label nothing reads is neither pinned nor
    copied); `pin` puts each batch in pinned memory once, in the thread, so that the copy to a
    CUDA device can be non_blocking. The thread starts with the first `next()` and stops on
    `close()`, `state_dict()` and `load_state_dict()` (it restarts on the next `next()`).
    """

    def __init__(self, sampler: Any, depth: int = 2, pin: bool = False,
                 keys: Iterable[str] | None = None):
        self.sampler = sampler
        self.depth = depth
        self.pin = pin
        self.keys = None if keys is None else frozenset(keys)
        self._queue: queue.Queue = queue.Queue(depth)
        self._states: collections.deque = collections.deque()  # before each unconsumed batch
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the training thread's side ------------------------------------------------------------
    def next(self) -> Batch:
        """The next batch (waits only when the thread has not made it yet)."""
        if self._thread is None:
            self._start()
        item = self._queue.get()
        if isinstance(item, BaseException):
            self._join()
            raise item
        with self._lock:
            self._states.popleft()
        return item

    __next__ = next

    def __iter__(self) -> Prefetcher:
        return self

    def state_dict(self) -> dict:
        """The sampler's state before the first batch not yet taken by `next()`."""
        self._rewind()
        return self.sampler.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self._rewind()
        self.sampler.load_state_dict(state)

    def close(self) -> None:
        """Stop the thread and the sampler's workers; the sampler is left where `next()` is."""
        self._rewind()
        self.sampler.close()

    # -- the prefetch thread -----------------------------------------------------------------
    def _start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._work, name="ganbuilder-prefetch",
                                        daemon=True)
        self._thread.start()

    def _work(self) -> None:
        try:
            while not self._stop.is_set():
                with self._lock:
                    self._states.append(self.sampler.state_dict())
                batch = self._prepare(self.sampler.next())
                if not self._put(batch):
                    return
        except BaseException as exc:  # the training thread raises it, with its message
            self._put(exc)

    def _put(self, item: object) -> bool:
        """Queue `item`, waiting for room unless told to stop; whether it was queued."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _prepare(self, batch: Batch) -> Batch:
        if self.keys is not None:
            batch = {k: v for k, v in batch.items() if k in self.keys}
        if self.pin:
            batch = {k: v if v.is_pinned() else v.pin_memory() for k, v in batch.items()}
        return batch

    # -- stopping -----------------------------------------------------------------------------
    def _join(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None

    def _rewind(self) -> None:
        """Stop the thread, drop the batches made ahead and put the sampler back where the
        training thread is."""
        if self._thread is None:
            return
        self._join()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        with self._lock:
            first = self._states[0] if self._states else None
            self._states.clear()
        if first is not None:
            self.sampler.load_state_dict(first)


def prefetched(sampler: Any, device_type: str, keys: Iterable[str] | None,
               depth: int = 2) -> Prefetcher:
    """`sampler`'s batches made ahead in a thread, pinned when they go to a CUDA device."""
    return Prefetcher(sampler, depth, pin=device_type == "cuda", keys=keys)

