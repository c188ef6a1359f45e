"""Every fact the rest of the code needs about a layer is on its registry entry, so each
registered layer, a plugin's too, ejects, is listed in a named library group and can be
inserted on the canvas with parameters that fit; and the tables that once held these facts
elsewhere are gone."""

from __future__ import annotations

import re
import types
from pathlib import Path

import pytest
import torch

from ganbuilder.design.canvas import CanvasModel
from ganbuilder.design.text_edits import TextEdit
from ganbuilder.export import eject_source
from ganbuilder.export.eject import module_source
from ganbuilder.layers import LAYER_GROUPS, LAYERS, Construct
from ganbuilder.spec import load_spec_text
from tests import plugin_layer
from tests.layer_cases import CASES

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def plugin():
    """The plugin layer, registered for one test."""
    with plugin_layer.registered() as entry:
        yield entry


# -- eject -----------------------------------------------------------------------------------
def _run(module: torch.nn.Module, inputs: list[torch.Tensor]) -> torch.Tensor:
    module.eval()
    with torch.no_grad():
        torch.manual_seed(5)  # noise layers draw in eval mode too
        return module(*inputs)


def _check_ejects(name: str, value: object, shapes: list[tuple], tmp_path: Path) -> None:
    """The module eject writes for the layer has the built module's state_dict keys and
    initial values (from one seed), and its outputs from the same weights."""
    ldef = LAYERS.get(name)
    params = ldef.normalize(value)
    made = ldef.construct(params, shapes)
    assert isinstance(made, Construct), f"{name}: its builder must return construct(...)"
    path = tmp_path / f"{name}_ejected.py"
    path.write_text(module_source(made), encoding="utf-8")
    namespace = types.ModuleType(path.stem)
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace.__dict__)
    torch.manual_seed(3)
    built = ldef.build(params, shapes)
    torch.manual_seed(3)
    ejected = namespace.build()
    assert list(ejected.state_dict()) == list(built.state_dict())
    for key, value in built.state_dict().items():
        assert torch.equal(ejected.state_dict()[key], value), key
    generator = torch.Generator().manual_seed(1)
    state = {k: v + 0.1 * torch.randn(v.shape, generator=generator)
             if v.is_floating_point() else v for k, v in built.state_dict().items()}
    built.load_state_dict(state)
    ejected.load_state_dict(state)
    inputs = [torch.randint(0, 10, (3,), generator=generator) if s == () else
              torch.randn((3, *s), generator=generator) for s in shapes]
    assert torch.equal(_run(ejected, inputs), _run(built, inputs))


@pytest.mark.parametrize("name", LAYERS.names())
def test_every_layer_ejects_with_equal_keys_and_outputs(name, tmp_path):
    value, shapes = CASES[name]
    _check_ejects(name, value, shapes, tmp_path)


# -- the library -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", LAYERS.names())
def test_every_layer_is_in_a_named_library_group(name):
    assert LAYERS.get(name).group in LAYER_GROUPS


def test_a_layer_without_a_group_is_refused_at_registration():
    from ganbuilder.layers import layer

    with pytest.raises(TypeError, match="group must name a Layer Library group"):
        layer("ungrouped", lambda p, inputs: inputs[0], group="")


# -- the canvas ------------------------------------------------------------------------------
# Three networks whose first input is a label, a vector and an image: each layer is inserted
# first in one of them, before a flatten that takes any shape it makes.
CANVAS = """
version: 1
name: every_layer
data: {source: ring8, batch_size: 8}
latent:
  y: {dist: categorical, classes: 10}
  z: {dist: normal, shape: [8]}
  x: {dist: normal, shape: [16, 4, 4]}
networks:
  L:
    inputs: [y, z, x]
    layers:
      - flatten
      - linear: 2
  V:
    inputs: [z, y, x]
    layers:
      - flatten
      - linear: 2
  I:
    inputs: [x, z, y]
    layers:
      - flatten
      - linear: 2
forward:
  a: L(y, z, x)
  b: V(z, y, x)
  c: I(x, z, y)
objectives:
  fit:
    updates: [L, V, I]
    loss:
      - l1: {pred: a, target: real}
      - l1: {pred: b, target: real}
      - l1: {pred: c, target: real}
training: {steps: 1}
"""


