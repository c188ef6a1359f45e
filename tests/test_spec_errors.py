"""Every class of bad spec ends in messages that name the spec path and file:line:col."""

import pytest

from ganbuilder.errors import SpecError
from ganbuilder.spec import load_spec

from .conftest import MINIMAL


def problems_of(write_spec, text: str) -> list:
    with pytest.raises(SpecError) as err:
        load_spec(write_spec(text))
    return err.value.problems


def only(problems: list):
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def test_unknown_key_with_did_you_mean(write_spec):
    p = only(problems_of(write_spec, MINIMAL.replace("  log_every: 2", "  log_evry: 2")))
    assert p.path == "training.log_evry"
    assert p.message.startswith("unknown key 'log_evry' (did you mean 'log_every'?)")
    assert (p.location.line, p.location.col) == (30, 3)


def test_unknown_layer_with_did_you_mean(write_spec):
    p = only(problems_of(write_spec, MINIMAL.replace("- linear: 16", "- lineer: 16", 1)))
    assert p.path == "networks.G.layers[0].lineer"
    assert p.message == "unknown layer 'lineer' (did you mean 'linear'?)"
    assert p.location.line == 9


def test_unknown_bare_layer(write_spec):
    p = only(problems_of(write_spec, MINIMAL.replace("- relu", "- rlu", 1)))
    assert p.path == "networks.G.layers[1]"
    assert "unknown value 'rlu' (did you mean 'relu'?)" in p.message
    assert p.location.line == 10


def test_wrong_type_and_bound(write_spec):
    text = MINIMAL.replace("steps: 4", "steps: four").replace("linear: 2\n", "linear: 0\n")
    problems = problems_of(write_spec, text)
    by_path = {p.path: p for p in problems}
    assert by_path["training.steps"].message == "expected an integer >= 1, got the string 'four'"
    assert by_path["training.steps"].location.line == 29
    assert by_path["networks.G.layers[2].linear"].message == (
        "expected an integer >= 1, got integer 0")


def test_all_errors_reported_at_once(write_spec):
    text = MINIMAL.replace("steps: 4", "steps: -1").replace("log_every: 2", "log_every: x")
    assert len(problems_of(write_spec, text)) == 2


def test_missing_required_section(write_spec):
    text = MINIMAL.replace("data: {source: ring8, batch_size: 32}\n", "")
    p = only(problems_of(write_spec, text))
    assert p.message == "missing required key: data"
    assert p.location.line == 1


def test_unknown_data_source(write_spec):
    p = only(problems_of(write_spec, MINIMAL.replace("source: ring8", "source: ring9")))
    assert p.path == "data.source"
    assert "unknown value 'ring9' (did you mean 'ring8'?)" in p.message


def test_undefined_tensor_in_forward(write_spec):
    p = only(problems_of(write_spec, MINIMAL.replace("fake: G(z)", "fake: G(zz)")))
    assert p.path == "forward.fake"
    assert p.message == "unknown tensor 'zz' (did you mean 'z'?)"
    assert (p.location.line, p.location.col) == (18, 9)


def test_undefined_tensor_in_loss(write_spec):
    text = MINIMAL.replace("{critic: D, fake: fake}", "{critic: D, fake: fak}")
    p = problems_of(write_spec, text)[0]
    assert p.path == "objectives.G.loss[0].adversarial.fake"
    assert p.message == "unknown tensor 'fak' (did you mean 'fake'?)"


def test_unknown_network(write_spec):
    problems = problems_of(write_spec, MINIMAL.replace("updates: [G]", "updates: [Gen]"))
    assert problems[0].path == "objectives.G.updates"
    assert problems[0].message == "unknown network 'Gen'"


def test_cycle_in_forward(write_spec):
    text = MINIMAL.replace("fake: G(z)", "fake: G(a)\n  a: G(fake)")
    messages = [p.message for p in problems_of(write_spec, text)]
    assert any(m.startswith("cycle in forward: ") and "fake" in m and "a" in m
               for m in messages)


def test_shape_mismatch_names_network_and_layer(write_spec):
    text = MINIMAL.replace("      - linear: 16\n      - leaky_relu: 0.2\n      - linear: 1",
                           "      - linear: 16\n      - leaky_relu: 0.2\n"
                           "      - linear: {out: 1, in: 8}")
    p = only(problems_of(write_spec, text))
    assert p.path == "networks.D.layers[2]"
    assert p.message == "linear: expects 8 input features, got 16"
    assert p.location.line == 16


def test_conv_channel_mismatch_message(write_spec):
    text = """
    version: 1
    name: convs
    data: {source: digits, image_size: 16, batch_size: 8}
    latent: {z: {dist: normal, shape: [4, 4, 4]}}
    networks:
      G:
        layers:
          - conv_transpose: {out: 1, kernel: 4, stride: 4}
          - tanh
      D:
        layers:
          - conv: {out: 64, kernel: 4, stride: 2, padding: 1}
          - leaky_relu
          - conv: {out: 128, kernel: 4, stride: 2, padding: 1}
          - leaky_relu
          - conv: {out: 1, in: 128, kernel: 4}
    forward: {fake: G(z)}
    objectives:
      D: {updates: [D], loss: [{adversarial: {critic: D, real: real, fake: fake}}]}
    training: {steps: 1}
    """
    ok = load_spec(write_spec(text))
    assert ok.analysis.networks["D"].output_shape == (1, 1, 1)
    p = only(problems_of(write_spec, text.replace("out: 128, kernel", "out: 64, kernel")))
    assert p.path == "networks.D.layers[4]"
    assert p.message == "conv: expects 128 input channels, got 64"


