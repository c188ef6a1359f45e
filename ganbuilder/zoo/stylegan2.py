"""rosinality/stylegan2-pytorch: Generator g, its average g_ema, Discriminator d and the mean
latent `latent_avg` (train.py's checkpoints, or convert_weight.py's from NVlabs' snapshots)
-> specs/stylegan2.yaml.

The spec's G is one flat graph (mapping, the style-mixing layer, then the 4x4 constant, then
`stages` blocks of ten layers); the reference's keys name the same layers by role, so each rule
computes the flat index from the role's number and the spec's `mapping` and `stages`."""

from ganbuilder.zoo.registry import Extra, Layout, NetworkMap, Rule, register

# The truncation layer's index: after pixel norm and the mapping's (linear, activation) pairs;
# style_mix follows it, then the constant.
_M = "2*mapping + 1"
_CONV = f"{_M} + 9 + 10*(c//2) + 3*(c%2)"   # convs.c: the block's first or second conv
_RGB = f"{_M} + 15 + 10*k"                  # to_rgbs.k
_EQ = "parametrizations.weight.original"

GENERATOR = (
    Rule(r"style\.(?P<j>\d+)\.weight", f"layers.{{2*j - 1}}.{_EQ}"),
    Rule(r"style\.(?P<j>\d+)\.bias", "layers.{2*j - 1}.parametrizations.bias.original"),
    Rule(r"input\.input", f"layers.{{{_M} + 2}}.value", reshape=True),
    Rule(r"conv1\.conv\.weight", f"layers.{{{_M} + 3}}.weight", reshape=True),
    Rule(r"conv1\.conv\.modulation\.weight", f"layers.{{{_M} + 3}}.modulation.{_EQ}"),
    Rule(r"conv1\.conv\.modulation\.bias", f"layers.{{{_M} + 3}}.modulation.bias"),
    Rule(r"conv1\.noise\.weight", f"layers.{{{_M} + 4}}.scale", reshape=True),
    Rule(r"conv1\.activate\.bias", f"layers.{{{_M} + 5}}.bias"),
    Rule(r"to_rgb1\.conv\.weight", f"layers.{{{_M} + 6}}.weight", reshape=True),
    Rule(r"to_rgb1\.conv\.modulation\.weight", f"layers.{{{_M} + 6}}.modulation.{_EQ}"),
    Rule(r"to_rgb1\.conv\.modulation\.bias", f"layers.{{{_M} + 6}}.modulation.bias"),
    Rule(r"to_rgb1\.bias", f"layers.{{{_M} + 7}}.bias", reshape=True),
    Rule(r"convs\.(?P<c>\d+)\.conv\.weight", f"layers.{{{_CONV}}}.weight", reshape=True),
    Rule(r"convs\.(?P<c>\d+)\.conv\.modulation\.weight", f"layers.{{{_CONV}}}.modulation.{_EQ}"),
    Rule(r"convs\.(?P<c>\d+)\.conv\.modulation\.bias", f"layers.{{{_CONV}}}.modulation.bias"),
    Rule(r"convs\.(?P<c>\d+)\.noise\.weight", f"layers.{{{_CONV} + 1}}.scale", reshape=True),
    Rule(r"convs\.(?P<c>\d+)\.activate\.bias", f"layers.{{{_CONV} + 2}}.bias"),
    Rule(r"to_rgbs\.(?P<k>\d+)\.conv\.weight", f"layers.{{{_RGB}}}.weight", reshape=True),
    Rule(r"to_rgbs\.(?P<k>\d+)\.conv\.modulation\.weight", f"layers.{{{_RGB}}}.modulation.{_EQ}"),
    Rule(r"to_rgbs\.(?P<k>\d+)\.conv\.modulation\.bias", f"layers.{{{_RGB}}}.modulation.bias"),
    Rule(r"to_rgbs\.(?P<k>\d+)\.bias", f"layers.{{{_RGB} + 1}}.bias", reshape=True),
    # Fixed noise maps the reference keeps for its own sampling, and the blur kernels, which
    # the spec's layers compute from their parameters.
    Rule(r"noises\.noise_\d+", None),
    Rule(r".*\.kernel", None),
)
CRITIC = (
    Rule(r"convs\.0\.0\.weight", f"layers.0.{_EQ}"),
    Rule(r"convs\.0\.1\.bias", "layers.1.bias"),
    Rule(r"convs\.(?P<k>\d+)\.conv1\.0\.weight", f"layers.{{9*k - 7}}.{_EQ}"),
    Rule(r"convs\.(?P<k>\d+)\.conv1\.1\.bias", "layers.{9*k - 6}.bias"),
    Rule(r"convs\.(?P<k>\d+)\.conv2\.1\.weight", f"layers.{{9*k - 4}}.{_EQ}"),
    Rule(r"convs\.(?P<k>\d+)\.conv2\.2\.bias", "layers.{9*k - 3}.bias"),
    Rule(r"convs\.(?P<k>\d+)\.skip\.1\.weight", f"layers.{{9*k - 1}}.{_EQ}"),
    Rule(r"final_conv\.0\.weight", f"layers.{{9*stages + 3}}.{_EQ}"),
    Rule(r"final_conv\.1\.bias", "layers.{9*stages + 4}.bias"),
    Rule(r"final_linear\.0\.weight", f"layers.{{9*stages + 6}}.{_EQ}"),
    Rule(r"final_linear\.0\.bias", "layers.{9*stages + 6}.bias"),
    Rule(r"final_linear\.1\.weight", f"layers.{{9*stages + 8}}.{_EQ}"),
    Rule(r"final_linear\.1\.bias", "layers.{9*stages + 8}.bias"),
    Rule(r".*\.kernel", None),
)
_G = ("g_ema", "g")

