"""Convolutions and spatial resampling on (C, H, W) inputs."""

from __future__ import annotations

from ganbuilder._lazy import LazyModule, nn
from ganbuilder.layers.construct import construct, wrap_if
from ganbuilder.layers.equalized_lr import EQUALIZED_LR, check_equalized, maybe_equalize
from ganbuilder.layers.registry import (
    Shape,
    ShapeError,
    bool_param,
    int_param,
    layer,
    rank,
)

modules = LazyModule("ganbuilder.layers.modules")

_CONV = {
    "out": int_param("output channels", minimum=1),
    "in": int_param("input channels; inferred when left out, checked when given", minimum=1),
    "kernel": int_param("kernel size", minimum=1),
    "stride": int_param("stride", 1, minimum=1),
    "padding": int_param("zero padding on each side", 0),
    "dilation": int_param("dilation", 1, minimum=1),
    "bias": bool_param("learn an additive bias", True),
    "spectral_norm": bool_param("wrap in spectral normalization (Miyato et al. 2018)", False),
}


def _check_in(name: str, p: dict, channels: int) -> None:
    if p.get("in") is not None and p["in"] != channels:
        raise ShapeError(f"{name}: expects {p['in']} input channels, got {channels}")


def _spatial(size: int, p: dict, transposed: bool) -> int:
    k, s, pad, d = p["kernel"], p["stride"], p["padding"], p["dilation"]
    if transposed:
        return (size - 1) * s - 2 * pad + d * (k - 1) + p.get("output_padding", 0) + 1
    return (size + 2 * pad - d * (k - 1) - 1) // s + 1


def _conv_shape(p: dict, inputs: list[Shape], name: str = "conv") -> Shape:
    x = inputs[0]
    rank(x, 3, name, "(C, H, W)")
    _check_in(name, p, x[0])
    h, w = (_spatial(s, p, name == "conv_transpose") for s in x[1:])
    if h < 1 or w < 1:
        raise ShapeError(f"{name}: a {x[1]}x{x[2]} input is too small for kernel {p['kernel']}")
    return (p["out"], h, w)


def _conv_params(p: dict, inputs: list[Shape]) -> int:
    # Spectral norm and equalized lr reparametrize the weight: same count, extra buffers only.
    return inputs[0][0] * p["out"] * p["kernel"] ** 2 + (p["out"] if p["bias"] else 0)


def _equalizable_conv_shape(p: dict, inputs: list[Shape]) -> Shape:
    check_equalized("conv", p)
    return _conv_shape(p, inputs)


def _same_size(received: Shape) -> dict:
    """Kernel 3 with padding 1 keeps the size; as many channels as it receives."""
    return {"out": received[0], "kernel": 3, "padding": 1} if received else {}


@layer("conv", _equalizable_conv_shape, {**_CONV, **EQUALIZED_LR}, required=("out", "kernel"),
       param_count=_conv_params, output_overwritable=True, group="convolution",
       fit_params=_same_size)
def conv(p: dict, inputs: list[Shape]):
    """2D convolution (nn.Conv2d)."""
    module = construct(nn.Conv2d, inputs[0][0], p["out"], p["kernel"], stride=p["stride"],
                       padding=p["padding"], dilation=p["dilation"], bias=p["bias"])
    return maybe_equalize(wrap_if(p["spectral_norm"], modules.spectral_norm, module), p)


@layer(
    "conv_transpose",
    lambda p, inputs: _conv_shape(p, inputs, "conv_transpose"),
    {**_CONV, "output_padding": int_param("extra size on one side of the output", 0)},
    required=("out", "kernel"),
    param_count=_conv_params,
    output_overwritable=True,
    group="convolution",
    fit_params=_same_size,
)
def conv_transpose(p: dict, inputs: list[Shape]):
    """2D transposed convolution (nn.ConvTranspose2d), the DCGAN upsampler."""
    module = construct(nn.ConvTranspose2d, inputs[0][0], p["out"], p["kernel"],
                       stride=p["stride"], padding=p["padding"],
                       output_padding=p["output_padding"], dilation=p["dilation"],
                       bias=p["bias"])
    return wrap_if(p["spectral_norm"], modules.spectral_norm, module)


