"""StyleGAN2 config-f (specs/stylegan2.yaml): the reference's parameter counts, and the same
function as rosinality/stylegan2-pytorch given the same weights, z and noise.

tests/data/stylegan2_rosinality.json holds facts measured by running the reference's model.py
(CPU paths) at reduced width: its state-dict keys beside the spec's, the seed its weights were
drawn from, and its outputs; tests/data/stylegan2_nvlabs_other.json the same for
NVlabs/stylegan2-ada-pytorch's G resnet and D skip (params.g_architecture / d_architecture), and
the rosinality file the reference's style mixing (Generator([z, z2], inject_index=k)). No
reference code is kept here.
"""

import json

import pytest
import torch

from ganbuilder.compile.model import GAN
from ganbuilder.layers.style_modules import NoiseInjection
from ganbuilder.layers.stylegan2 import capture_styles, mix_styles
from ganbuilder.spec import load_spec
from ganbuilder.summary import summarize

from .conftest import ROOT, TINY

SPEC = ROOT / "specs" / "stylegan2.yaml"
REFERENCE = json.loads((ROOT / "tests" / "data" / "stylegan2_rosinality.json").read_text())
# NVlabs/stylegan2-ada-pytorch's G resnet and D skip at reduced width, measured the same way.
NVLABS = json.loads((ROOT / "tests" / "data" / "stylegan2_nvlabs_other.json").read_text())

# rosinality/stylegan2-pytorch's Generator(size, 512, 8) and Discriminator(size), config-f.
COUNTS = {256: (30_034_338, 28_864_129), 1024: (30_370_060, 29_012_513)}


@pytest.fixture
def big_budget(monkeypatch):
    monkeypatch.setenv("GANBUILDER_MEMORY_LIMIT", "1T")  # the counts need no training memory


@pytest.mark.parametrize("size", sorted(COUNTS))
def test_summary_counts_equal_the_reference(size, big_budget):
    spec = load_spec(SPEC, [f"params.image_size={size}", "params.channels=3"])
    networks = summarize(spec)["networks"]
    assert (networks["G"]["params"], networks["D"]["params"]) == COUNTS[size]


@pytest.mark.parametrize("size", sorted(COUNTS))
def test_compiled_counts_equal_the_reference(size, big_budget):
    gan = GAN(load_spec(SPEC, [f"params.image_size={size}", "params.channels=3"]))
    counts = gan.parameter_counts()
    assert (counts["G"], counts["D"]) == COUNTS[size]


# NVlabs/stylegan2-ada-pytorch's Generator and Discriminator with the other architecture
# (config-f widths, 3 channels): G resnet, D skip; rosinality has neither.
OTHER = {("G", "resnet", 256): 29_793_680, ("G", "resnet", 1024): 30_040_564,
         ("D", "skip", 256): 27_662_977, ("D", "skip", 1024): 27_801_889}


@pytest.mark.parametrize("net, architecture, size", sorted(OTHER))
def test_the_other_architectures_counts_equal_nvlabs(net, architecture, size, big_budget):
    spec = load_spec(SPEC, [f"params.image_size={size}", "params.channels=3",
                            f"params.{net.lower()}_architecture={architecture}"])
    assert summarize(spec)["networks"][net]["params"] == OTHER[net, architecture, size]
    if size == 256:
        assert GAN(spec).parameter_counts()[net] == OTHER[net, architecture, size]


def test_both_other_architectures_train_a_step(tmp_path):
    from ganbuilder.cli import main

    sets = [x for o in [*TINY["stylegan2"], "params.g_architecture=resnet",
                        "params.d_architecture=skip"] for x in ("--set", o)]
    assert main(["run", str(SPEC), *sets, "--steps", "1", "--out", str(tmp_path / "r"),
                 "--quiet"]) == 0


