"""StyleGAN2's layers (Karras et al. 2020): FIR resampling, modulated convolution, the bias and
leaky ReLU with its gain, and a learned bias. Noise with one strength is `noise: false`,
equalized layers with StyleGAN2's gain are `linear`/`conv` with `equalized_lr: true, gain: 1`."""

from __future__ import annotations

from ganbuilder._lazy import LazyModule
from ganbuilder.layers.construct import construct
from ganbuilder.layers.registry import (
    Shape,
    ShapeError,
    bool_param,
    format_shape,
    int_param,
    layer,
    num_param,
    rank,
)

stylegan2_modules = LazyModule("ganbuilder.layers.stylegan2_modules")

_TAPS = {"type": "array", "items": {"type": "number"}, "minItems": 1, "default": [1, 3, 3, 1],
         "description": "1-D filter taps; the 2-D filter is their outer product, normalised"}


def default_pad(taps: int, up: int, down: int) -> tuple[int, int]:
    """Padding that makes upfirdn an exact up-by-`up` / down-by-`down` resampling (or, with
    neither, keeps the size: a blur)."""
    if up > 1:
        p = taps - up
        return (p + 1) // 2 + up - 1, p // 2
    p = taps - down if down > 1 else taps - 1
    return (p + 1) // 2, p // 2


def _pad(p: dict) -> tuple[int, int]:
    if p.get("pad") is not None:
        return tuple(p["pad"])
    return default_pad(len(p["taps"]), p["up"], p["down"])


def _upfirdn_shape(p: dict, inputs: list[Shape]) -> Shape:
    x = inputs[0]
    rank(x, 3, "upfirdn", "(C, H, W)")
    pad0, pad1 = _pad(p)
    k = len(p["taps"])
    sizes = [(s * p["up"] + pad0 + pad1 - k) // p["down"] + 1 for s in x[1:]]
    if min(sizes) < 1:
        raise ShapeError(f"upfirdn: {format_shape(x)} padded by {pad0}, {pad1} is too small for "
                         f"{k} taps")
    return (x[0], *sizes)


@layer(
    "upfirdn",
    _upfirdn_shape,
    {"taps": _TAPS,
     "up": int_param("upsampling factor (zero insertion before the filter)", 1, minimum=1),
     "down": int_param("downsampling factor (every n-th pixel after the filter)", 1, minimum=1),
     "pad": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2,
             "description": "[before, after] padding of both axes; left out, the padding of an "
                            "exact resampling by up or down (or a size-keeping blur)"}},
    primary="up",
    group="attention/style",
)
def upfirdn(p: dict, inputs: list[Shape]):
    """Upsample, FIR-filter, downsample (upfirdn2d in plain PyTorch): StyleGAN2's resampling
    of images and features, and its blur. The filter's gain is up² so brightness is kept."""
    return construct(stylegan2_modules.UpFirDn, p["taps"], p["up"], p["down"], _pad(p))


