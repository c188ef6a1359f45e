"""pytorch/examples dcgan/main.py: Generator netG and Discriminator netD (`netG_epoch_N.pth`,
`netD_epoch_N.pth`, one state dict each) -> specs/dcgan.yaml at the example's params
(--set params.nc=3 --set params.image_size=64)."""

from ganbuilder.zoo.registry import Layout, NetworkMap, Rule, register

KEYS = (Rule(r"main\.(?P<i>\d+)\.(?P<p>weight|bias|running_mean|running_var|"
             r"num_batches_tracked)", "{i}.{p}"),)

register(Layout(
    name="dcgan",
    description="DCGAN of pytorch/examples (dcgan/main.py: netG_epoch_N.pth, netD_epoch_N.pth)",
    reference="pytorch/examples",
    spec="dcgan.yaml",
    networks=(
        NetworkMap("netG", "G", KEYS, files=(r"netG",)),
        NetworkMap("netD", "D", KEYS, files=(r"netD",)),
    ),
    facts={
        "nz": ("shape", "netG", "main.0.weight", 0),
        "top": ("shape", "netG", "main.0.weight", 1),
        "norms": ("count", "netG", r"main\.(\d+)\.running_mean"),
        "nc": ("shape", "netD", "main.0.weight", 1),
        "ndf": ("shape", "netD", "main.0.weight", 0),
    },
    infer={"nz": "nz", "ngf": "top // 2**(norms - 1)", "image_size": "2**(norms + 2)",
           "nc": "nc", "ndf": "ndf"},
    notes=("the reference's netD ends in a sigmoid; the spec's D returns the logit (its "
           "`bce` loss applies the sigmoid), so D's scores are the reference's before it",),
))
