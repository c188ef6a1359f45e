"""ajbrock/BigGAN-PyTorch: Generator G, its average G_ema and Discriminator D (`G.pth`,
`G_ema.pth`, `D.pth`, one state dict each; hier latent, shared embedding, SN everywhere)
-> specs/biggan.yaml, whose two up-blocks and two down-blocks with attention at 8x8 are one
BigGAN-PyTorch architecture (its arch table's layout at 16 pixels).

BigGAN-PyTorch keeps, per spectrally normalised weight, its estimate of the first left
singular vector (`u0`) and the last singular value (`sv0`); at every forward pass, training
or not, it takes one power-iteration step from u0. The spec's layers use torch's spectral
norm, which in eval mode divides by u . W v with its stored u and v: the importer derives
that v and u from u0 by the same step (layout.spectral_norm), so the two agree exactly."""

from ganbuilder.zoo.registry import Layout, NetworkMap, Rule, register

_SN = r"(?P<sn>weight|bias|u0|sv0)"


def _sn(pattern: str, target: str) -> tuple[Rule, ...]:
    """A spectrally normalised layer: weight, bias, u0 (-> torch's _u), sv0 (dropped)."""
    return (
        Rule(pattern + r"\.weight", target + ".parametrizations.weight.original"),
        Rule(pattern + r"\.bias", target + ".bias"),
        Rule(pattern + r"\.u0", target + ".parametrizations.weight.0._u", reshape=True),
        Rule(pattern + r"\.sv0", None),
    )


def _attention(pattern: str, index: str) -> tuple[Rule, ...]:
    ours = {"theta": "query", "phi": "key", "g": "value", "o": "out"}
    return (Rule(pattern + r"\.gamma", f"layers.{index}.gamma"),
            *(rule for theirs, mine in ours.items()
              for rule in _sn(pattern + rf"\.{theirs}", f"layers.{index}.{mine}")))


_BLOCK = r"blocks\.(?P<b>[01])\.0"   # the spec's blocks b = 0, 1: layers 4 + 13 b onwards
GENERATOR = (
    Rule(r"shared\.weight", "layers.0.weight"),
    *_sn(r"linear", "layers.2"),
    *_sn(_BLOCK + r"\.conv_sc", "layers.{7 + 13*b}"),
    *_sn(_BLOCK + r"\.conv1", "layers.{11 + 13*b}"),
    *_sn(_BLOCK + r"\.conv2", "layers.{14 + 13*b}"),
    *(rule for bn, at in (("bn1", "8"), ("bn2", "12")) for rule in (
        *_sn(_BLOCK + rf"\.{bn}\.gain", f"layers.{{{at} + 13*b}}.gain"),
        *_sn(_BLOCK + rf"\.{bn}\.bias", f"layers.{{{at} + 13*b}}.bias"),
        Rule(_BLOCK + rf"\.{bn}\.stored_(?P<s>mean|var)",
             f"layers.{{{at} + 13*b}}.norm.running_{{s}}"),
    )),
    *_attention(r"blocks\.0\.1", "16"),
    Rule(r"output_layer\.0\.gain", "layers.29.weight"),
    Rule(r"output_layer\.0\.bias", "layers.29.bias"),
    Rule(r"output_layer\.0\.stored_(?P<s>mean|var)", "layers.29.running_{s}"),
    *_sn(r"output_layer\.2", "layers.31"),
)
CRITIC = (
    *_sn(r"blocks\.0\.0\.conv_sc", "layers.1"),
    *_sn(r"blocks\.0\.0\.conv1", "layers.2"),
    *_sn(r"blocks\.0\.0\.conv2", "layers.4"),
    *_attention(r"blocks\.0\.1", "7"),
    *_sn(r"blocks\.1\.0\.conv_sc", "layers.8"),
    *_sn(r"blocks\.1\.0\.conv1", "layers.11"),
    *_sn(r"blocks\.1\.0\.conv2", "layers.13"),
    *_sn(r"linear", "layers.18.linear"),
    *_sn(r"embed", "layers.18.embed"),
)

register(Layout(
    name="biggan",
    description="BigGAN of ajbrock/BigGAN-PyTorch (G.pth, G_ema.pth, D.pth; --hier "
                "--G_shared, an arch of two blocks a side, attention at 8x8)",
    reference="ajbrock/BigGAN-PyTorch",
    spec="biggan.yaml",
    networks=(
        NetworkMap("G", "G", GENERATOR, files=(r"^G(_\d+)?\.pth$",)),
        NetworkMap("G_ema", "G", GENERATOR, average=True, files=(r"^G_ema",)),
        NetworkMap("D", "D", CRITIC, files=(r"^D(_\d+)?\.pth$",)),
    ),
    facts={
        "classes": ("shape", ("G_ema", "G"), "shared.weight", 0),
        "shared": ("shape", ("G_ema", "G"), "shared.weight", 1),
        "chunk": ("shape", ("G_ema", "G"), "linear.weight", 1),
        "top": ("shape", ("G_ema", "G"), "linear.weight", 0),
        "channels": ("shape", ("G_ema", "G"), "output_layer.2.weight", 0),
        "ndf": ("shape", "D", "blocks.0.0.conv1.weight", 0),
        "d_channels": ("shape", "D", "blocks.0.0.conv1.weight", 1),
    },
    infer={"classes": "classes", "shared": "shared", "chunk": "chunk", "ngf": "top // 64",
           "channels": "channels", "ndf": "ndf"},
    spec_only=(r".*\._v",),
    spectral_norm="one_step",
    notes=("BigGAN-PyTorch's standing statistics (--use_standing_stats) are not in G.pth: "
           "the stored running means and variances are imported",),
))
