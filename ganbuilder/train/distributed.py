"""Several training processes (torchrun): which share of a global batch a rank trains on, the
gradient average before each optimizer step, metrics averaged over ranks, per-rank state.

Ranks are a detail of the trainer. Every rank plans the same global batch and latent sample
from the same seeded generators and makes or keeps only its own rows, so the stream of examples
is the one a single process sees. Gradients are averaged over ranks while each objective's
backward runs (grad_buckets.py: bucketed all_reduces started from gradient hooks, the pattern
of DDP's reducer) rather than by DistributedDataParallel itself: DDP's reducer allows one
backward per forward and cannot follow a gradient penalty's double backward or an objective
that reuses a graph built in an earlier objective, both of which GANs do every iteration.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist

from ganbuilder.errors import UserError
from ganbuilder.train.grad_buckets import OverlappedAverage

# A rank that waits this long for the others gives up instead of hanging the run.
_TIMEOUT = timedelta(minutes=10)


def launched() -> bool:
    """Whether torchrun started this process with more than one rank."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


class Ranks:
    """This process's place among the run's processes; world 1 (no collectives) outside torchrun.

    `rank` 0 alone writes the run folder. All methods that communicate must be called by every
    rank in the same order, which the trainer does by running the same loop on each.
    """

    def __init__(self, rank: int = 0, world: int = 1, device: torch.device | None = None):
        self.rank = rank
        self.world = world
        self.device = device or torch.device("cpu")
        self._averages: dict[tuple[int, ...], OverlappedAverage] = {}  # per parameter list

    @classmethod
    def from_env(cls, device: torch.device) -> Ranks:
        """Join torchrun's process group (nccl on CUDA, gloo otherwise), or world 1."""
        if not launched():
            return cls()
        if not dist.is_initialized():
            if device.type == "cuda":
                torch.cuda.set_device(device)
            backend = "nccl" if device.type == "cuda" else "gloo"
            dist.init_process_group(backend, timeout=_TIMEOUT,
                                    **({"device_id": device} if device.type == "cuda" else {}))
        return cls(dist.get_rank(), dist.get_world_size(), device)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world > 1

    def check_batch(self, batch_size: int) -> None:
        """A global batch must split into equal shares: the average of the ranks' mean losses
        is then the global batch's mean loss, as in one process."""
        if batch_size % self.world:
            raise UserError(f"data.batch_size {batch_size} does not split over {self.world} "
                            f"processes; choose a multiple of {self.world} (data.batch_size is "
                            "the global batch, shared out among the ranks)")

    def share(self, n: int) -> slice:
        """This rank's rows of a global batch of n."""
        size = n // self.world
        return slice(self.rank * size, (self.rank + 1) * size)

    def shard(self, tensors: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """This rank's share of every tensor of a global batch (first dimension)."""
        if not self.active:
            return dict(tensors)
        return {k: v[self.share(v.shape[0])] for k, v in tensors.items()}

    def averaging(self, parameters: Sequence[torch.Tensor]) -> contextlib.AbstractContextManager:
        """The context an objective's backward runs in: on exit each parameter's gradient is
        its mean over ranks, reduced in buckets while the backward ran (nothing in one
        process)."""
        if not self.active:
            return contextlib.nullcontext()
        key = tuple(id(p) for p in parameters)
        if key not in self._averages:
            self._averages[key] = OverlappedAverage(parameters, self.world)
        return self._averages[key].during_backward()

    def average_gradients(self, parameters: Sequence[torch.Tensor]) -> None:
        """Replace each parameter's gradient by its mean over ranks: one all_reduce of all of
        them flattened (per dtype). Parameters without a gradient are left so: every rank runs
        the same graph, so a parameter has a gradient on all ranks or on none."""
        if not self.active:
            return
        by_dtype: dict[torch.dtype, list[torch.Tensor]] = {}
        for p in parameters:
            if p.grad is not None:
                by_dtype.setdefault(p.grad.dtype, []).append(p)
        for params in by_dtype.values():
            flat = torch.cat([p.grad.reshape(-1) for p in params])
            dist.all_reduce(flat)
            flat /= self.world
            offset = 0
            for p in params:
                n = p.grad.numel()
                p.grad.copy_(flat[offset:offset + n].view_as(p.grad))
                offset += n

    def mean(self, values: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        """Each value's mean over ranks (one all_reduce); every rank passes the same keys."""
        if not self.active or not values:
            return {k: torch.as_tensor(v) for k, v in values.items()}
        keys = sorted(values)
        flat = torch.stack([torch.as_tensor(values[k], dtype=torch.float64).to(self.device)
                            .reshape(()) for k in keys])
        dist.all_reduce(flat)
        flat /= self.world
        return dict(zip(keys, flat.cpu().unbind(), strict=True))

    def mean_floats(self, values: Mapping[str, Any]) -> dict[str, float]:
        """Each value's mean over ranks as a float (one all_reduce), the device's tensors read
        back to the host in one transfer; every rank passes the same keys."""
        if self.active:
            return {k: float(v) for k, v in self.mean(values).items()}
        out: dict[str, float] = {}
        by_device: dict[torch.device, list[str]] = {}
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                by_device.setdefault(value.device, []).append(key)
            else:
                out[key] = float(value)
        for keys in by_device.values():
            read = torch.stack([values[k].detach().reshape(()).to(torch.float64)
                                for k in keys]).tolist()
            out.update(zip(keys, read, strict=True))
        return out

    def any(self, flag: bool) -> bool:
        """Whether any rank passed True (one all_reduce and a read of its result: the trainer
        asks only at the end, and folds its per-run question into the logging mean)."""
        if not self.active:
            return flag
        t = torch.tensor([int(flag)], device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())

    def gather(self, state: Any) -> list[Any]:
        """Every rank's `state` (plain values and CPU tensors), in rank order, on every rank."""
        if not self.active:
            return [state]
        out: list[Any] = [None] * self.world
        dist.all_gather_object(out, state)
        return out

    def broadcast_parameters(self, modules: Iterable[torch.nn.Module]) -> None:
        """Rank 0's parameters and buffers on every rank, so that all start alike."""
        if not self.active:
            return
        with torch.no_grad():
            for module in modules:
                for t in [*module.parameters(), *module.buffers()]:
                    dist.broadcast(t.data, 0)

    def close(self) -> None:
        """Leave the process group (at the end of a run)."""
        if self.active and dist.is_initialized():
            # Leave together: a rank that tears down its gloo connections while a peer still
            # talks on them aborts that peer ("terminate called without an active exception").
            with contextlib.suppress(RuntimeError):
                dist.barrier()
            dist.destroy_process_group()


def sync_batch_norm(module: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """`module` with its batch norms normalizing over the global batch: torch's SyncBatchNorm
    on CUDA, which runs only there, and `GlobalBatchNorm` elsewhere (gloo on the CPU)."""
    if device.type == "cuda":
        return torch.nn.SyncBatchNorm.convert_sync_batchnorm(module)
    if type(module) in (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.BatchNorm3d):
        converted = GlobalBatchNorm(module.num_features, module.eps, module.momentum,
                                    module.affine, module.track_running_stats)
        # The same parameter and buffer objects: optimizers and checkpoints see no change.
        converted._parameters = module._parameters
        converted._buffers = module._buffers
        converted.training = module.training
        return converted
    for name, child in module.named_children():
        module._modules[name] = sync_batch_norm(child, device)
    return module


class _AllReduceSum(torch.autograd.Function):
    """The sum over ranks, differentiable: each rank's gradient is the sum of all ranks'
    gradients with respect to the sum (itself differentiable, for double backward)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        out = x.clone()
        dist.all_reduce(out)
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return _AllReduceSum.apply(grad)


class GlobalBatchNorm(torch.nn.modules.batchnorm._BatchNorm):
    """Batch norm whose training statistics are those of the global batch: per-channel sums
    and sums of squares all-reduced (differentiably, so gradients flow through the statistics
    as in one process), on any backend. Outside training, or in one process, plain batch norm."""

    def _check_input_dim(self, x: torch.Tensor) -> None:
        if x.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {x.dim()}D input)")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(x)
        channels = x.shape[1]
        dims = [0, *range(2, x.dim())]
        xf = x.float()
        count = torch.full((1,), x.numel() / channels, device=x.device)
        stats = _AllReduceSum.apply(torch.cat([xf.sum(dims), (xf * xf).sum(dims), count]))
        n = stats[-1]
        mean = stats[:channels] / n
        var = stats[channels:2 * channels] / n - mean * mean
        if self.track_running_stats and self.running_mean is not None:
            with torch.no_grad():
                self.num_batches_tracked += 1
                factor = (1.0 / float(self.num_batches_tracked) if self.momentum is None
                          else self.momentum)
                self.running_mean.lerp_(mean.detach(), factor)
                self.running_var.lerp_(var.detach() * n / (n - 1), factor)
        shape = (1, channels) + (1,) * (x.dim() - 2)
        y = (xf - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        return y.to(x.dtype)


def run_launcher(argv: list[str], nproc: int) -> int:
    """`ganbuilder run ... --nproc N`: start N ranks of the same command through torch's own
    launcher (torch.distributed.run, i.e. torchrun) and return its exit code. A failure on one
    rank stops the others (the launcher's job); the failing rank prints its own message."""
    import logging

    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import get_args_parser, run

    # The ranks speak for themselves; the launcher's own log would repeat their failure.
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("torch.distributed"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    args = get_args_parser().parse_args([
        "--nproc_per_node", str(nproc), "--standalone", "--no-python", "--redirects", "0",
        "--", *_python_module(), *argv])
    try:
        run(args)
    except SignalException:
        # Ctrl-C: the launcher passed it on; the ranks stopped after one step and saved.
        return 130
    except ChildFailedError as exc:
        codes = [f.exitcode for f in exc.failures.values()]
        # The failing rank printed its message; the launcher's report would repeat it.
        return max((c for c in codes if c and c > 0), default=1)
    return 0


def _python_module() -> list[str]:
    import sys

    return [sys.executable, "-m", "ganbuilder"]


def rank() -> int:
    """This process's global rank under torchrun (RANK), 0 otherwise."""
    value = os.environ.get("RANK", "0")
    return int(value) if value.isdigit() else 0


def finish_together(seconds: float = 5.0) -> None:
    """Before a rank exits with an error: wait until every rank got there (once they have
    joined the process group), or a few seconds, so that rank 0's message is printed before
    the launcher stops the others."""
    import time

    if dist.is_available() and dist.is_initialized():
        # A rank that already left leaves nothing to wait for.
        with contextlib.suppress(RuntimeError):
            if dist.get_backend() == "gloo":
                dist.monitored_barrier(timeout=timedelta(seconds=seconds))
            else:
                dist.barrier()
        return
    if rank() > 0:
        time.sleep(seconds / 2)