def _modconv_shape(p: dict, inputs: list[Shape]) -> Shape:
    x, w = inputs
    rank(x, 3, "modulated_conv", "(C, H, W)")
    index = p.get("index")
    if index is None and len(w) != 1:
        raise ShapeError(f"modulated_conv: 'with' must name a style vector, got "
                         f"{format_shape(w)}; give 'index' to read one of per-layer styles")
    if index is not None and len(w) != 2:
        raise ShapeError(f"modulated_conv: 'index' reads one row of per-layer styles "
                         f"(layers, w) such as style_mix's, got {format_shape(w)}")
    if index is not None and index >= w[0]:
        raise ShapeError(f"modulated_conv: index {index} is past the {w[0]} per-layer styles "
                         f"of 'with'")
    if p["up"] > 1 and p["down"] > 1:
        raise ShapeError("modulated_conv: choose one of up and down")
    if p["up"] not in (1, 2) or p["down"] not in (1, 2):
        raise ShapeError("modulated_conv: up and down are 1 or 2")
    k = p["kernel"]
    if p["up"] > 1:
        size = [2 * s for s in x[1:]]
    elif p["down"] > 1:
        # The blur pads by taps - 2 + k - 1 in all, leaving s + k - 2 pixels for the conv.
        size = [(s - 2) // 2 + 1 for s in x[1:]]
    else:
        if k % 2 == 0:
            raise ShapeError(f"modulated_conv: kernel {k} must be odd to keep the size")
        size = list(x[1:])
    if min(size) < 1:
        raise ShapeError(f"modulated_conv: {format_shape(x)} is too small")
    return (p["out"], *size)


@layer(
    "modulated_conv",
    _modconv_shape,
    {"out": int_param("output channels", minimum=1),
     "kernel": int_param("kernel size", 3, minimum=1),
     "with": {"type": "string", "description": "id or network input holding the style w"},
     "demodulate": bool_param("scale each output channel's weights to unit norm (off for "
                              "toRGB)", True),
     "up": int_param("2: a fused transposed convolution doubling the size, then a blur", 1,
                     minimum=1),
     "down": int_param("2: a blur, then a strided convolution halving the size", 1, minimum=1),
     "taps": _TAPS,
     "index": int_param("which row of per-layer styles (layers, w) this layer reads, when "
                        "'with' names style_mix's output (StyleGAN2's layer index)")},
    required=("out", "with"),
    refs=("with",),
    # Weights out x in x k x k, and the style's equalized affine map to one scale per input.
    param_count=lambda p, inputs: (p["out"] * inputs[0][0] * p["kernel"] ** 2
                                   + (inputs[1][-1] + 1) * inputs[0][0]),
    group="attention/style",
    fit_params=lambda received: {"out": received[0]} if received else {},
)
def modulated_conv(p: dict, inputs: list[Shape]):
    """StyleGAN2's convolution: weights scaled per input channel by an affine map of the style
    `with` (starting at 1), demodulated, run as one grouped convolution; no bias."""
    return construct(stylegan2_modules.ModulatedConv2d, inputs[0][0], p["out"], p["kernel"],
                     inputs[1][-1], p["demodulate"], p["up"], p["down"], p["taps"],
                     p.get("index"))


def _per_channel(name: str):
    def rule(p: dict, inputs: list[Shape]) -> Shape:
        if not inputs[0]:
            raise ShapeError(f"{name}: expects features or channels, got a scalar per sample")
        return inputs[0]

    return rule


@layer(
    "fused_leaky_relu",
    _per_channel("fused_leaky_relu"),
    {"slope": num_param("slope for negative inputs", 0.2, minimum=0),
     "gain": num_param("the output's factor, keeping the variance (sqrt(2))", 2 ** 0.5,
                       minimum=0),
     "bias": bool_param("add a learned per-channel bias (from 0) first", True)},
    primary="bias",
    param_count=lambda p, inputs: inputs[0][0] if p["bias"] else 0,
    group="activation",
)
def fused_leaky_relu(p: dict, inputs: list[Shape]):
    """leaky_relu(x + bias, slope) * gain (StyleGAN2's bias_act)."""
    return construct(stylegan2_modules.FusedLeakyReLU, inputs[0][0], p["slope"], p["gain"],
                     p["bias"])


@layer("bias", _per_channel("bias"), param_count=lambda p, inputs: inputs[0][0],
       output_overwritable=True, group="shape")
def bias(p: dict, inputs: list[Shape]):
    """Adds a learned per-channel bias, 0 at first (after a bias-free modulated_conv)."""
    return construct(stylegan2_modules.Bias, inputs[0][0])


def _truncation_shape(p: dict, inputs: list[Shape]) -> Shape:
    if len(inputs[0]) != 1:
        raise ShapeError(f"truncation: expects a style vector per sample, got "
                         f"{format_shape(inputs[0])}")
    return inputs[0]


@layer(
    "truncation",
    _truncation_shape,
    {"decay": num_param("how slowly the tracked mean w follows each training batch's (NVlabs: "
                        "0.995)", 0.995, minimum=0),
     "psi": num_param("in eval mode, w_avg + psi (w - w_avg); 1 leaves w alone (`sample` and "
                      "`export` take --psi)", 1.0)},
    group="attention/style",
)
def truncation(p: dict, inputs: list[Shape]):
    """The truncation trick: tracks the mean style while training; when sampling pulls w
    towards it by psi (Karras et al. 2019), for more typical images."""
    return construct(stylegan2_modules.Truncation, inputs[0][0], p["decay"], p["psi"])


def _style_mix_shape(p: dict, inputs: list[Shape]) -> Shape:
    if len(inputs[0]) != 1:
        raise ShapeError(f"style_mix: expects a style vector per sample, got "
                         f"{format_shape(inputs[0])}")
    return (p["layers"], inputs[0][0])


@layer(
    "style_mix",
    _style_mix_shape,
    {"layers": int_param("how many per-layer styles (StyleGAN2: 2 log2(size) - 2, one per "
                         "modulated convolution and toRGB, read by their 'index')", minimum=1),
     "prob": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.9,
              "description": "how often a training batch mixes two latents' styles "
                             "(StyleGAN2: 0.9; 0: never)"}},
    required=("layers",),
    primary="layers",
    group="attention/style",
    fit_params=lambda received: {"layers": 2},
)
def style_mix(p: dict, inputs: list[Shape]):
    """w broadcast to one style per layer, (layers, w); while training, with probability
    `prob` a batch's layers from a random crossover on read another sample's w (StyleGAN2's
    style-mixing regularisation); `sample --mix-seed` mixes two latents' styles."""
    return construct(stylegan2_modules.StyleMix, p["layers"], float(p["prob"]))


def style_mix_layers(network) -> list:
    """The style_mix modules of a built network (or model), in order."""
    return [m for m in network.modules() if type(m).__name__ == "StyleMix"]


def capture_styles(network) -> list:
    """Make every style_mix layer keep the w of the next call as its second styles (sampling
    with two latents: call the network on the second latent next); returns the layers."""
    layers = style_mix_layers(network)
    for m in layers:
        m.capture, m.crossover = True, None
    return layers


def mix_styles(layers: list, crossover) -> None:
    """From now on (eval mode) the layers of `layers`' styles from `crossover` on read the
    captured second styles: the first latent's coarse styles, the second's fine ones.
    `crossover` is a number, or a tensor of one per sample."""
    for m in layers:
        if isinstance(crossover, int) and not 0 <= crossover <= m.layers:
            raise ValueError(f"the crossover must be in 0..{m.layers} (the style layers), got "
                             f"{crossover}")
        m.capture, m.crossover = False, crossover


def truncation_layers(network) -> list:
    """The truncation modules of a built network (or model), in order."""
    return [m for m in network.modules() if type(m).__name__ == "Truncation"]


def set_truncation(network, psi: float) -> int:
    """Set psi on every truncation layer of a built network; returns how many it has."""
    layers = truncation_layers(network)
    for m in layers:
        m.psi = float(psi)
    return len(layers)
