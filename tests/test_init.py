"""Every registered weight-init scheme: initialised weights have the scheme's statistics, biases
are zero, norm scales are N(1, std) as DCGAN's weights_init does, and the draws come in module
order. A newly registered scheme fails here until it has a case."""

import math

import pytest
import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ganbuilder.compile.network import initialize
from ganbuilder.layers.init import INITS
from ganbuilder.spec.schema import spec_schema


def _fans(weight: torch.Tensor) -> tuple[int, int]:
    receptive = weight[0][0].numel() if weight.dim() > 2 else 1
    return weight.shape[1] * receptive, weight.shape[0] * receptive


def _std_is(expected):
    """A check that the weight is zero-mean with std `expected(fan_in, fan_out)`."""

    def check(weight: torch.Tensor) -> None:
        std = expected(*_fans(weight))
        assert weight.std().item() == pytest.approx(std, rel=0.03)
        assert abs(weight.mean().item()) < 5 * std / math.sqrt(weight.numel())

    return check


def _orthogonal_rows(gain: float):
    def check(weight: torch.Tensor) -> None:
        flat = weight.reshape(weight.shape[0], -1)
        assert flat.shape[0] <= flat.shape[1]  # so the rows, not the columns, are orthonormal
        eye = torch.eye(flat.shape[0])
        assert torch.allclose(flat @ flat.T, gain ** 2 * eye, atol=1e-4)

    return check


# name -> (value, weight check, std of the norm layers' N(1, std) scale)
INIT_CASES = {
    "normal": (0.05, _std_is(lambda fan_in, fan_out: 0.05), 0.05),
    "xavier": (1.5, _std_is(lambda fan_in, fan_out: 1.5 * math.sqrt(2 / (fan_in + fan_out))),
               0.02),
    "kaiming": (0.2, _std_is(lambda fan_in, fan_out: math.sqrt(2 / (1 + 0.2 ** 2) / fan_in)),
                0.02),
    "orthogonal": (0.7, _orthogonal_rows(0.7), 0.02),
}


def test_every_registered_scheme_has_a_test_case_and_is_in_the_schema():
    assert sorted(INIT_CASES) == INITS.names()
    network = spec_schema()["properties"]["networks"]["additionalProperties"]
    init = network["properties"]["init"]["properties"]
    assert init == {name: INITS.get(name).value for name in INITS}
    assert all(v["description"] for v in init.values())


def _model() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(32, 64, 4),                     # fan_in 512, fan_out 1024
        nn.BatchNorm2d(4096),
        spectral_norm(nn.Linear(512, 256)),       # the stored weight is initialised
        nn.InstanceNorm2d(2048, affine=True),
        nn.Embedding(128, 256),
        nn.LayerNorm(64),                          # not a _NormBase: PyTorch's default kept
        nn.BatchNorm1d(8, affine=False),           # no scale to initialise
    )


@pytest.mark.parametrize("name", sorted(INIT_CASES))
def test_initialised_weights_have_the_schemes_statistics(name):
    value, check, norm_std = INIT_CASES[name]
    torch.manual_seed(0)
    model = _model()
    initialize(model, {name: value})
    conv, bn, linear, inorm, embed, lnorm, _ = model
    for weight in (conv.weight, linear.parametrizations.weight.original, embed.weight):
        check(weight.detach())
    assert torch.count_nonzero(conv.bias) == 0 and torch.count_nonzero(linear.bias) == 0
    for norm in (bn, inorm):
        assert norm.weight.mean().item() == pytest.approx(1.0, abs=5 * norm_std / 40)
        assert norm.weight.std().item() == pytest.approx(norm_std, rel=0.1)
        assert torch.count_nonzero(norm.bias) == 0
    assert torch.equal(lnorm.weight, torch.ones(64)) and torch.equal(lnorm.bias, torch.zeros(64))


def _small() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Linear(8, 4))


def _initialise_by_hand(model: nn.Sequential, name: str, value: float, norm_std: float) -> None:
    conv, bn, linear = model
    with torch.no_grad():
        INITS.get(name).weight(conv.weight, value)
        conv.bias.zero_()
        bn.weight.normal_(1.0, norm_std)
        bn.bias.zero_()
        INITS.get(name).weight(linear.weight, value)
        linear.bias.zero_()


@pytest.mark.parametrize("name", sorted(INIT_CASES))
def test_draws_come_in_module_order(name):
    # Seeded runs depend on it: weights and norm scales drawn one module after the other.
    value, _, norm_std = INIT_CASES[name]
    results = []
    for by_hand in (False, True):
        torch.manual_seed(0)
        model = _small()
        if by_hand:
            _initialise_by_hand(model, name, value, norm_std)
        else:
            initialize(model, {name: value})
        results.append(([p.detach().clone() for p in model.parameters()], torch.rand(3)))
    (params, after), (expected, expected_after) = results
    assert all(torch.equal(a, b) for a, b in zip(params, expected, strict=True))
    assert torch.equal(after, expected_after)  # nothing drawn beyond that


def test_no_init_keeps_pytorchs_defaults():
    torch.manual_seed(0)
    model = _model()
    before = [p.clone() for p in model.parameters()]
    state = torch.get_rng_state()
    initialize(model, None)
    assert torch.equal(state, torch.get_rng_state())
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_an_unknown_scheme_is_refused_with_a_suggestion():
    with pytest.raises(KeyError, match="did you mean 'normal'"):
        initialize(nn.Linear(2, 2), {"normall": 0.02})