def _loaded_gan(reference: dict = REFERENCE) -> GAN:
    """The spec at the reference's reduced width, with its weights drawn as the reference's."""
    gan = GAN(load_spec(SPEC, reference["overrides"]))
    gen = torch.Generator().manual_seed(reference["seed"])
    for net in ("G", "D"):
        state = gan.nets[net].state_dict()
        for ours, _, shape in reference["keys"][net]:
            state[ours] = torch.randn(shape, generator=gen).reshape(state[ours].shape)
        gan.nets[net].load_state_dict(state)
    gan.z = torch.randn(reference["batch"], gan.spec.tree["params"]["z_dim"], generator=gen)
    noises = [m for m in gan.nets["G"].modules() if isinstance(m, NoiseInjection)]
    assert len(noises) == len(reference["noise_sizes"])
    for module, size in zip(noises, reference["noise_sizes"], strict=True):
        shape = (reference["batch"], 1) if reference is REFERENCE else (1, 1)
        module.fixed = torch.randn(*shape, size, size, generator=gen)
    gan.z2 = torch.randn(reference["batch"], gan.spec.tree["params"]["z_dim"], generator=gen)
    return gan


def test_every_reference_weight_has_one_place_in_the_spec():
    gan = GAN(load_spec(SPEC, REFERENCE["overrides"]))
    for net in ("G", "D"):
        rows = REFERENCE["keys"][net]
        ours = {k: v for k, v in gan.nets[net].state_dict().items()
                if not k.endswith(("kernel", "w_avg"))}  # buffers the reference computes
        assert sorted(r[0] for r in rows) == sorted(ours)
        for key, _, shape in rows:
            assert ours[key].numel() == torch.Size(shape).numel(), key


def test_generator_and_critic_compute_the_reference_function():
    gan = _loaded_gan()
    image = torch.tensor(REFERENCE["image"]).reshape(REFERENCE["image_shape"])
    with torch.no_grad():
        ours = gan.nets["G"].eval()(gan.z)  # (training mode mixes styles)
        score = gan.nets["D"](image)
    assert ours.shape == image.shape
    assert (ours - image).abs().max().item() < 1e-4
    assert (score.flatten() - torch.tensor(REFERENCE["score"])).abs().max().item() < 1e-4


def test_mixed_styles_compute_the_reference_style_mixing():
    """The reference's Generator([z, z2], inject_index=k): layers from k read z2's style."""
    gan = _loaded_gan()
    g = gan.nets["G"].eval()
    mixed = torch.tensor(REFERENCE["mix"]["image"]).reshape(REFERENCE["image_shape"])
    with torch.no_grad():
        plain = g(gan.z)
        layers = capture_styles(g)
        g(gan.z2)
        mix_styles(layers, REFERENCE["mix"]["crossover"])
        ours = g(gan.z)
    assert (plain - mixed).abs().max().item() > 1e-3  # the mixing shows
    assert (ours - mixed).abs().max().item() < 1e-4


def test_the_other_architectures_compute_nvlabs_function():
    gan = _loaded_gan(NVLABS)
    image = torch.tensor(NVLABS["image"]).reshape(NVLABS["image_shape"])
    with torch.no_grad():
        ours = gan.nets["G"].eval()(gan.z)
        score = gan.nets["D"](image)
    assert (ours - image).abs().max().item() < 1e-4
    assert (score.flatten() - torch.tensor(NVLABS["score"])).abs().max().item() < 1e-4


@pytest.mark.parametrize("group, sees_sample_1", [(4, False), (8, True)])
def test_the_minibatch_std_group_is_a_param(group, sees_sample_1):
    """params.mbstd_group sets which samples D's std is taken over: with 4 of a batch of 8,
    sample 0's group is samples 0, 2, 4 and 6; with 8, the whole batch (StyleGAN2-ADA cifar)."""
    gan = GAN(load_spec(SPEC, [*TINY["stylegan2"], f"params.mbstd_group={group}"]))
    critic = gan.nets["D"].eval()
    images = torch.randn(8, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    changed = images.clone()
    changed[1] += 1.0
    with torch.no_grad():
        moved = (critic(images)[0] - critic(changed)[0]).abs().max().item()
    assert (moved > 1e-6) == sees_sample_1