register(Layout(
    name="stylegan2",
    description="StyleGAN2 of rosinality/stylegan2-pytorch (train.py's checkpoints with g, d, "
                "g_ema; convert_weight.py's with g_ema, latent_avg and d)",
    reference="rosinality/stylegan2-pytorch",
    spec="stylegan2.yaml",
    networks=(
        NetworkMap("g", "G", GENERATOR),
        NetworkMap("g_ema", "G", GENERATOR, average=True),
        NetworkMap("d", "D", CRITIC),
    ),
    spec_only=(r".*\.kernel", r".*\.w_avg"),
    extras=(Extra("latent_avg", "G", f"layers.{{{_M}}}.w_avg", mean_of=4096),),
    facts={
        "mapping": ("count", _G, r"style\.(\d+)\.weight"),
        "z_dim": ("shape", _G, "style.1.weight", 1),
        "w_dim": ("shape", _G, "style.1.weight", 0),
        "rgbs": ("count", _G, r"to_rgbs\.(\d+)\.bias"),
        "channels": ("shape", _G, "to_rgb1.bias", 1),
        "top": ("shape", _G, "input.input", 1),
        "d_first": ("shape", "d", "convs.0.0.weight", 0),
        "d_blocks": ("count", "d", r"convs\.(\d+)\.conv1\.0\.weight"),
    },
    infer={"mapping": "mapping", "z_dim": "z_dim", "w_dim": "w_dim",
           "image_size": "2**(rgbs + 2)", "channels": "channels", "ch_max": "top",
           "ch_base": "d_first * 2**(d_blocks + 2)"},
    safe_globals=("argparse.Namespace",),   # train.py saves its options beside the weights
    code_advice="NVlabs' .pkl snapshots hold the networks' code: convert one with "
                "rosinality's convert_weight.py (it writes a .pt of state dicts and "
                "latent_avg) and import that",
    notes=("the reference's fixed noise maps (noises.noise_N) are not imported: ganbuilder "
           "draws noise per sample",
           "without latent_avg (train.py's checkpoints) the truncation layer's mean w is "
           "measured as rosinality's mean_latent(4096) does: the mean w of 4096 z"),
))
