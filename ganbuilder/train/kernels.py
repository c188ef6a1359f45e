"""Which kernels a CUDA run may use: cuDNN's fastest per shape, or deterministic ones."""

from __future__ import annotations

import torch


def choose_kernels(device: torch.device, deterministic: bool) -> None:
    """On CUDA, let cuDNN time its convolution algorithms once per input shape and keep the
    fastest (cudnn.benchmark, as pytorch/examples and StyleGAN2-ADA do: a GAN's shapes never
    change), unless `deterministic` asks for bit-equal reruns. Other devices have no choice."""
    if device.type != "cuda":
        return
    torch.backends.cudnn.benchmark = not deterministic
    torch.backends.cudnn.deterministic = deterministic
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
