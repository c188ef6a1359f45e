"""The nn.Modules of StyleGAN2 (Karras et al. 2020) that torch lacks (imports torch): FIR
resampling (upfirdn2d in plain PyTorch), modulated convolution, the bias-and-leaky-ReLU with its
gain, and a learned bias."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from ganbuilder.layers.style_modules import equalize


def fir_kernel(taps: list[float], gain: float) -> torch.Tensor:
    """The separable 2-D filter of 1-D `taps` (outer product), normalised to sum `gain`."""
    k = torch.tensor(taps, dtype=torch.float32)
    k = k[:, None] * k[None, :]
    return k * (gain / k.sum())


def upfirdn2d(x: torch.Tensor, kernel: torch.Tensor, up: int, down: int,
              pad: tuple[int, int]) -> torch.Tensor:
    """Upsample by zero insertion, pad (negative crops) both axes by `pad`, convolve each
    channel with `kernel`, keep every `down`-th pixel."""
    n, c, h, w = x.shape
    if up > 1:
        x = F.pad(x.reshape(n, c, h, 1, w, 1), [0, up - 1, 0, 0, 0, up - 1])
        x = x.reshape(n, c, h * up, w * up)
    x = F.pad(x, [pad[0], pad[1], pad[0], pad[1]])
    # conv2d is a correlation: flipping the kernel makes it the convolution upfirdn defines.
    weight = kernel.flip([0, 1]).to(x.dtype).expand(c, 1, *kernel.shape)
    return F.conv2d(x, weight, stride=down, groups=c)


class UpFirDn(nn.Module):
    """FIR filtering with optional zero-insertion upsampling and decimation."""

    def __init__(self, taps: list[float], up: int, down: int, pad: tuple[int, int],
                 gain: float | None = None):
        super().__init__()
        self.taps, self.up, self.down, self.pad = list(taps), up, down, tuple(pad)
        # Zero insertion leaves 1 / up² of the energy: the kernel's gain restores it.
        self.gain = float(up * up if gain is None else gain)
        self.register_buffer("kernel", fir_kernel(taps, self.gain))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upfirdn2d(x, self.kernel, self.up, self.down, self.pad)

    def extra_repr(self) -> str:
        return ", ".join(self._arguments())

    def _arguments(self) -> list[str]:
        """The constructor's arguments, as the module's repr shows them."""
        return [repr(self.taps), str(self.up), str(self.down), repr(self.pad), repr(self.gain)]


class ModulatedConv2d(nn.Module):
    """A convolution whose weights each sample's style scales per input channel, optionally
    demodulated to unit norm per output channel, run as one grouped convolution over the
    batch; up=2 is a fused transposed convolution then a FIR blur, down=2 a blur then a strided
    convolution (StyleGAN2). No bias: a following layer adds it."""

    def __init__(self, channels: int, out: int, kernel: int, style: int, demodulate: bool,
                 up: int, down: int, taps: list[float], index: int | None = None):
        super().__init__()
        self.index = index  # the row of per-layer styles (N, layers, w) this layer reads
        self.out, self.kernel_size, self.demodulate = out, kernel, demodulate
        self.up, self.down, self.taps = up, down, list(taps)
        self.weight = nn.Parameter(torch.randn(out, channels, kernel, kernel))
        self.scale = 1 / math.sqrt(channels * kernel * kernel)
        self.modulation = equalize(nn.Linear(style, channels), gain=1.0, bias_init=1.0)
        # The blur after a fused upsampling (gain up² as zero insertion needs) or before a
        # strided convolution; the padding makes the result exactly twice or half the size.
        if up > 1:
            p = len(taps) - up - (kernel - 1)
            self.pad = ((p + 1) // 2 + up - 1, p // 2 + 1)
        else:
            p = len(taps) - down + kernel - 1
            self.pad = ((p + 1) // 2, p // 2)
        self.register_buffer("kernel", fir_kernel(taps, up * up))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        if self.index is not None:
            w = w[:, self.index]
        if torch.compiler.is_exporting() or torch.jit.is_tracing():
            # An exported or traced graph's batch is symbolic (or fixed at the example's), and
            # a convolution's group count cannot be.
            return self._shared_weights(x, w)
        n, c, h, wd = x.shape
        style = self.modulation(w).view(n, 1, c, 1, 1)
        weight = self.weight.unsqueeze(0) * (style * self.scale)  # (N, out, in, k, k)
        if self.demodulate:
            weight = weight * torch.rsqrt(weight.pow(2).sum([2, 3, 4]) + 1e-8).view(
                n, self.out, 1, 1, 1)
        k = self.kernel_size
        if self.up > 1:
            weight = weight.transpose(1, 2).reshape(n * c, self.out, k, k)
            out = F.conv_transpose2d(x.reshape(1, n * c, h, wd), weight, stride=self.up,
                                     groups=n)
            return upfirdn2d(out.reshape(n, self.out, *out.shape[2:]), self.kernel, 1, 1, self.pad)
        if self.down > 1:
            x = upfirdn2d(x, self.kernel, 1, 1, self.pad)
            out = F.conv2d(x.reshape(1, n * c, *x.shape[2:]), weight.reshape(n * self.out, c, k, k),
                           stride=self.down, groups=n)
        else:
            out = F.conv2d(x.reshape(1, n * c, h, wd), weight.reshape(n * self.out, c, k, k),
                           padding=k // 2, groups=n)
        return out.reshape(n, self.out, *out.shape[2:])

    def _shared_weights(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """The same function with one weight for the batch: the style scales the input's
        channels and the demodulation the output's (StyleGAN2's unfused form)."""
        n, c = x.shape[:2]
        style = self.modulation(w)
        weight = self.weight * self.scale
        x = x * style.view(n, c, 1, 1)
        k = self.kernel_size
        if self.up > 1:
            out = F.conv_transpose2d(x, weight.transpose(0, 1), stride=self.up)
            out = upfirdn2d(out, self.kernel, 1, 1, self.pad)
        elif self.down > 1:
            out = F.conv2d(upfirdn2d(x, self.kernel, 1, 1, self.pad), weight, stride=self.down)
        else:
            out = F.conv2d(x, weight, padding=k // 2)
        if self.demodulate:
            norms = (weight.unsqueeze(0) * style.view(n, 1, c, 1, 1)).pow(2).sum([2, 3, 4])
            out = out * torch.rsqrt(norms + 1e-8).view(n, self.out, 1, 1)
        return out

    def extra_repr(self) -> str:
        return ", ".join(self._arguments())

    def _arguments(self) -> list[str]:
        """The constructor's arguments, as the module's repr shows them."""
        return [str(self.weight.shape[1]), str(self.out), str(self.kernel_size),
                str(self.modulation.in_features), repr(self.demodulate), str(self.up),
                str(self.down), repr(self.taps)] + ([] if self.index is None
                                                    else [f"index={self.index}"])


class FusedLeakyReLU(nn.Module):
    """leaky_relu(x + bias, slope) * gain, the bias per channel (StyleGAN2's bias_act)."""

    def __init__(self, channels: int, slope: float, gain: float, bias: bool):
        super().__init__()
        self.channels, self.slope, self.gain = channels, slope, gain
        self.bias = nn.Parameter(torch.zeros(channels)) if bias else None

    def extra_repr(self) -> str:
        return (f"{self.channels}, slope={self.slope!r}, gain={self.gain!r}, "
                f"bias={self.bias is not None}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.bias is not None:
            x = x + self.bias.view(1, -1, *([1] * (x.dim() - 2)))
        return F.leaky_relu(x, self.slope) * self.gain


class Bias(nn.Module):
    """Adds a learned per-channel bias that starts at 0."""

    def __init__(self, channels: int):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels))

    def extra_repr(self) -> str:
        return str(self.bias.numel())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.bias.view(1, -1, *([1] * (x.dim() - 2)))