def test_layer_that_cannot_take_its_input(write_spec):
    text = MINIMAL.replace("      - linear: 16\n      - relu\n      - linear: 2",
                           "      - linear: 16\n      - batch_norm\n      - conv: {out: 2, "
                           "kernel: 3}")
    p = only(problems_of(write_spec, text))
    assert p.path == "networks.G.layers[2]"
    assert p.message == "conv: expects a (C, H, W) input, got (16)"


def test_critic_objective_needs_real(write_spec):
    text = MINIMAL.replace("{critic: D, real: real, fake: fake}", "{critic: D, fake: fake}")
    p = only(problems_of(write_spec, text))
    assert "needs 'real' as well as 'fake'" in p.message


def test_began_critic_side_needs_real_and_a_reconstruction(write_spec):
    text = MINIMAL.replace("adversarial: {critic: D, real: real, fake: fake}",
                           "began: {autoencoder: D, fake: fake}")
    messages = sorted(p.message for p in problems_of(write_spec, text))
    assert len(messages) == 2, messages
    assert "D outputs (1) but BEGAN compares it with its input (2)" in messages[0]
    assert "updates the critic D, so the term needs 'real' as well as 'fake'" in messages[1]


def test_clip_weights_must_be_positive(write_spec):
    text = MINIMAL.replace("    updates: [D]\n", "    updates: [D]\n    clip_weights: 0\n")
    p = only(problems_of(write_spec, text))
    assert p.path == "objectives.D.clip_weights"
    assert p.message == "expected a number > 0, got integer 0"


def test_pred_target_shapes_must_agree(write_spec):
    text = MINIMAL.replace("      - adversarial: {critic: D, fake: fake}",
                           "      - adversarial: {critic: D, fake: fake}\n"
                           "      - l1: {pred: fake, target: z}")
    p = only(problems_of(write_spec, text))
    assert p.message == "l1: pred fake (2) and target z (4) differ in shape"


def test_unknown_id_in_concat(write_spec):
    text = MINIMAL.replace("      - linear: 16\n      - relu\n      - linear: 2",
                           "      - {linear: 16, id: h}\n      - {concat: {with: hh}}\n"
                           "      - linear: 2")
    p = only(problems_of(write_spec, text))
    assert p.path == "networks.G.layers[1].concat.with"
    assert p.message.startswith("unknown id 'hh' (did you mean 'h'?)")


def test_network_never_used(write_spec):
    text = MINIMAL.replace("  D:\n    layers:", "  E:\n    layers:\n      - linear: 1\n  D:\n"
                           "    layers:", 1)
    p = only(problems_of(write_spec, text))
    assert p.path == "networks.E"
    assert "never called" in p.message


def test_problem_string_has_file_line_col_and_path(write_spec):
    path = write_spec(MINIMAL.replace("  log_every: 2", "  log_evry: 2"))
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert str(err.value).startswith(f"{path}:30:3: training.log_evry: unknown key")


def test_unknown_data_key_names_the_source_keys(write_spec):
    p = only(problems_of(write_spec, MINIMAL.replace("batch_size: 32", "batch_size: 32, sise: 9")))
    assert p.path == "data.sise"
    assert p.message.startswith("unknown key 'sise' (did you mean 'size'?)")


# -- a bad value: one message per field, saying what the field takes -----------------------------

@pytest.mark.parametrize(("override", "path", "message"), [
    ("training.device=gpu", "training.device",
     "expected a device: auto, cpu, cuda, cuda:N (N a GPU index) or mps, got the string 'gpu'"),
    ("data.workers=many", "data.workers",
     "expected an integer from 0 to 64 or 'auto', got the string 'many'"),
    ("name=a/b", "name", "expected a name of letters, digits, '.', '_' and '-', "
     "got the string 'a/b'"),
    ("objectives.D.loss[0].adversarial.fake=3", "objectives.D.loss[0].adversarial.fake",
     "expected a string or a non-empty list of strings, got integer 3"),
    ("training.sample_every=0.5", "training.sample_every",
     "expected an integer >= 1, got number 0.5"),
    ("training.ema={networks: [G], decay: 2}", "training.ema.decay",
     "expected a number > 0 and < 1, got integer 2"),
])
def test_a_bad_value_is_phrased_for_its_field(minimal_spec, override, path, message):
    # One problem per field, whatever number of schema rules (type, bound, anyOf branch) fail.
    with pytest.raises(SpecError) as err:
        load_spec(minimal_spec, [override])
    assert [(p.path, p.message) for p in err.value.problems] == [(path, message)]
    assert "letters, digits and _ only" not in str(err.value)
