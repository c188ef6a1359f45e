"""Averaging an objective's gradients over ranks while its backward pass runs.

The objective's parameters are cut into buckets of about BUCKET_BYTES, in reverse order of
registration (backward reaches a network's last layers first). A hook on each parameter
(`register_post_accumulate_grad_hook`) counts the gradients a bucket still waits for; when a
bucket is complete its flattened gradients go out in an asynchronous all_reduce while autograd
goes on with the layers before. Buckets go out strictly in order, so every rank issues the
same collectives in the same order. After backward, buckets with parameters that got no
gradient (the same ones on every rank: each runs the same graph) go out with the gradients
there are; after the first backward such parameters move to a bucket of their own at the end
(as DDP rebuilds its buckets after its first iteration), so that they hold back no other.
Every reduction is then waited for, and each gradient becomes the sum over ranks divided
by the number of ranks, the arithmetic of one flat all_reduce.

This follows the pattern of torch's DDP reducer without its limits: the hooks fire only where
gradients are accumulated into `.grad` (the objective's own `backward(inputs=...)`), not in a
penalty's inner `autograd.grad`, and an objective may reuse graphs built in earlier ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager
from typing import Any

import torch
import torch.distributed as dist

BUCKET_BYTES = 25 * 2**20  # DDP's default bucket size


class _Bucket:
    def __init__(self, params: list[torch.Tensor]):
        self.params = params
        self.waiting = len(params)
        self.work: Any = None
        self.flat: torch.Tensor | None = None
        self.sent: list[torch.Tensor] = []


class OverlappedAverage:
    """The gradient average of one objective's parameters, overlapped with its backward."""

    def __init__(self, parameters: Sequence[torch.Tensor], world: int,
                 bucket_bytes: int = BUCKET_BYTES):
        self.world = world
        self.bucket_bytes = bucket_bytes
        unique = {id(p): p for p in parameters if p.requires_grad}
        self.params = list(unique.values())
        self.buckets: list[_Bucket] = []
        self._bucket_of: dict[int, _Bucket] = {}
        self._build(set())
        self._learned = False  # whether the buckets know which parameters get no gradient
        self._idle: set[int] = set()  # those parameters, learned in the first backward
        self.armed = False
        self._next = 0
        self._handles = [p.register_post_accumulate_grad_hook(self._ready) for p in self.params]

    def _build(self, idle: set[int]) -> None:
        """Buckets in reverse registration order; parameters in `idle` (no gradient in the
        first backward) last, so that they hold back no bucket that does get gradients."""
        self.buckets, self._bucket_of = [], {}
        order = [p for p in reversed(self.params) if id(p) not in idle]
        current: dict[torch.dtype, list[torch.Tensor]] = {}
        sizes: dict[torch.dtype, int] = {}
        for p in order:
            current.setdefault(p.dtype, []).append(p)
            sizes[p.dtype] = sizes.get(p.dtype, 0) + p.numel() * p.element_size()
            if sizes[p.dtype] >= self.bucket_bytes:
                self._close(current.pop(p.dtype))
                sizes[p.dtype] = 0
        for params in current.values():
            self._close(params)
        rest: dict[torch.dtype, list[torch.Tensor]] = {}
        for p in reversed(self.params):
            if id(p) in idle:
                rest.setdefault(p.dtype, []).append(p)
        for params in rest.values():
            self._close(params)

    def _close(self, params: list[torch.Tensor]) -> None:
        bucket = _Bucket(params)
        self.buckets.append(bucket)
        for p in params:
            self._bucket_of[id(p)] = bucket

    @contextmanager
    def during_backward(self):
        """Run the objective's backward inside: its gradients are averaged on exit."""
        for b in self.buckets:
            b.waiting, b.work, b.flat, b.sent = len(b.params), None, None, []
        self._next = 0
        self.armed = True
        try:
            yield
        finally:
            self.armed = False
        self._finish()

    def _ready(self, p: torch.Tensor) -> None:
        if not self.armed:
            return  # a backward of another objective, or outside training
        bucket = self._bucket_of[id(p)]
        bucket.waiting -= 1
        while self._next < len(self.buckets) and self.buckets[self._next].waiting == 0:
            self._send(self.buckets[self._next])
            self._next += 1

    def _send(self, bucket: _Bucket) -> None:
        bucket.sent = [p for p in bucket.params if p.grad is not None]
        if not bucket.sent:
            return
        bucket.flat = torch.cat([p.grad.reshape(-1) for p in bucket.sent])
        bucket.work = dist.all_reduce(bucket.flat, async_op=True)

    def _finish(self) -> None:
        for bucket in self.buckets[self._next:]:  # waiting for gradients that never came
            self._send(bucket)
        self._next = len(self.buckets)
        if not self._learned:  # every rank ran the same graph: the same buckets everywhere
            self._learned = True
            self._idle = {id(p) for p in self.params if p.grad is None}
        for bucket in self.buckets:
            if bucket.work is None:
                continue
            bucket.work.wait()
            flat = bucket.flat
            flat /= self.world
            offset = 0
            for p in bucket.sent:
                n = p.grad.numel()
                p.grad.copy_(flat[offset:offset + n].view_as(p.grad))
                offset += n
            bucket.work = bucket.flat = None
        if self._idle:
            self._build(self._idle)
            self._idle = set()

    def remove(self) -> None:
        """Take the hooks off the parameters."""
        for handle in self._handles:
            handle.remove()
