"""xinntao's ESRGAN generator RRDBNet in its three key dialects -- the original release's
(`model.0`, `model.1.sub.N.RDBj.convk.0`, as RRDB_ESRGAN_x4.pth first shipped), the ESRGAN
repository's RRDBNet_arch.py (`conv_first`, `RRDB_trunk`, `trunk_conv`, `upconv1`...) and
BasicSR's (`conv_first`, `body.N.rdbj`, `conv_body`, `conv_up1`...; a file's `params_ema` or
`params`) -- and BasicSR's VGGStyleDiscriminator128 (`conv0_0` ... `linear2`) -> specs/esrgan.yaml.

The spec's G is one flat graph: conv_first, then `blocks` RRDBs of 47 layers (three dense
blocks of 15, a scale and an add), the trunk conv, the add, log2(factor) upsamplers of three
layers, HRconv and conv_last; each rule computes that index from the reference's numbers."""

from ganbuilder.zoo.registry import Layout, NetworkMap, Rule, register

_P = r"\.(?P<p>weight|bias)"
_RDB = "layers.{1 + 47*i + 15*(j - 1) + 3*(k - 1)}.{p}"
_TAIL = "47*blocks + 1"   # the trunk conv
GENERATOR = (
    # RRDBNet_arch.py
    Rule(r"conv_first" + _P, "layers.0.{p}"),
    Rule(r"RRDB_trunk\.(?P<i>\d+)\.RDB(?P<j>[123])\.conv(?P<k>[1-5])" + _P, _RDB),
    Rule(r"trunk_conv" + _P, f"layers.{{{_TAIL}}}.{{p}}"),
    Rule(r"upconv(?P<u>[12])" + _P, f"layers.{{{_TAIL} + 3*u}}.{{p}}"),
    Rule(r"HRconv" + _P, f"layers.{{{_TAIL} + 2 + 3*log2(factor)}}.{{p}}"),
    Rule(r"conv_last" + _P, f"layers.{{{_TAIL} + 4 + 3*log2(factor)}}.{{p}}"),
    # the original release (x4: upsamplers at model.3 and model.6)
    Rule(r"model\.0" + _P, "layers.0.{p}"),
    Rule(r"model\.1\.sub\.(?P<i>\d+)\.RDB(?P<j>[123])\.conv(?P<k>[1-5])\.0" + _P, _RDB),
    Rule(r"model\.1\.sub\.\d+" + _P, f"layers.{{{_TAIL}}}.{{p}}"),
    Rule(r"model\.(?P<m>[36])" + _P, f"layers.{{{_TAIL} + m}}.{{p}}"),
    Rule(r"model\.8" + _P, f"layers.{{{_TAIL} + 2 + 3*log2(factor)}}.{{p}}"),
    Rule(r"model\.10" + _P, f"layers.{{{_TAIL} + 4 + 3*log2(factor)}}.{{p}}"),
    # BasicSR's RRDBNet (Real-ESRGAN's files too)
    Rule(r"body\.(?P<i>\d+)\.rdb(?P<j>[123])\.conv(?P<k>[1-5])" + _P, _RDB),
    Rule(r"conv_body" + _P, f"layers.{{{_TAIL}}}.{{p}}"),
    Rule(r"conv_up(?P<u>[12])" + _P, f"layers.{{{_TAIL} + 3*u}}.{{p}}"),
    Rule(r"conv_hr" + _P, f"layers.{{{_TAIL} + 2 + 3*log2(factor)}}.{{p}}"),
)
_BN = r"\.(?P<p>weight|bias|running_mean|running_var|num_batches_tracked)"
CRITIC = (
    Rule(r"conv0_0" + _P, "0.{p}"),
    Rule(r"conv0_1\.weight", "2.weight"),
    Rule(r"bn0_1" + _BN, "3.{p}"),
    Rule(r"conv(?P<s>\d+)_0\.weight", "{6*s - 1}.weight"),
    Rule(r"bn(?P<s>\d+)_0" + _BN, "{6*s}.{p}"),
    Rule(r"conv(?P<s>\d+)_1\.weight", "{6*s + 2}.weight"),
    Rule(r"bn(?P<s>\d+)_1" + _BN, "{6*s + 3}.{p}"),
    Rule(r"linear1" + _P, "{6*d_stages}.{p}"),
    Rule(r"linear2" + _P, "{6*d_stages + 2}.{p}"),
)
_FIRST = ("conv_first.weight", "model.0.weight")

register(Layout(
    name="esrgan",
    description="ESRGAN of xinntao (RRDB_ESRGAN_x4.pth, old or new keys; BasicSR's "
                "net_g/net_d files, params_ema or params)",
    reference="xinntao/ESRGAN",
    spec="esrgan.yaml",
    networks=(
        NetworkMap("G", "G", GENERATOR, files=(r"RRDB|ESRGAN|net_g",)),
        NetworkMap("D", "D", CRITIC, files=(r"net_d",)),
    ),
    wrappers=("params_ema", "params"),
    facts={
        "nf": ("shape", "G", _FIRST, 0),
        "channels": ("shape", "G", _FIRST, 1),
        "gc": ("shape", "G", ("RRDB_trunk.0.RDB1.conv1.weight", "body.0.rdb1.conv1.weight",
                              "model.1.sub.0.RDB1.conv1.0.weight"), 0),
        "blocks": ("count", "G", r"(?:RRDB_trunk|body|model\.1\.sub)\.(\d+)\.(?:RDB|rdb)1\."
                                 r"conv1\.(?:0\.)?weight"),
        "ndf": ("shape", "D", "conv0_0.weight", 0),
        "d_convs": ("count", "D", r"conv(\d+)_0\.weight"),
    },
    infer={"nf": "nf", "channels": "channels", "gc": "gc", "blocks": "blocks", "ndf": "ndf",
           "image_size": "2**(d_convs + 2)"},
    notes=("the original release's keys place the upsamplers for x4 (model.3, model.6); "
           "other factors need the newer key layouts",),
))
