"""Every registered optimizer and schedule: built from its spec section with the schema's
defaults, one optimizer step goes downhill, options reach torch, schedule factors match numbers
worked out by hand. A newly registered entry fails here until it has a case."""

import subprocess
import sys

import pytest
import torch

from ganbuilder.optim import OPTIMIZERS, SCHEDULES, build_optimizer, lr_factor
from ganbuilder.registry import fill_defaults
from ganbuilder.spec.schema import spec_schema

from .conftest import ROOT

# name -> (torch class, options differing from every default, one per schema parameter)
OPTIMIZER_CASES = {
    "adam": (torch.optim.Adam, {"lr": 1e-3, "betas": [0.9, 0.99], "weight_decay": 0.01,
                                "eps": 1e-6, "fused": True}),
    "adamw": (torch.optim.AdamW, {"lr": 1e-3, "betas": [0.8, 0.9], "weight_decay": 0.1,
                                  "eps": 1e-5, "fused": True}),
    "sgd": (torch.optim.SGD, {"lr": 0.1, "momentum": 0.9, "weight_decay": 1e-3}),
    "rmsprop": (torch.optim.RMSprop, {"lr": 1e-3, "alpha": 0.9, "weight_decay": 1e-3}),
}

# name -> [(section, total steps, {step: factor})]; factors computed by hand from the formulas
SCHEDULE_CASES = {
    "constant": [
        ("constant", 100, {0: 1.0, 50: 1.0, 100: 1.0, 1000: 1.0}),
        (None, 100, {0: 1.0, 99: 1.0}),  # no schedule named: constant
    ],
    "linear_decay": [
        ({"linear_decay": None}, 100, {0: 1.0, 25: 0.75, 50: 0.5, 100: 0.0}),
        ({"linear_decay": {"start": 40}}, 100, {0: 1.0, 40: 1.0, 70: 0.5, 85: 0.25, 100: 0.0}),
    ],
    "step": [
        ("step", 5000, {0: 1.0, 999: 1.0, 1000: 0.1, 2500: 0.01}),
        ({"step": {"every": 10, "gamma": 0.5}}, 100,
         {0: 1.0, 9: 1.0, 10: 0.5, 25: 0.25, 99: 0.5 ** 9}),
    ],
    "cosine": [
        ("cosine", 10, {0: 1.0, 5: 0.5, 10: 0.0}),
        # 0.2 + 0.8 * (1 + cos(pi/4)) / 2 = 0.2 + 0.4 * 1.70711 at a quarter of the way
        ({"cosine": {"min_factor": 0.2}}, 100,
         {0: 1.0, 25: 0.882843, 50: 0.6, 100: 0.2, 150: 0.2}),
    ],
}


def test_every_registered_optimizer_and_schedule_has_a_test_case():
    assert sorted(OPTIMIZER_CASES) == OPTIMIZERS.names()
    assert sorted(SCHEDULE_CASES) == SCHEDULES.names()


def test_the_spec_schema_offers_exactly_the_registered_kinds():
    schema = spec_schema()
    assert sorted(schema["$defs"]["optimizer"]["else"]["properties"]) == OPTIMIZERS.names()
    schedule = schema["properties"]["training"]["properties"]["schedule"]
    assert sorted(schedule["else"]["properties"]) == SCHEDULES.names()
    assert schedule["then"]["enum"] == SCHEDULES.names()


def _param() -> torch.nn.Parameter:
    return torch.nn.Parameter(torch.zeros(3))


def _as_spec(value):
    return list(value) if isinstance(value, tuple) else value


@pytest.mark.parametrize("name", sorted(OPTIMIZER_CASES))
@pytest.mark.parametrize("form", ["bare", "null", "empty"])
def test_optimizer_built_from_a_section_takes_its_schema_defaults(name, form):
    section = {"bare": name, "null": {name: None}, "empty": {name: {}}}[form]
    opt = build_optimizer(section, [_param()])
    cls, _ = OPTIMIZER_CASES[name]
    assert type(opt) is cls
    params = OPTIMIZERS.get(name).params
    defaults = fill_defaults(params, {})
    assert set(defaults) == set(params)  # every option has its default in the schema
    group = opt.param_groups[0]
    # fused: false leaves torch its own choice (foreach on CUDA), which it stores as None.
    group = {**group, **({"fused": bool(group["fused"])} if "fused" in defaults else {})}
    assert {k: _as_spec(group[k]) for k in defaults} == defaults


@pytest.mark.parametrize("name", sorted(OPTIMIZER_CASES))
def test_given_options_reach_torch_param_groups(name):
    _, options = OPTIMIZER_CASES[name]
    params = OPTIMIZERS.get(name).params
    assert set(options) == set(params)  # the case exercises every option
    assert all(options[k] != params[k]["default"] for k in options)
    group = build_optimizer({name: options}, [_param()]).param_groups[0]
    assert {k: _as_spec(group[k]) for k in options} == options


@pytest.mark.parametrize("name", sorted(OPTIMIZER_CASES))
def test_one_step_with_defaults_goes_downhill(name):
    gen = torch.Generator().manual_seed(0)
    x = torch.nn.Parameter(torch.randn(16, generator=gen))
    target = torch.randn(16, generator=gen)
    opt = build_optimizer({name: None}, [x])
    before = x.detach().clone()
    loss = ((x - target) ** 2).sum()
    loss.backward()
    grad = x.grad.clone()
    opt.step()
    moved = x.detach() - before
    assert moved.abs().sum() > 0
    assert torch.dot(moved, grad) < 0  # against the gradient
    assert ((x.detach() - target) ** 2).sum() < loss.detach()


def test_no_optimizer_section_means_adam_with_its_defaults():
    opt = build_optimizer(None, [_param()])
    assert type(opt) is torch.optim.Adam
    assert opt.param_groups[0]["betas"] == (0.5, 0.999)


def test_unknown_kinds_are_refused_with_a_suggestion():
    with pytest.raises(KeyError, match="did you mean 'adam'"):
        build_optimizer("adma", [_param()])
    with pytest.raises(KeyError, match="did you mean 'cosine'"):
        lr_factor({"cosin": None}, 10)


@pytest.mark.parametrize(
    ("name", "section", "steps", "expected"),
    [(name, *case) for name, cases in sorted(SCHEDULE_CASES.items()) for case in cases],
)
def test_schedule_factors_match_hand_computed_values(name, section, steps, expected):
    factor = lr_factor(section, steps)
    got = {t: factor(t) for t in expected}
    assert got == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("name", sorted(SCHEDULE_CASES))
def test_schedule_defaults_come_from_its_schema(name):
    params = SCHEDULES.get(name).params
    defaults = fill_defaults(params, {})
    assert set(defaults) == set(params)
    bare, explicit = lr_factor(name, 300), lr_factor({name: defaults}, 300)
    assert [bare(t) for t in range(0, 301, 7)] == [explicit(t) for t in range(0, 301, 7)]


def test_schedules_start_at_the_initial_lr():
    assert all(lr_factor(name, 100)(0) == pytest.approx(1.0) for name in SCHEDULES)


def test_optim_and_init_registries_import_without_torch():
    code = ("import sys; import ganbuilder.optim, ganbuilder.layers.init; "
            "from ganbuilder.optim import lr_factor; lr_factor('cosine', 10)(3); "
            "assert 'torch' not in sys.modules, 'torch imported'")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr

