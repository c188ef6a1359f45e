"""Hostile specs end in located errors (exit 2), quickly and without a traceback.

Each case here was found by adversarial testing (and its siblings by scripts/fuzz.py): bad
`${...}` arithmetic, runaway repeats, YAML alias tricks and tags, block arguments of the wrong
type, and values that validate but that torch would refuse or could not allocate.
"""

import re
import time

import pytest

from ganbuilder.cli import main
from ganbuilder.errors import SpecError
from ganbuilder.spec import load_spec
from ganbuilder.spec.expr import ExprError, eval_arith
from ganbuilder.spec.resolve import MAX_LAYERS
from ganbuilder.spec.yaml_loader import MAX_NODES, load_yaml

from .conftest import MINIMAL, ROOT

LOCATED = re.compile(r"^error: [^:]+:\d+:\d+: ")


def problems_of(write_spec, text: str, overrides: tuple = ()) -> list:
    with pytest.raises(SpecError) as err:
        load_spec(write_spec(text), overrides)
    return err.value.problems


def with_params(params: str) -> str:
    return MINIMAL.replace("name: tiny\n", f"name: tiny\nparams:\n{params}")


# -- ${...} arithmetic ---------------------------------------------------------------------------

@pytest.mark.parametrize(("expr", "message"), [
    ("log2(0)", "log2 needs a number > 0, got 0"),
    ("log2(-4)", "log2 needs a number > 0"),
    ("int(1e400)", "not a finite number"),
    ("int(1e308 * 10)", "not a finite number"),
    ("min()", "min takes at least 1 argument, got 0"),
    ("int(1, 2)", "int takes 1 argument, got 2"),
    ("2**(2**30)", "beyond 64 bits"),
    ("9**9**9**9", "beyond 64 bits"),
    ("(2**62) * (2**62)", "beyond 64 bits"),
    ("2**63", "beyond 64 bits"),
    ("1e300 ** 2", "too large"),
    ("(-8) ** 0.5", "a negative number to a fractional power"),
    ("0 ** -1", "cannot be raised to a negative power"),
    ("s * 1000000000", "* needs numbers, got 'ab'"),
    ("-" * 990 + "1", "nested too deeply"),
    ("1" * 1001, "longer than 1000 characters"),
])
def test_bad_arithmetic_is_an_expr_error(expr, message):
    start = time.perf_counter()
    with pytest.raises(ExprError, match=re.escape(message)):
        eval_arith(expr, {"s": "ab"})
    assert time.perf_counter() - start < 0.5


def test_min_and_max_take_one_or_more_numbers():
    assert eval_arith("max(1)", {}) == 1
    assert eval_arith("min(3, 2.5, x)", {"x": 7}) == 2.5
    assert eval_arith("2**62 - 1 + 2**62", {}) == 2**63 - 1


def test_bad_param_is_located_and_its_uses_stay_quiet(write_spec):
    text = with_params("  n: ${log2(0)}\n  m: ${n * 2}\n").replace("linear: 16", "linear: ${m}", 1)
    [p] = problems_of(write_spec, text)
    assert p.path == "params.n"
    assert "log2 needs a number > 0, got 0" in p.message
    assert (p.location.line, p.location.col) == (4, 6)


def test_dcgan_image_size_zero_is_one_error():
    with pytest.raises(SpecError) as err:
        load_spec(ROOT / "specs/dcgan.yaml", ["params.image_size=0"])
    [p] = err.value.problems
    assert p.path == "params.depth" and "log2" in p.message


# -- runaway expansion ---------------------------------------------------------------------------

BLOCKS = MINIMAL.replace("networks:\n", "blocks:\n  act:\n    layers: [relu]\n  two:\n"
                         "    layers: [{block: act}, {block: act}]\nnetworks:\n", 1)


@pytest.mark.parametrize("item", [
    "repeat: {times: 1000000000, block: act}",
    "repeat: {times: 1000000000, layers: [relu]}",
    "repeat: {times: 200, layers: [{repeat: {times: 200, layers: [relu]}}]}",
    "repeat: {times: 6000, block: two}",
])
def test_repeats_beyond_the_layer_limit_fail_at_once(write_spec, item):
    text = BLOCKS.replace("      - relu\n", f"      - {item}\n", 1)
    start = time.perf_counter()
    problems = problems_of(write_spec, text)
    assert time.perf_counter() - start < 2
    [p] = [p for p in problems if "layers" in p.message]
    assert f"more than {MAX_LAYERS:,} layers" in p.message
    assert p.path.startswith("networks.G.layers[1]") and p.location.line == 15


