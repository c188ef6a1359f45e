"""BigGAN's ingredients: spectral norm, self-attention, conditional BN, the hierarchical latent."""

import pytest
import torch

from ganbuilder.compile.model import GAN
from ganbuilder.layers import LAYERS
from ganbuilder.spec import load_spec
from ganbuilder.summary import summarize

from .conftest import ROOT, TINY

BIGGAN = ROOT / "specs" / "biggan.yaml"


def _build(name: str, value, shapes: list) -> torch.nn.Module:
    ldef = LAYERS.get(name)
    return ldef.build(ldef.normalize(value), shapes)


def _largest_singular_value(weight: torch.Tensor) -> float:
    return torch.linalg.matrix_norm(weight.detach().flatten(1), 2).item()


@pytest.mark.parametrize(("name", "value", "shapes"), [
    ("conv", {"out": 8, "kernel": 3, "padding": 1, "spectral_norm": True}, [(4, 6, 6)]),
    ("linear", {"out": 8, "spectral_norm": True}, [(12,)]),
    ("self_attention", {"spectral_norm": True}, [(16, 4, 4)]),
    ("cond_batch_norm", {"with": "c", "spectral_norm": True}, [(4, 6, 6), (5,)]),
])
def test_spectral_norm_holds_the_largest_singular_value_near_one_while_training(
        name, value, shapes):
    torch.manual_seed(0)
    module = _build(name, value, shapes)
    inputs = [torch.randn(16, *s) for s in shapes]
    optimizer = torch.optim.Adam(module.parameters(), lr=4e-3)
    for _ in range(20):  # pushing outputs up grows an unnormalised weight's norm
        optimizer.zero_grad()
        (-module(*inputs).abs().mean()).backward()
        optimizer.step()
    module(*inputs)  # the next step's forward refreshes the estimate of the largest value
    module.eval()
    normalized = [m for m in module.modules() if hasattr(m, "parametrizations")]
    assert normalized, f"{name} has no spectrally normalised weight"
    for m in normalized:
        assert _largest_singular_value(m.weight) == pytest.approx(1.0, abs=0.1)


def test_self_attention_starts_as_the_identity():
    torch.manual_seed(0)
    module = _build("self_attention", None, [(16, 4, 4)])
    x = torch.randn(3, 16, 4, 4)
    assert torch.equal(module(x), x)
    with torch.no_grad():
        module.gamma.fill_(1.0)
    assert not torch.allclose(module(x), x)  # the attention path is live once gamma moves


def test_conditional_batch_norm_differs_by_condition():
    torch.manual_seed(0)
    module = _build("cond_batch_norm", {"with": "c"}, [(4, 5, 5), (6,)]).eval()
    x = torch.randn(1, 4, 5, 5).repeat(2, 1, 1, 1)
    same = module(x, torch.ones(2, 6))
    assert torch.allclose(same[0], same[1])
    other = module(x, torch.stack([torch.ones(6), -torch.ones(6)]))
    assert not torch.allclose(other[0], other[1])


def test_biggan_generator_draws_differently_per_class():
    torch.manual_seed(0)
    spec = load_spec(BIGGAN, TINY["biggan"])
    G = GAN(spec).nets["G"].eval()
    z = torch.randn(1, *spec.analysis.networks["G"].input_shapes[0]).repeat(10, 1)
    images = G(z, torch.arange(10))
    assert all(not torch.allclose(images[0], images[k]) for k in range(1, 10))


def test_biggan_generator_has_one_z_chunk_per_block():
    plan = load_spec(BIGGAN).analysis.networks["G"]
    by_slot = {layer.slot: layer for layer in plan.layers}

    def chunks_feeding(slot: str) -> set[int]:
        layer = by_slot.get(slot)
        if layer is None:  # a network input
            return set()
        own = {layer.params["index"]} if layer.kind == "chunk" else set()
        return own.union(*(chunks_feeding(s) for s in layer.sources))

    blocks = [layer for layer in plan.layers if layer.kind == "add"]
    chunk_layers = [layer for layer in plan.layers if layer.kind == "chunk"]
    assert len(blocks) == 2
    assert {layer.params["chunks"] for layer in chunk_layers} == {len(blocks) + 1}
    assert sorted(layer.params["index"] for layer in chunk_layers) == [0, 1, 2]
    per_block = [chunks_feeding(layer.params["with"]) for layer in plan.layers
                 if layer.kind == "cond_batch_norm"]
    assert per_block == [{1}, {1}, {2}, {2}]  # both norms of block k read chunk k only
    first_linear = next(layer for layer in plan.layers if layer.kind == "linear")
    assert chunks_feeding(first_linear.slot) == {0}


def test_biggan_parameter_counts_match_its_description():
    nets = summarize(load_spec(BIGGAN))["networks"]
    assert (nets["G"]["params"], nets["D"]["params"]) == (158_402, 69_154)
