"""LPIPS (Zhang et al. 2018, "The Unreasonable Effectiveness of Deep Features as a Perceptual
Metric"), the `vgg` variant of version 0.1, computed from two weights files the user already
has; nothing is downloaded.

The files: torchvision's VGG16 ImageNet weights (`vgg16-397923af.pth`, looked for in torch's
hub cache as the pretrained VGG parts find it) and LPIPS's linear heads (`vgg.pth` of the lpips
package's `weights/v0.1/`, keys `lin0.model.1.weight` ... `lin4.model.1.weight`, shapes
(1, C, 1, 1)). The heads file is looked for at the path given (`evaluate --lpips`), at
`$GANBUILDER_LPIPS`, then in an installed lpips package (located without importing it).

The distance of two images in [-1, 1]: shift and scale per channel (LPIPS's ScalingLayer),
VGG16 features at relu1_2, relu2_2, relu3_3, relu4_3, relu5_3, each unit-normalised over
channels, the squared difference weighted per channel by the head (a 1x1 conv without bias),
averaged over space and summed over the five taps. Grey images are repeated to three
channels. relu5_3 comes after four 2x2 pools, so images need at least 16 pixels a side.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import torch
from torch import nn

from ganbuilder.errors import UserError
from ganbuilder.layers.weight_layouts import VGG_CONFIGS, WEIGHT_LAYOUTS
from ganbuilder.weights_files import hub_dir, state_dict_differences

HEADS_NAME = "vgg.pth"
HEADS_ORIGIN = "the lpips package's lpips/weights/v0.1/vgg.pth (pip install lpips, or " \
               "github.com/richzhang/PerceptualSimilarity)"
ENV = "GANBUILDER_LPIPS"
TAPS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3")
CHANNELS = (64, 128, 256, 512, 512)
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)
EPS = 1e-10
MIN_SIZE = 16


def _vgg_file() -> Path:
    layout = WEIGHT_LAYOUTS.get("torchvision_vgg16")
    return hub_dir() / str(layout.file)


def _heads_candidate(path: str | Path | None) -> tuple[Path | None, str]:
    if path is not None:
        return Path(path).expanduser(), "--lpips"
    if os.environ.get(ENV):
        return Path(os.environ[ENV]).expanduser(), f"${ENV}"
    spec = importlib.util.find_spec("lpips")  # the package's folder; its code is not run
    if spec is not None and spec.origin:
        return Path(spec.origin).parent / "weights" / "v0.1" / HEADS_NAME, "the lpips package"
    return None, "no --lpips, no $GANBUILDER_LPIPS, no lpips package"


def find_files(heads: str | Path | None = None) -> tuple[Path, Path] | str:
    """(VGG16 file, heads file) where both are present, else the one line saying which files
    LPIPS needs where (nothing is downloaded)."""
    vgg = _vgg_file()
    head_path, where = _heads_candidate(heads)
    missing = []
    if not vgg.is_file():
        missing.append(f"{vgg.name} (torchvision's VGG16 ImageNet weights) in torch's hub "
                       f"cache {vgg.parent}")
    if heads is not None and not Path(heads).expanduser().is_file():
        raise UserError(f"--lpips {heads}: no such file (LPIPS's heads, {HEADS_ORIGIN})")
    if head_path is None or not head_path.is_file():
        looked = f"looked at {head_path} ({where})" if head_path else where
        missing.append(f"LPIPS's heads {HEADS_NAME} ({HEADS_ORIGIN}; {looked}): pass "
                       f"--lpips PATH or set ${ENV}")
    if missing:
        return "LPIPS not computed: it needs " + " and ".join(missing) + \
               "; ganbuilder never downloads them"
    assert head_path is not None
    return vgg, head_path


class LPIPS(nn.Module):
    """LPIPS-vgg v0.1: torchvision's VGG16 `features` up to relu5_3 (its own keys,
    features.N) and the five linear heads (lin{k}.model.1.weight), in eval mode."""

    def __init__(self):
        super().__init__()
        modules: list[nn.Module] = []
        cin = 3
        for v in VGG_CONFIGS["vgg16"][:-1]:  # the last pool follows relu5_3
            if v == "M":
                modules.append(nn.MaxPool2d(2, 2))
            else:
                modules += [nn.Conv2d(cin, int(v), 3, padding=1), nn.ReLU()]
                cin = int(v)
        self.features = nn.Sequential(*modules)
        # torchvision indices of the taps: the ReLU before each pool, and the last one.
        self.taps = [i - 1 for i, m in enumerate(modules) if isinstance(m, nn.MaxPool2d)]
        self.taps.append(len(modules) - 1)
        for k, c in enumerate(CHANNELS):
            self.add_module(f"lin{k}", nn.Module())
            getattr(self, f"lin{k}").model = nn.Sequential(
                nn.Identity(), nn.Conv2d(c, 1, 1, bias=False))  # index 0: training's dropout
        self.register_buffer("shift", torch.tensor(SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(SCALE).view(1, 3, 1, 1))
        self.requires_grad_(False)
        self.eval()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """The distance of each pair of images (N, 1 or 3, H, W) in [-1, 1], shape (N,)."""
        if a.shape != b.shape or a.dim() != 4 or a.shape[1] not in (1, 3):
            raise UserError(f"LPIPS compares two image batches of one shape [N, 1 or 3, H, W], "
                            f"got {list(a.shape)} and {list(b.shape)}")
        if min(a.shape[-2:]) < MIN_SIZE:
            raise UserError(f"LPIPS needs images of at least {MIN_SIZE} pixels a side, got "
                            f"{a.shape[-2]}x{a.shape[-1]}")
        if a.shape[1] == 1:
            a, b = a.repeat(1, 3, 1, 1), b.repeat(1, 3, 1, 1)
        x = torch.cat([a, b]).float()
        x = (x - self.shift) / self.scale
        total = x.new_zeros(a.shape[0])
        k = 0
        for i, module in enumerate(self.features):
            x = module(x)
            if i in self.taps:
                unit = x / (x.pow(2).sum(1, keepdim=True).sqrt() + EPS)
                fa, fb = unit.chunk(2)
                head = getattr(self, f"lin{k}").model
                total = total + head((fa - fb) ** 2).mean((1, 2, 3))
                k += 1
        return total


def load_lpips(vgg: Path, heads: Path) -> LPIPS:
    """The LPIPS network with the two files' weights (torchvision's classifier keys ignored);
    a file with other keys or shapes is a UserError naming what differs."""
    from ganbuilder.train.pretrained import read_state_dict

    net = LPIPS()
    want = net.state_dict()
    state = {}
    for path, prefix, what in ((vgg, "features.", "LPIPS's VGG16"),
                               (heads, "lin", "LPIPS's linear heads")):
        have = {k: v for k, v in read_state_dict(path, what).items() if k.startswith(prefix)}
        mine = {k: tuple(v.shape) for k, v in want.items() if k.startswith(prefix)}
        parts = state_dict_differences(mine, {k: tuple(v.shape) for k, v in have.items()})
        if parts:
            raise UserError(f"{path}: not {what} weights: {'; '.join(parts)}")
        state.update(have)
    for name in ("shift", "scale"):
        state[name] = want[name]
    net.load_state_dict(state)
    return net


__all__ = ["CHANNELS", "LPIPS", "TAPS", "find_files", "load_lpips"]