def _upsample_shape(p: dict, inputs: list[Shape]) -> Shape:
    x = inputs[0]
    rank(x, 3, "upsample", "(C, H, W)")
    return (x[0], x[1] * p["scale"], x[2] * p["scale"])


@layer(
    "upsample",
    _upsample_shape,
    {
        "scale": int_param("integer scale factor", 2, minimum=1),
        "mode": {"enum": ["nearest", "bilinear"], "default": "nearest",
                 "description": "interpolation"},
    },
    primary="scale",
    output_overwritable=True,
    group="shape",
)
def upsample(p: dict, inputs: list[Shape]):
    """Spatial upsampling by an integer factor."""
    return construct(nn.Upsample, scale_factor=p["scale"], mode=p["mode"])


def _pad_shape(p: dict, inputs: list[Shape]) -> Shape:
    x = inputs[0]
    rank(x, 3, "reflection_pad", "(C, H, W)")
    if p["padding"] >= min(x[1], x[2]):
        raise ShapeError(f"reflection_pad: padding {p['padding']} must be smaller than the "
                         f"input size {x[1]}x{x[2]}")
    return (x[0], x[1] + 2 * p["padding"], x[2] + 2 * p["padding"])


@layer(
    "reflection_pad",
    _pad_shape,
    {"padding": int_param("pixels mirrored on each side", minimum=1)},
    required=("padding",),
    primary="padding",
    output_overwritable=True,
    group="shape",
)
def reflection_pad(p: dict, inputs: list[Shape]):
    """Mirror padding (nn.ReflectionPad2d), used before convs in ResNet generators."""
    return construct(nn.ReflectionPad2d, p["padding"])


def _replicate_shape(p: dict, inputs: list[Shape]) -> Shape:
    x = inputs[0]
    rank(x, 3, "replication_pad", "(C, H, W)")
    return (x[0], x[1] + 2 * p["padding"], x[2] + 2 * p["padding"])


@layer(
    "replication_pad",
    _replicate_shape,
    {"padding": int_param("pixels repeating the edge on each side", minimum=1)},
    required=("padding",),
    primary="padding",
    output_overwritable=True,
    group="shape",
)
def replication_pad(p: dict, inputs: list[Shape]):
    """Edge padding (nn.ReplicationPad2d), before CUT's anti-aliased upsampling blur."""
    return construct(nn.ReplicationPad2d, p["padding"])


def _pool_shape(p: dict, inputs: list[Shape]) -> Shape:
    x = inputs[0]
    rank(x, 3, "avg_pool", "(C, H, W)")
    k, pad = p["kernel"], p["padding"]
    s = p.get("stride") or k
    if k > min(x[1], x[2]) + 2 * pad:
        raise ShapeError(f"avg_pool: kernel {k} is larger than the {x[1]}x{x[2]} input")
    if 2 * pad > k:
        raise ShapeError(f"avg_pool: padding {pad} must be at most half the kernel {k}")
    return (x[0], (x[1] + 2 * pad - k) // s + 1, (x[2] + 2 * pad - k) // s + 1)


@layer(
    "avg_pool",
    _pool_shape,
    {"kernel": int_param("window size", 2, minimum=1),
     "stride": int_param("stride; the window size when left out", minimum=1),
     "padding": int_param("zero padding on each side", 0),
     "count_include_pad": bool_param("average over the padding too (false: over the input "
                                     "pixels only, as pix2pixHD's and SPADE's multiscale "
                                     "critics downsample)", True)},
    primary="kernel",
    group="shape",
)
def avg_pool(p: dict, inputs: list[Shape]):
    """Average pooling (nn.AvgPool2d)."""
    return construct(nn.AvgPool2d, p["kernel"], p.get("stride") or p["kernel"],
                     padding=p["padding"], count_include_pad=p["count_include_pad"])