class Truncation(nn.Module):
    """The truncation trick's layer: in training mode it passes w through and moves `w_avg`
    towards the batch's mean w (by 1 - decay per call); in eval mode it returns
    w_avg + psi (w - w_avg), so psi < 1 trades variety for typical samples."""

    def __init__(self, features: int, decay: float, psi: float):
        super().__init__()
        self.decay, self.psi = decay, psi
        self.register_buffer("w_avg", torch.zeros(features))

    def extra_repr(self) -> str:
        return f"{self.w_avg.numel()}, decay={self.decay!r}, psi={self.psi!r}"

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        if self.training:
            with torch.no_grad():
                self.w_avg.lerp_(w.detach().mean(0).to(self.w_avg.dtype), 1.0 - self.decay)
            return w
        if self.psi == 1.0:
            return w
        return torch.lerp(self.w_avg.to(w.dtype), w, self.psi)


class StyleMix(nn.Module):
    """w broadcast to one style per layer, (N, layers, w). In training mode, with probability
    `prob` per batch, the layers from a crossover drawn in [1, layers) read the previous
    sample's w instead (StyleGAN2's style-mixing regularisation, its second latent being
    another sample's of the batch); drawn on the device, so no step waits for the host.

    For sampling: with `capture` set, a call keeps its w as `second`; with `crossover` set
    (eval mode; a number, or a tensor of one per sample), the layers from it read `second`:
    one latent's coarse styles, another's fine."""

    def __init__(self, layers: int, prob: float):
        super().__init__()
        self.layers, self.prob = layers, prob
        self.capture = False
        self.crossover: int | None = None
        self.second: torch.Tensor | None = None

    def extra_repr(self) -> str:
        return f"{self.layers}, prob={self.prob!r}"

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        n = w.shape[0]
        ws = w.unsqueeze(1).expand(n, self.layers, w.shape[1])
        if self.training:
            if self.prob == 0 or self.layers < 2 or n < 2:
                return ws
            cut = torch.randint(1, self.layers, (), device=w.device)
            cut = torch.where(torch.rand((), device=w.device) < self.prob, cut, self.layers)
            first = torch.arange(self.layers, device=w.device).view(1, -1, 1) < cut
            return torch.where(first, ws, w.roll(1, 0).unsqueeze(1))
        if self.capture:
            self.second = w.detach()
        elif self.crossover is not None and self.second is not None:
            cut = torch.as_tensor(self.crossover, device=w.device).view(-1, 1, 1)
            first = torch.arange(self.layers, device=w.device).view(1, -1, 1) < cut
            return torch.where(first, ws, self.second.to(w.dtype).unsqueeze(1))
        return ws
