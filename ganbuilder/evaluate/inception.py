"""Inception-v3 as FID uses it: the network of the TF-ported "2015-12-05" weights
(`pt_inception-2015-12-05-6726825d.pth`, the file pytorch-fid and torch-fidelity ship), written
here so that no torchvision is needed; its 2048 pool features are what FID, KID and
precision/recall compare.

The layout and parameter names are torchvision's Inception3 (without the auxiliary head,
1008 classes), with the FID variant's differences in the mixed blocks: average pools that do
not count padding (TF's), and a max pool in the last block's pool branch (a quirk of the TF
graph that published FIDs include). A weights file is a plain state dict with those names.

The file is never downloaded. `find_weights` looks, in order, at the path given, at
`$GANBUILDER_INCEPTION`, and at torch's hub cache (`$TORCH_HOME/hub/checkpoints/`, default
`~/.cache/torch`), where pytorch-fid users already have it.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ganbuilder.errors import UserError
from ganbuilder.runs.checkpoint import quiet_load, unreadable_reason
from ganbuilder.weights_files import file_sha256, hub_dir, not_found, state_dict_differences

WEIGHTS_NAME = "pt_inception-2015-12-05-6726825d.pth"
# pytorch-fid's release asset; torch hub names a file by the first hex digits of its sha256.
WEIGHTS_URL = ("https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
               + WEIGHTS_NAME)
STANDARD_SHA256_PREFIX = "6726825d"
ENV = "GANBUILDER_INCEPTION"
FEATURES = 2048
CLASSES = 1008  # the TF graph's 1001 ImageNet classes padded to 1008
MIN_SIZE = 75  # the smallest input the stride-2 stages accept


class BasicConv2d(nn.Module):
    """Conv (no bias) + batch norm (TF's eps 0.001) + ReLU."""

    def __init__(self, cin: int, cout: int, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


def _tf_avg_pool(x: torch.Tensor) -> torch.Tensor:
    # TF's average pool leaves the zero padding out of the mean.
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class InceptionA(nn.Module):
    def __init__(self, cin: int, pool_features: int):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch5x5_1 = BasicConv2d(cin, 48, kernel_size=1)
        self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)
        self.branch_pool = BasicConv2d(cin, pool_features, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch1x1(x), b5, b3, self.branch_pool(_tf_avg_pool(x))], 1)


class InceptionB(nn.Module):
    def __init__(self, cin: int):
        super().__init__()
        self.branch3x3 = BasicConv2d(cin, 384, kernel_size=3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch3x3(x), b3, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class InceptionC(nn.Module):
    def __init__(self, cin: int, c7: int):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch7x7_1 = BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d = x
        for i in range(1, 6):
            d = getattr(self, f"branch7x7dbl_{i}")(d)
        return torch.cat([self.branch1x1(x), b7, d, self.branch_pool(_tf_avg_pool(x))], 1)


class InceptionD(nn.Module):
    def __init__(self, cin: int):
        super().__init__()
        self.branch3x3_1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch3x3_2 = BasicConv2d(192, 320, kernel_size=3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, kernel_size=3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = x
        for i in range(1, 5):
            b7 = getattr(self, f"branch7x7x3_{i}")(b7)
        return torch.cat([b3, b7, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class InceptionE(nn.Module):
    """`max_pool`: the FID graph's last block pools its pool branch by max, not average."""

    def __init__(self, cin: int, max_pool: bool):
        super().__init__()
        self.max_pool = max_pool
        self.branch1x1 = BasicConv2d(cin, 320, kernel_size=1)
        self.branch3x3_1 = BasicConv2d(cin, 384, kernel_size=1)
        self.branch3x3_2a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(cin, 448, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        d = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
        pooled = (F.max_pool2d(x, kernel_size=3, stride=1, padding=1) if self.max_pool
                  else _tf_avg_pool(x))
        return torch.cat([self.branch1x1(x), b3, d, self.branch_pool(pooled)], 1)


class FIDInception(nn.Module):
    """Inception-v3 of the FID weights; `forward` maps [N, 3, H, W] inputs already scaled to
    [-1, 1] (H, W >= 75; 299 for the standard protocol) to [N, 2048] pool features."""

    def __init__(self):
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
        self.Mixed_5b = InceptionA(192, 32)
        self.Mixed_5c = InceptionA(256, 64)
        self.Mixed_5d = InceptionA(288, 64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = InceptionC(768, 128)
        self.Mixed_6c = InceptionC(768, 160)
        self.Mixed_6d = InceptionC(768, 160)
        self.Mixed_6e = InceptionC(768, 192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = InceptionE(1280, max_pool=False)
        self.Mixed_7c = InceptionE(2048, max_pool=True)
        # Unused for features; part of the file's layout, so a strict load checks it too.
        self.fc = nn.Linear(FEATURES, CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        for name in ("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c"):
            x = getattr(self, f"Mixed_{name}")(x)
        return x.mean(dim=(2, 3))


def find_weights(path: str | Path | None = None) -> Path:
    """The Inception weights file: `path`, else $GANBUILDER_INCEPTION, else torch's hub cache.
    A missing file is a UserError saying where to put it (nothing is downloaded)."""
    if path is not None:
        where, candidate = "--inception", Path(path).expanduser()
    elif os.environ.get(ENV):
        where, candidate = f"${ENV}", Path(os.environ[ENV]).expanduser()
    else:
        where, candidate = "torch's hub cache", hub_dir() / WEIGHTS_NAME
    if candidate.is_file():
        return candidate
    raise UserError(not_found("the Inception weights for FID/KID/precision/recall", candidate,
                              where, WEIGHTS_NAME, f"pytorch-fid's file, from {WEIGHTS_URL}",
                              f"pass --inception PATH, or set ${ENV}"))


def _strip_counters(state: dict) -> dict:
    # BatchNorm's step counter is no weight; the TF port's files lack it.
    return {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}


def load_inception(path: Path) -> FIDInception:
    """The network with the weights in `path`, in eval mode; a file that is not such a state
    dict (unreadable, other keys or shapes) is a UserError naming what differs."""
    try:
        state = quiet_load(path)
    except Exception as exc:  # a pickle with code, a truncated file, not a torch file at all
        reason = unreadable_reason(exc)
        raise UserError(f"{path}: not a readable Inception weights file ({reason})") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise UserError(f"{path}: not an Inception state dict (expected a mapping of parameter "
                        f"names to tensors, as in {WEIGHTS_NAME})")
    net = FIDInception()
    want = _strip_counters(net.state_dict())
    have = _strip_counters(state)
    parts = state_dict_differences({k: tuple(v.shape) for k, v in want.items()},
                                   {k: tuple(v.shape) for k, v in have.items()})
    if parts:
        raise UserError(f"{path}: not the FID Inception-v3 weights ({WEIGHTS_NAME} layout): "
                        + "; ".join(parts))
    bad = [k for k, v in have.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise UserError(f"{path}: non-finite values in {', '.join(bad[:3])}")
    net.load_state_dict(have, strict=False)
    return net.eval().requires_grad_(False)


__all__ = ["FIDInception", "file_sha256", "find_weights", "hub_dir", "load_inception"]