def _check_canvas_inserts(name: str, tmp_path: Path) -> None:
    """The canvas inserts the layer first in a network it fits, with the parameters its entry
    chooses, and the spec it writes validates."""
    file = str(tmp_path / "every_layer.yaml")
    spec = load_spec_text(CANVAS, file, tmp_path)
    model = CanvasModel(spec, CANVAS, file)
    reasons = []
    for network in ("L", "V", "I"):
        edit = model.insert_layer(network, 0, name)
        assert isinstance(edit, TextEdit), edit
        text = edit.apply(CANVAS)
        try:
            new = load_spec_text(text, file, tmp_path)
        except Exception as error:  # this network's first input does not fit it
            reasons.append(str(error))
            continue
        assert new.analysis.networks[network].layers[0].kind == name
        return
    pytest.fail(f"{name} fits none of the networks:\n" + "\n".join(reasons))


@pytest.mark.parametrize("name", LAYERS.names())
def test_the_canvas_inserts_every_layer_with_parameters_that_fit(name, tmp_path):
    _check_canvas_inserts(name, tmp_path)


# -- a plugin --------------------------------------------------------------------------------
def test_a_plugin_layer_gets_ejection_the_library_and_the_canvas_for_free(plugin, tmp_path):
    _check_ejects(plugin_layer.NAME, {"hidden": 3}, [(6, 4, 4)], tmp_path)
    _check_canvas_inserts(plugin_layer.NAME, tmp_path)
    assert plugin.group == plugin_layer.GROUP
    # A whole spec using it validates and ejects, its module and helper copied in.
    spec = load_spec_text(plugin_layer.SPEC, str(tmp_path / "gated.yaml"), tmp_path)
    text = eject_source(spec)
    assert "class ChannelGate(nn.Module):" in text and "def squeeze(" in text
    path = tmp_path / "gated_model.py"
    path.write_text(text, encoding="utf-8")
    namespace = types.ModuleType("gated_model")
    exec(compile(text, str(path), "exec"), namespace.__dict__)
    from ganbuilder.compile.network import build_network, initialize

    for name, plan in spec.analysis.networks.items():
        torch.manual_seed(11)
        compiled = build_network(plan)
        initialize(compiled, spec.tree["networks"][name].get("init"))
        torch.manual_seed(11)
        plain = namespace.NETWORKS[name]()
        assert list(plain.state_dict()) == list(compiled.state_dict())
        for key, value in compiled.state_dict().items():
            assert torch.equal(plain.state_dict()[key], value), key
        inputs = [torch.randn(2, *s) for s in plan.input_shapes]
        assert torch.equal(_run(plain, inputs), _run(compiled, inputs))


def test_the_plugin_is_gone_after_its_test():
    assert plugin_layer.NAME not in LAYERS


# -- the old tables --------------------------------------------------------------------------
def _sources() -> list[Path]:
    return [p for folder in ("ganbuilder", "gui") for p in (ROOT / folder).rglob("*.py")
            if "layers" not in p.relative_to(ROOT).parts]


def test_the_old_tables_of_layer_facts_are_gone():
    names = "|".join(["_TORCH", "_CLASSES", "_custom_args", "_INITIALIZE_EDITS", "MERGES",
                      "_RANGES", "BATCH_DEPENDENT"])
    for path in _sources():
        found = re.findall(rf"\b({names})\b", path.read_text(encoding="utf-8"))
        assert not found, f"{path.relative_to(ROOT)}: {found}"


def test_no_table_of_layer_names_outside_the_registry():
    """No line outside ganbuilder/layers quotes two different layer kinds (a table of them:
    the library's groups, the canvas's defaults, the merge kinds would), nor compares a kind
    with a registered layer's name (a fact about that layer kept elsewhere)."""
    kinds = set(LAYERS.names()) | {"residual", "repeat"}
    for path in _sources():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            where = f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
            quoted = set(re.findall(r"""["']([a-z_]+)["']""", line)) & kinds
            assert len(quoted) < 2, where
            compared = re.findall(r"""\.kind\s*(?:==|!=)\s*["']([a-z_]+)["']""", line)
            assert not set(compared) & set(LAYERS.names()), where


def test_a_construct_eject_cannot_write_is_refused_by_name():
    from ganbuilder.layers import construct

    spectral = torch.nn.utils.parametrizations.spectral_norm
    with pytest.raises(RuntimeError, match=r"parametrizations\.spectral_norm is not one"):
        module_source(construct(spectral, construct(torch.nn.Linear, 2, 2)))
