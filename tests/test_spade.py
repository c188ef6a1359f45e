"""SPADE (specs/spade.yaml): NVlabs/SPADE's parameter counts for its ADE20K config with the
style encoder (--use_vae), and the same function as its SPADEGenerator, ConvEncoder and
MultiscaleDiscriminator given the same weights.

tests/data/spade_nvlabs.json holds facts measured by running the reference's networks (CPU,
BatchNorm2d for its synchronized batch norm) at reduced width: its state-dict keys beside the
spec's, the seed its weights and inputs were drawn from, and its outputs. No reference code
is kept here.
"""

import json
import math

import pytest
import torch

from ganbuilder.compile.model import GAN
from ganbuilder.losses.feature_matching import layer_output
from ganbuilder.spec import load_spec
from ganbuilder.summary import summarize

from .conftest import ROOT

SPEC = ROOT / "specs" / "spade.yaml"
REFERENCE = json.loads((ROOT / "tests" / "data" / "spade_nvlabs.json").read_text())

# NVlabs/SPADE's ADE20K options (150 classes + dontcare, 256 px, ngf = ndf = 64, z_dim 256,
# num_upsampling_layers normal, norm_G spectralspadesyncbatch3x3, norm_E and norm_D
# spectralinstance, n_layers_D 4, num_D 2) with --use_vae, counted from the reference's modules.
ADE20K = ["params.ngf=64", "params.ndf=64", "params.nhidden=128", "params.z_dim=256",
          "params.image_size=256",
          "data={source: labelmaps, root: ade20k, classes: 150, dontcare: 255, image_size: 256}"]
COUNTS = {"G": 111_942_595, "E": 10_463_424, "D0": 2_918_465, "D1": 2_918_465}


def test_summary_counts_equal_the_reference_ade20k_config(monkeypatch):
    monkeypatch.setenv("GANBUILDER_MEMORY_LIMIT", "1T")  # the counts need no training memory
    networks = summarize(load_spec(SPEC, ADE20K))["networks"]
    assert {name: networks[name]["params"] for name in COUNTS} == COUNTS
    # The multiscale critic as the reference counts it: both scales together.
    assert networks["D0"]["params"] + networks["D1"]["params"] == 5_836_930


def _loaded_gan() -> tuple[GAN, dict]:
    """The spec at the reference's reduced width, with its weights and inputs drawn as the
    reference's were, in eval mode."""
    gan = GAN(load_spec(SPEC, REFERENCE["overrides"]))
    gen = torch.Generator().manual_seed(REFERENCE["seed"])
    states = {net: gan.nets[net].state_dict() for net in REFERENCE["keys"]}
    singular = []
    for net, rows in REFERENCE["keys"].items():
        for ours, _, shape in rows:
            if ours.endswith("num_batches_tracked"):
                continue
            if ours.endswith(("_u", "_v")):
                singular.append((net, ours))
                continue
            if ours.endswith("running_var"):
                value = torch.rand(shape, generator=gen) + 0.5
            elif len(shape) == 1:
                value = 0.1 * torch.randn(shape, generator=gen)
            else:
                value = torch.randn(shape, generator=gen) / math.sqrt(math.prod(shape[1:]))
            states[net][ours] = value.reshape(states[net][ours].shape)
    # Spectral norm's u and v: the weight's top singular vectors, so that sigma is the same
    # whichever order a power iteration would update them in.
    for net, key in singular:
        weight = states[net][key.rsplit(".0.", 1)[0] + ".original"]
        u, _, vh = torch.linalg.svd(weight.reshape(weight.shape[0], -1), full_matrices=False)
        states[net][key] = (u[:, 0] if key.endswith("_u") else vh[0]).contiguous()
    for net, state in states.items():
        gan.nets[net].load_state_dict(state)
        gan.nets[net].eval()
    size, classes, batch = REFERENCE["size"], REFERENCE["classes"], REFERENCE["batch"]
    ids = torch.randint(0, classes, (batch, size, size), generator=gen)
    inputs = {
        "seg": torch.nn.functional.one_hot(ids, classes).permute(0, 3, 1, 2).float(),
        "z": torch.randn(batch, REFERENCE["z_dim"], generator=gen),
        "image": torch.randn(batch, 3, size, size, generator=gen).clamp(-1, 1),
    }
    return gan, inputs


def test_every_reference_weight_has_one_place_in_the_spec():
    gan = GAN(load_spec(SPEC, REFERENCE["overrides"]))
    for net, rows in REFERENCE["keys"].items():
        ours = gan.nets[net].state_dict()
        assert sorted(r[0] for r in rows) == sorted(ours), net
        for key, _, shape in rows:
            assert ours[key].numel() == math.prod(shape), key


def _close(ours: torch.Tensor, reference: list) -> float:
    return (ours.flatten() - torch.tensor(reference)).abs().max().item()


def test_generator_encoder_and_critics_compute_the_reference_function():
    gan, x = _loaded_gan()
    with torch.no_grad():
        fake = gan.nets["G"](x["seg"], x["z"])
        mu = layer_output(gan.nets["E"], "mu", [x["image"]])
        logvar = layer_output(gan.nets["E"], "logvar", [x["image"]])
        pair = torch.cat([x["seg"], x["image"]], dim=1)
        d0 = gan.nets["D0"](pair)
        d1 = gan.nets["D1"](gan.nets["down"](pair))
    assert _close(fake[:, :, ::16, ::16], REFERENCE["fake_every_16th"]) < 1e-4
    assert fake.sum().item() == pytest.approx(REFERENCE["fake_sum"], abs=1e-2)
    assert _close(mu, REFERENCE["mu"]) < 1e-4
    assert _close(logvar, REFERENCE["logvar"]) < 1e-4
    assert list(d1.shape) == REFERENCE["d1_shape"] and list(d0.shape) == REFERENCE["d0_shape"]
    assert _close(d0[..., ::2, ::2], REFERENCE["d0_every_2nd"]) < 1e-4
    assert _close(d1, REFERENCE["d1"]) < 1e-4


def test_the_encoder_samples_z_around_mu_with_its_variance():
    gan = GAN(load_spec(SPEC, ["params.ngf=2", "params.z_dim=4"]))
    encoder = gan.nets["E"].eval()
    image = torch.rand(1, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        mu = layer_output(encoder, "mu", [image])[0]
        logvar = layer_output(encoder, "logvar", [image])[0]
        torch.manual_seed(0)
        z = encoder(image.expand(4000, -1, -1, -1))
    assert (z.mean(0) - mu).abs().max() < 5 * math.exp(0.5 * logvar.max()) / math.sqrt(4000)
    assert torch.allclose(z.var(0).log(), logvar, atol=0.15)