def test_repeats_within_the_limit_still_expand(write_spec):
    text = BLOCKS.replace("      - relu\n", "      - repeat: {times: 3, block: two}\n", 1)
    assert load_spec(write_spec(text)).tree["networks"]["G"]["layers"][1:7] == ["relu"] * 6


# -- YAML ----------------------------------------------------------------------------------------

LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(9))


@pytest.mark.parametrize(("text", "message", "where"), [
    ("a: &x [1, *x]\n", "an alias refers to a node that contains it", (1, 4)),
    ("a: &x {b: {c: *x}}\n", "an alias refers to a node that contains it", (1, 4)),
    ("a: &x {<<: *x}\n", "an alias refers to a node that contains it", (1, 4)),
    (LAUGHS, f"more than {MAX_NODES:,} YAML nodes", None),
    ("a: " + "[" * 200 + "]" * 200 + "\n", "nested more than 100 levels deep", None),
    ("a: {<<: 5, b: 1}\n", "'<<' merges a mapping or a list of mappings, got 5", (1, 9)),
    ("x: &x {c: 1}\na: {<<: [*x, [1]]}\n", "'<<' merges a mapping", (2, 9)),
    ("a: !!int abc\n", "'abc' is not a valid !!int", (1, 4)),
    ("a: !!float x1\n", "'x1' is not a valid !!float", (1, 4)),
    ("a: !!bool yes\n", "'yes' is not a valid !!bool", (1, 4)),
    ("a: !!map x\n", "YAML tag '!!map' does not fit 'x'", (1, 4)),
    ("a: !!seq {b: 1}\n", "YAML tag '!!seq' does not fit a mapping", (1, 4)),
    ("a: 9223372036854775808\n", "is an integer beyond 64 bits", (1, 4)),
    ("a: 0x1\nb: " + "9" * 5000 + "\n", "is an integer beyond 64 bits", (2, 4)),
    ("a: 1e400\n", "beyond the range of a 64-bit float", (1, 4)),
])
def test_yaml_tricks_are_located_errors(text, message, where):
    start = time.perf_counter()
    with pytest.raises(SpecError) as err:
        load_yaml(text, "f.yaml")
    assert time.perf_counter() - start < 2
    [p] = err.value.problems
    assert message in p.message
    assert p.location is not None and p.location.file == "f.yaml"
    if where:
        assert (p.location.line, p.location.col) == where


def test_yaml_limits_leave_ordinary_values_alone():
    tree = load_yaml("x: &x {c: 1}\na: {<<: *x, b: !!int 2}\nn: -9223372036854775808\n"
                     "f: .inf\ns: !!str 5\n")
    assert tree == {"x": {"c": 1}, "a": {"b": 2, "c": 1}, "n": -(2**63), "f": float("inf"),
                    "s": "5"}


def test_merge_key_errors_reach_the_cli(write_spec, capsys):
    path = write_spec(MINIMAL.replace("name: tiny\n", "name: tiny\n<<: 5\n"))
    assert main(["validate", str(path)]) == 2
    assert f"{path}:3:5: '<<' merges a mapping" in capsys.readouterr().err


# -- blocks --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "got"), [
    ("2.5", "float 2.5"), ("true", "bool True"), ("ch", "str 'ch'"),
    ("[{ch: 1}]", "a list holding a mapping"), ("[1]", "a list holding int 1"),
])
def test_block_args_of_the_wrong_type(write_spec, args, got):
    text = MINIMAL.replace("networks:\n", f"blocks:\n  b:\n    args: {args}\n    layers: [relu]\n"
                           "networks:\n", 1).replace("      - relu\n", "      - block: b\n", 1)
    [p] = problems_of(write_spec, text)
    assert p.path == "blocks.b.args"
    assert p.message == ("must be a list of argument names or a mapping of names to defaults, "
                         f"got {got}")
    assert p.location.line == 8


