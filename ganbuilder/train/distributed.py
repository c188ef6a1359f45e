"""Several training processes (torchrun): which share of a global batch a rank trains on, the
gradient average before each optimizer step, metrics averaged over ranks, per-rank state.

Ranks are a detail of the trainer. Every rank draws the same global batch and latent sample from
the same seeded generators and keeps its own slice, so the stream of examples is the one a
single process sees. Gradients are averaged with one bucketed all_reduce per objective step
(StyleGAN2-ADA's recipe) rather than DistributedDataParallel: DDP's reducer allows one backward
per forward and cannot follow a gradient penalty's double backward or an objective that reuses
a graph built in an earlier objective, both of which GANs do every iteration.
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

    def any(self, flag: bool) -> bool:
        """Whether any rank passed True: ranks agree to stop at the same step."""
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
            dist.destroy_process_group()


def sync_batch_norm(module: torch.nn.Module) -> torch.nn.Module:
    """`module` with its batch norms as SyncBatchNorm: statistics over the global batch."""
    return torch.nn.SyncBatchNorm.convert_sync_batchnorm(module)


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
