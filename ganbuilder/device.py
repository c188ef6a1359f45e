"""Which torch device a run uses, and a clear refusal when this torch build has none such."""

from __future__ import annotations

import os
import re

import torch

from ganbuilder.errors import UserError
from ganbuilder.spec.schema import DEVICE_PATTERN


def local_rank() -> int | None:
    """This process's rank on its machine under torchrun (LOCAL_RANK), None when not launched
    by it."""
    value = os.environ.get("LOCAL_RANK")
    return int(value) if value is not None and value.isdigit() else None


def torch_build() -> str:
    """One phrase naming the installed torch build: its version and accelerator support."""
    if torch.version.cuda:
        kind = f"CUDA {torch.version.cuda}"
    elif getattr(torch.version, "hip", None):
        kind = f"ROCm {torch.version.hip}"
    elif getattr(torch.backends, "mps", None) and torch.backends.mps.is_built():
        kind = "MPS"
    else:
        kind = "CPU only"
    return f"torch {torch.__version__} ({kind})"


def pick_device(name: str = "auto", rank: int | None = None) -> torch.device:
    """The device `name` asks for: `auto` is CUDA, then MPS, then the CPU; `cuda` under torchrun
    is the local rank's GPU (`rank`, default LOCAL_RANK). A device this torch build or machine
    does not have is a UserError that says which build is installed and what to do."""
    rank = local_rank() if rank is None else rank
    if not isinstance(name, str) or not re.match(DEVICE_PATTERN, name):
        raise UserError(f"--device {name}: not a device; use auto, cpu, cuda, cuda:N or mps")
    if name == "auto":
        if torch.cuda.is_available():
            name = "cuda"
        elif _mps_available():
            name = "mps"
        else:
            return torch.device("cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "mps":
        if not _mps_available():
            built = getattr(torch.backends, "mps", None) and torch.backends.mps.is_built()
            why = ("this macOS machine offers no Metal GPU" if built
                   else f"{torch_build()} is installed, which has no MPS support")
            raise UserError(f"--device mps: {why}; MPS needs Apple silicon with a macOS build "
                            "of torch (pip install torch on the Mac), or use --device cpu")
        return torch.device("mps")
    return _cuda(name, rank)


def _cuda(name: str, rank: int | None) -> torch.device:
    if not torch.version.cuda and not getattr(torch.version, "hip", None):
        raise UserError(f"--device {name}: {torch_build()} is installed, which cannot use a "
                        "GPU; install a CUDA build of torch (see https://pytorch.org/get-started"
                        "/locally, e.g. pip install torch --index-url https://download.pytorch"
                        ".org/whl/cu124) or use --device cpu")
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count == 0:
        raise UserError(f"--device {name}: {torch_build()} is installed but it sees no CUDA "
                        "device (check nvidia-smi, the driver and CUDA_VISIBLE_DEVICES), or "
                        "use --device cpu")
    index = int(name.split(":")[1]) if ":" in name else (rank or 0)
    if index >= count:
        which = f"cuda:{index}" + ("" if ":" in name else f" (local rank {rank})")
        raise UserError(f"--device {name}: {which} does not exist; this machine has {count} "
                        f"CUDA device(s), cuda:0..cuda:{count - 1}")
    return torch.device("cuda", index)


def _mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