def test_malformed_blocks_are_reported_even_unused(write_spec):
    text = MINIMAL.replace("networks:\n", "blocks:\n  b: 5\n  c: {layers: [relu], arg: [x]}\n"
                           "networks:\n", 1)
    problems = {p.path: p.message for p in problems_of(write_spec, text)}
    assert problems["blocks.b"].startswith("a block is a mapping with a 'layers' list")
    assert problems["blocks.c.arg"].startswith("unknown key 'arg' (did you mean 'args'?)")


# -- values torch would refuse -------------------------------------------------------------------

def test_dropout_beyond_one(write_spec):
    [p] = problems_of(write_spec, MINIMAL.replace("- relu", "- dropout: 3", 1))
    assert (p.path, p.message) == ("networks.G.layers[1].dropout",
                                   "expected a number from 0 to 1, got integer 3")


def test_integers_beyond_64_bits_from_set_and_expressions(write_spec):
    [p] = problems_of(write_spec, MINIMAL, ("training.steps=99999999999999999999",))
    assert p.path == "training.steps" and "is an integer beyond 64 bits" in p.message
    [p] = problems_of(write_spec, MINIMAL.replace("linear: 16", "linear: ${2**70}", 1))
    assert p.path == "networks.G.layers[0].linear" and "beyond 64 bits" in p.message


@pytest.mark.parametrize(("override", "path", "layer"), [
    ("networks.D.layers[0].conv.out=1000000", "networks.D.layers[0]", "layers[0] conv"),
    ("params.image_size=4096", "networks.G.layers[3]", "conv_transpose"),
])
def test_specs_that_cannot_fit_in_memory_are_refused_for_training(monkeypatch, override, path,
                                                                   layer):
    from ganbuilder.spec.budget import require_memory

    monkeypatch.setenv("GANBUILDER_MEMORY_LIMIT", "100G")
    spec = load_spec(ROOT / "specs/dcgan.yaml", [override])  # a spec of any size is valid
    with pytest.raises(SpecError) as err:
        require_memory(spec)
    [p] = err.value.problems
    assert p.path == path and p.location.file.endswith("dcgan.yaml")
    assert "more memory than GANBUILDER_MEMORY_LIMIT=100G (100.0 GiB)" in p.message
    assert "data.batch_size 64" in p.message
    assert layer in p.message


def test_memory_limit_is_what_the_variable_says(monkeypatch):
    from ganbuilder.spec.budget import require_memory

    monkeypatch.setenv("GANBUILDER_MEMORY_LIMIT", "1G")
    require_memory(load_spec(ROOT / "specs/dcgan.yaml"))  # about 0.1 GiB
    monkeypatch.setenv("GANBUILDER_MEMORY_LIMIT", "20M")
    with pytest.raises(SpecError, match=r"G alone needs at least 0\.\d GiB of the spec's"):
        require_memory(load_spec(ROOT / "specs/dcgan.yaml"))


