"""taesungp/contrastive-unpaired-translation (CUT, FastCUT): ResnetGenerator G with its
anti-aliased down- and upsampling, PatchSampleF F (one MLP per layer read) and
NLayerDiscriminator D (`latest_net_G.pth`, `latest_net_F.pth`, `latest_net_D.pth`)
-> specs/cut.yaml.

The reference's Downsample and Upsample are one module each, the spec's two layers (padding,
then upfirdn), so the spec's indices run ahead of the reference's after each: the targets
below add the count of those passed. Their blur filters (`filt`) are buffers the spec's
upfirdn computes from its taps."""

from ganbuilder.zoo.registry import Layout, NetworkMap, Rule, register

_P = r"\.(?P<p>weight|bias)"
# Past the encoder's two Downsamples (+2); past each decoder Upsample one more.
_UP = "i + 2 + min(1, max(0, i - 12 - n_blocks)) + min(1, max(0, i - 16 - n_blocks))"
GENERATOR = (
    Rule(r"model\.(?P<i>[148])" + _P, "{i + i//8}.{p}"),   # the encoder's convs: 1, 4, 9
    Rule(r"model\.(?P<i>\d+)\.conv_block\.(?P<j>\d+)" + _P, "{i + 2}.{j}.{p}"),
    Rule(r"model\.(?P<i>\d+)" + _P, "{" + _UP + "}.{p}"),
    Rule(r"model\.\d+\.filt", None),
)
CRITIC = (
    Rule(r"model\.(?P<i>\d+)" + _P, "{i + (i + 1)//4}.{p}"),   # a Downsample after 0, 3, 7
    Rule(r"model\.\d+\.filt", None),
)
MLPS = (Rule(r"mlp_(?P<k>\d+)\.(?P<j>[02])" + _P, "layers.{3*k + j}.{p}"),)

register(Layout(
    name="cut",
    description="CUT of taesungp/contrastive-unpaired-translation (latest_net_G.pth, "
                "latest_net_F.pth, latest_net_D.pth; resnet_9blocks, anti-aliased)",
    reference="taesungp/contrastive-unpaired-translation",
    spec="cut.yaml",
    networks=(
        NetworkMap("G", "G", GENERATOR, files=(r"net_G\.",)),
        NetworkMap("F", "F", MLPS, files=(r"net_F\.",)),
        NetworkMap("D", "D", CRITIC, files=(r"net_D\.",)),
    ),
    facts={
        "ngf": ("shape", "G", "model.1.weight", 0),
        "nc": ("shape", "G", "model.1.weight", 1),
        "blocks": ("count", "G", r"model\.(\d+)\.conv_block\.1\.weight"),
        "units": ("shape", "F", "mlp_0.0.weight", 0),
        "ndf": ("shape", "D", "model.0.weight", 0),
    },
    infer={"ngf": "ngf", "nc": "nc", "n_blocks": "blocks", "nce_units": "units", "ndf": "ndf"},
    spec_only=(r".*\.kernel",),   # the upfirdn layers' blur kernels, from their taps
    code_advice="the reference saves state dicts (save_networks); a file of a whole pickled "
                "module needs its code: load it there and torch.save(net.state_dict(), ...)",
))
