"""Loading: YAML 1.2 numbers, positions, extends, params, --set and blocks."""

import pytest

from ganbuilder.errors import SpecError
from ganbuilder.spec import load_spec
from ganbuilder.spec.yaml_loader import load_yaml

from .conftest import MINIMAL


def test_yaml_12_numbers_and_booleans():
    value = load_yaml("a: 1e-4\nb: 2.0E+3\nc: yes\nd: true\ne: 0x10\nf: .inf\ng: 1_000\n")
    assert value == {"a": 1e-4, "b": 2000.0, "c": "yes", "d": True, "e": 16,
                     "f": float("inf"), "g": "1_000"}
    assert isinstance(value["a"], float)


def test_positions_are_kept():
    value = load_yaml("top:\n  inner: [1, 2]\n", "f.yaml")
    assert str(value.val_locs["top"]) == "f.yaml:2:3"
    assert str(value["top"].val_locs["inner"]) == "f.yaml:2:10"
    assert str(value["top"]["inner"].item_locs[1]) == "f.yaml:2:14"


def test_bad_yaml_names_line():
    with pytest.raises(SpecError) as err:
        load_yaml("a: [1, 2\nb: 3\n", "f.yaml")
    problem = err.value.problems[0]
    assert problem.location.file == "f.yaml"
    assert problem.location.line == 2
    assert "invalid YAML" in problem.message


def test_duplicate_keys_are_errors():
    with pytest.raises(SpecError) as err:
        load_yaml("a: 1\nb: 2\na: 3\n", "f.yaml")
    problem = err.value.problems[0]
    assert "duplicate key 'a' (first defined at line 1)" in problem.message
    assert problem.location.line == 3


def test_tags_are_refused():
    with pytest.raises(SpecError) as err:
        load_yaml("a: !!python/object:os.system {}\n", "f.yaml")
    assert "not allowed" in err.value.problems[0].message


def test_params_arithmetic(write_spec):
    spec = load_spec(write_spec(MINIMAL.replace("linear: 16", "linear: ${w*2}").replace(
        "name: tiny", "name: tiny\nparams: {w: 8, lr: 1e-3}")))
    assert spec.tree["networks"]["G"]["layers"][0] == {"linear": 16}
    assert spec.tree["params"]["lr"] == 1e-3


def test_unknown_param_did_you_mean(write_spec):
    path = write_spec(MINIMAL.replace("linear: 16", "linear: ${wdth}", 1).replace(
        "name: tiny", "name: tiny\nparams: {width: 8}"))
    with pytest.raises(SpecError) as err:
        load_spec(path)
    problem = err.value.problems[0]
    assert problem.message == "unknown parameter 'wdth' (did you mean 'width'?)"
    assert problem.path == "networks.G.layers[0].linear"
    assert problem.location.line == 10


def test_unsafe_expression_is_refused(write_spec):
    path = write_spec(MINIMAL.replace("linear: 16", "linear: ${__import__('os')}", 1))
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert "is not allowed" in err.value.problems[0].message


def test_set_overrides_are_typed(minimal_spec):
    spec = load_spec(minimal_spec, ["training.steps=7", "training.optimizer={adam: {lr: 1e-4}}",
                                    "networks.G.layers[0].linear=32"])
    assert spec.tree["training"]["steps"] == 7
    assert spec.tree["training"]["optimizer"]["adam"]["lr"] == 1e-4
    assert spec.tree["networks"]["G"]["layers"][0] == {"linear": 32}


@pytest.mark.parametrize(("override", "message"), [
    ("training.steps", "expects PATH=VALUE"),
    ("networks.G.layers[9].linear=3", "no list item at 'networks.G.layers[9]'"),
    ("training..steps=3", "malformed spec path"),
])
def test_bad_set(minimal_spec, override, message):
    with pytest.raises(SpecError) as err:
        load_spec(minimal_spec, [override])
    assert message in err.value.problems[0].message
    assert err.value.problems[0].location.file == "<--set>"


def test_extends_merges_and_overrides(write_spec):
    write_spec(MINIMAL, "base.yaml")
    child = write_spec("extends: base.yaml\nname: child\ntraining: {steps: 9}\n", "child.yaml")
    spec = load_spec(child)
    assert spec.name == "child"
    assert spec.tree["training"]["steps"] == 9
    assert spec.tree["training"]["log_every"] == 2  # merged from the base
    assert "extends" not in spec.tree


def test_extends_cycle_is_reported(write_spec):
    write_spec("extends: b.yaml\n", "a.yaml")
    path = write_spec("extends: a.yaml\n", "b.yaml")
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert "extends cycle: b.yaml -> a.yaml -> b.yaml" in err.value.problems[0].message


def test_extends_missing_base(write_spec):
    path = write_spec("extends: nowhere.yaml\nname: x\n")
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert "base spec not found" in err.value.problems[0].message
    assert err.value.problems[0].location.line == 1


BLOCKS = MINIMAL.replace("networks:\n", """blocks:
  dense:
    args: [n]
    layers:
      - linear: ${n}
      - relu
networks:
""")


def test_blocks_expand_with_arguments_and_repeat_index(write_spec):
    text = BLOCKS.replace("      - linear: 16\n      - relu\n      - linear: 2",
                          "      - {block: dense, n: 8}\n"
                          "      - repeat: {times: 2, block: dense, n: '${4 * (i + 1)}'}\n"
                          "      - linear: 2")
    spec = load_spec(write_spec(text))
    layers = spec.tree["networks"]["G"]["layers"]
    assert layers == [{"linear": 8}, "relu", {"linear": 4}, "relu", {"linear": 8}, "relu",
                      {"linear": 2}]
    assert spec.analysis.networks["G"].output_shape == (2,)


def test_unknown_block_and_bad_arguments(write_spec):
    text = BLOCKS.replace("      - linear: 16\n      - relu\n",
                          "      - {block: dense, m: 8}\n      - {block: dens, n: 8}\n")
    with pytest.raises(SpecError) as err:
        load_spec(write_spec(text))
    messages = [p.message for p in err.value.problems]
    assert "block 'dense' has no argument 'm'" in messages
    assert "block 'dense' needs argument 'n'" in messages
    assert "unknown block 'dens' (did you mean 'dense'?)" in messages
