"""junyanz/pytorch-CycleGAN-and-pix2pix, CycleGAN: ResnetGenerator G_A, G_B and
NLayerDiscriminator D_A, D_B (one `latest_net_<name>.pth` state dict each) -> specs/cyclegan.yaml.

The reference's G_A translates A to B and its D_A judges G_A's output, so D_A scores domain B:
it becomes the spec's D_B (and D_B the spec's D_A)."""

from ganbuilder.zoo.registry import Layout, NetworkMap, Rule, register

# Instance norm keeps no weights; files saved while it tracked running statistics hold them,
# and the reference drops them when loading (its __patch_instance_norm_state_dict).
_STATS = Rule(r"model\.\d+(\.conv_block\.\d+)?\.(running_mean|running_var|num_batches_tracked)",
              None)
GENERATOR = (
    Rule(r"model\.(?P<i>\d+)\.(?P<p>weight|bias)", "{i}.{p}"),
    Rule(r"model\.(?P<i>\d+)\.conv_block\.(?P<j>\d+)\.(?P<p>weight|bias)", "{i}.{j}.{p}"),
    _STATS,
)
CRITIC = (Rule(r"model\.(?P<i>\d+)\.(?P<p>weight|bias)", "{i}.{p}"), _STATS)

register(Layout(
    name="cyclegan",
    description="CycleGAN of junyanz/pytorch-CycleGAN-and-pix2pix (latest_net_G_A.pth, "
                "latest_net_G_B.pth, latest_net_D_A.pth, latest_net_D_B.pth)",
    reference="junyanz/pytorch-CycleGAN-and-pix2pix",
    spec="cyclegan.yaml",
    networks=(
        NetworkMap("G_A", "G_AB", GENERATOR, files=(r"net_G_A\.",)),
        NetworkMap("G_B", "G_BA", GENERATOR, files=(r"net_G_B\.",)),
        NetworkMap("D_A", "D_B", CRITIC, files=(r"net_D_A\.",)),
        NetworkMap("D_B", "D_A", CRITIC, files=(r"net_D_B\.",)),
    ),
    facts={
        "ngf": ("shape", ("G_A", "G_B"), "model.1.weight", 0),
        "nc": ("shape", ("G_A", "G_B"), "model.1.weight", 1),
        "blocks": ("count", ("G_A", "G_B"), r"model\.(\d+)\.conv_block\.1\.weight"),
        "ndf": ("shape", ("D_A", "D_B"), "model.0.weight", 0),
    },
    infer={"ngf": "ngf", "nc": "nc", "n_blocks": "blocks", "ndf": "ndf"},
    code_advice="the reference saves state dicts (save_networks); a file of a whole pickled "
                "module needs its code: load it there and torch.save(net.state_dict(), ...)",
    notes=("the reference's D_A judges domain B (G_A's output): it becomes the spec's D_B, "
           "and D_B the spec's D_A",),
))
