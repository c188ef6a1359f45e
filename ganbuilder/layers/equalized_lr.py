"""The `equalized_lr` and `lr_mul` options of `linear` and `conv` (torch-free until built)."""

from __future__ import annotations

from ganbuilder._lazy import LazyModule
from ganbuilder.layers.construct import Construct, wrap_if
from ganbuilder.layers.registry import ShapeError, bool_param, num_param

style_modules = LazyModule("ganbuilder.layers.style_modules")

EQUALIZED_LR = {
    "equalized_lr": bool_param(
        "equalized learning rate (ProGAN, StyleGAN): weights stored as N(0, 1) and scaled at run "
        "time by He's constant sqrt(2 / fan_in); biases start at 0", False),
    "lr_mul": num_param("with equalized_lr: multiplies the layer's effective learning rate "
                        "(StyleGAN's mapping network: 0.01)", 1.0, minimum=0),
    "gain": num_param("with equalized_lr: the runtime scale is gain / sqrt(fan_in) (StyleGAN2 "
                      "puts sqrt(2) in its activation and uses 1)", 2 ** 0.5, minimum=0),
    "bias_init": num_param("with equalized_lr: the biases' first value (StyleGAN2's "
                           "modulation: 1)", 0.0),
}


def check_equalized(name: str, p: dict) -> None:
    """The options' combinations that make no sense, as shape errors."""
    if p["equalized_lr"] and p["spectral_norm"]:
        raise ShapeError(f"{name}: choose one of equalized_lr and spectral_norm")
    if p["lr_mul"] != 1.0 and not p["equalized_lr"]:
        raise ShapeError(f"{name}: lr_mul needs equalized_lr: true")
    if (p["gain"] != 2 ** 0.5 or p["bias_init"] != 0) and not p["equalized_lr"]:
        raise ShapeError(f"{name}: gain and bias_init need equalized_lr: true")
    if p["lr_mul"] <= 0:
        raise ShapeError(f"{name}: lr_mul must be positive")


def maybe_equalize(module: Construct, p: dict) -> Construct:
    """The module with equalized learning rate when the layer asks for it."""
    return wrap_if(p["equalized_lr"], style_modules.equalize, module, gain=p["gain"],
                   lr_mul=p["lr_mul"], bias_init=p["bias_init"])