def test_run_refuses_what_summary_describes(monkeypatch, tmp_path, capsys):
    """summary shows the estimate of a spec too large to train here; run refuses it, naming the
    batch size and the variable that sets the limit."""
    monkeypatch.setenv("GANBUILDER_MEMORY_LIMIT", "1G")
    big = [str(ROOT / "specs/dcgan.yaml"), "--set", "params.image_size=256"]
    assert main(["summary", *big]) == 0
    out = capsys.readouterr().out
    assert "training memory: at least 6.85 GiB at data.batch_size 64" in out
    assert "over GANBUILDER_MEMORY_LIMIT=1G (1.00 GiB), so `run` refuses to train it" in out
    assert main(["validate", *big]) == 0
    monkeypatch.delenv("GANBUILDER_MEMORY_LIMIT")  # the machine's memory: the message says
    monkeypatch.setattr("ganbuilder.spec.budget.memory_limit",  # how to set another limit
                        lambda: (2**30, "this machine's memory"))
    code = main(["run", *big, "--out", str(tmp_path / "run"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "data.batch_size 64" in err and "GANBUILDER_MEMORY_LIMIT" in err
    assert LOCATED.match(err.splitlines()[0]) and not (tmp_path / "run").exists()


def test_cli_prints_located_lines_and_exits_2(capsys):
    code = main(["validate", str(ROOT / "specs/dcgan.yaml"), "--set", "params.image_size=4096",
                 "--set", "params.nz=${int(1e400)}"])
    assert code == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines and all(LOCATED.match(line) for line in lines), lines


@pytest.mark.parametrize(("item", "message"), [
    ("{reshape: [0, -1]}", "reshape: sizes are >= 1 (or one -1), got [0, -1]"),
    ("{reshape: [-1, 0]}", "reshape: sizes are >= 1 (or one -1), got [-1, 0]"),
    ("{reshape: [1, 4, 4]}\n      - avg_pool: 8",
     "avg_pool: kernel 8 is larger than the 4x4 input"),
])
def test_shapes_torch_would_refuse(write_spec, item, message):
    [p] = problems_of(write_spec, MINIMAL.replace("- relu", f"- {item}", 1))
    assert p.message == message and p.location.line == 10 + ("avg_pool" in message)


def test_an_empty_layer_output_from_a_plugin_shape_rule_is_refused():
    from ganbuilder.spec.analysis import Analysis
    from ganbuilder.spec.budget import check_outputs
    from ganbuilder.spec.paths import Locations
    from ganbuilder.spec.shapes import LayerPlan, NetworkPlan

    path = ("networks", "G", "layers", 0)
    layer = LayerPlan(path, "relu", {}, ["input"], (3, 0), "networks.G.layers[0]")
    analysis = Analysis(networks={"G": NetworkPlan("G", ["input"], [(3, 2)], [layer], (3, 0),
                                                   layer.slot)})
    [p] = check_outputs(analysis, Locations({})).problems
    assert (p.path, p.message) == ("networks.G.layers[0]", "relu makes an empty output (3, 0)")


@pytest.mark.parametrize(("value", "limit"), [
    ("512M", 2**29), ("2GiB", 2**31), ("1.5t", 1.5 * 2**40), ("1000", 1000)])
def test_memory_limit_sizes(monkeypatch, value, limit):
    from ganbuilder.spec.budget import memory_limit

    monkeypatch.setenv("GANBUILDER_MEMORY_LIMIT", value)
    assert memory_limit() == (limit, f"GANBUILDER_MEMORY_LIMIT={value}")


@pytest.mark.parametrize("value", ["lots", "-1G", "0", "infG"])
def test_a_bad_memory_limit_is_a_user_error(monkeypatch, value):
    from ganbuilder.errors import UserError
    from ganbuilder.spec.budget import memory_limit

    monkeypatch.setenv("GANBUILDER_MEMORY_LIMIT", value)
    with pytest.raises(UserError, match="GANBUILDER_MEMORY_LIMIT must be a size"):
        memory_limit()


def test_a_string_for_a_numeric_enum_is_a_located_error():
    with pytest.raises(SpecError) as err:
        load_spec(ROOT / "specs/dcgan.yaml", ["data.channels=abc"])
    assert "data.channels: unknown value 'abc'; expected one of: 1, 3" in str(err.value)


@pytest.mark.parametrize(("old", "new", "path", "shown"), [
    ("training:\n", "training:\n  optimizer: {adam: {lr: .nan}}\n",
     "training.optimizer.adam.lr", "nan"),
    ("training:\n", "training:\n  ema: {networks: [G], decay: .NaN}\n", "training.ema.decay",
     "nan"),
    ("updates: [D]\n", "updates: [D]\n    clip_weights: .inf\n", "objectives.D.clip_weights",
     "inf"),
    ("leaky_relu: 0.2", "leaky_relu: -.inf", "networks.D.layers[1].leaky_relu", "-inf"),
])
def test_yaml_nan_and_inf_are_located_errors(write_spec, old, new, path, shown):
    """JSON Schema cannot say "finite", so YAML's .nan and .inf would otherwise validate and
    train a model of NaNs."""
    problems = problems_of(write_spec, MINIMAL.replace(old, new, 1))
    assert [(p.path, p.message) for p in problems] == [
        (path, f"must be a finite number, got {shown}")]
    assert problems[0].location is not None
