"""Arithmetic and taps in `forward`: shapes checked at validation, values and gradients at run
time, the same rules as the arithmetic layers."""

import pytest
import torch

from ganbuilder.compile.model import GAN, TensorCache
from ganbuilder.errors import SpecError
from ganbuilder.spec import load_spec

from .conftest import MINIMAL


def _spec(write_spec, forward: str, extra: str = ""):
    text = MINIMAL.replace("forward:\n  fake: G(z)", f"forward:\n  fake: G(z)\n{forward}")
    text = text.replace("    layers:\n      - linear: 16\n      - relu\n      - linear: 2",
                        "    layers:\n      - linear: 16\n      - {relu: , id: h}\n"
                        "      - linear: 2" + extra, 1)
    return load_spec(write_spec(text))


def test_forward_arithmetic_has_the_layers_shapes_and_values(write_spec):
    spec = _spec(write_spec, "  mixed: (fake + real) * 0.5\n  gated: fake * fake - fake / 4\n"
                 "  hidden: fake.h\n  moved: affine(fake, fake, real, 1)\n")
    shapes = spec.analysis.tensor_shapes
    assert shapes["mixed"] == shapes["gated"] == shapes["moved"] == (2,)
    assert shapes["hidden"] == (16,)
    gan = GAN(spec)
    z, real = torch.randn(5, 4), torch.randn(5, 2)
    cache = TensorCache(gan, {"z": z, "real": real})
    fake = gan.nets["G"](z)
    assert torch.allclose(cache.get("mixed"), (fake + real) * 0.5)
    assert torch.allclose(cache.get("gated"), fake * fake - fake / 4)
    assert torch.allclose(cache.get("moved"), fake * (1 + fake) + real)
    assert torch.allclose(cache.get("hidden"), torch.relu(gan.nets["G"][0](z)))


def test_a_tap_is_the_tensor_the_output_was_computed_from(write_spec):
    spec = _spec(write_spec, "  hidden: fake.h\n")
    gan = GAN(spec)
    cache = TensorCache(gan, {"z": torch.randn(5, 4), "real": torch.randn(5, 2)})
    fake = cache.get("fake", frozenset({"G"}))
    hidden = cache.get("hidden", frozenset({"G"}))
    grad, = torch.autograd.grad(fake.sum(), hidden)  # through G's last layer only
    weight = gan.nets["G"][2].weight
    assert torch.allclose(grad, weight.sum(0).expand(5, 16))
    assert not cache.get("hidden").requires_grad  # detached where G is not trained


@pytest.mark.parametrize(("forward", "message"), [
    ("  bad: fake + z\n", "inputs must have the same shape or broadcast"),
    ("  bad: fake.nope\n", "G has no layer with id 'nope'"),
    ("  bad: z.h\n", "must be a forward tensor computed as network(...)"),
    ("  bad: fake + 1\n", "a number cannot be added to a tensor"),
    ("  bad: scale(fake, real)\n", "scale: argument 2 must be a number"),
    ("  bad: G(2)\n", "the number 2 stands where a tensor is expected"),
])
def test_forward_arithmetic_errors_name_the_entry(write_spec, forward, message):
    with pytest.raises(SpecError) as err:
        _spec(write_spec, forward)
    assert message in str(err.value) and "forward.bad" in str(err.value)


def test_a_lazy_term_runs_every_n_steps_with_n_times_its_weight(write_spec, tmp_path):
    import json

    from ganbuilder.train.trainer import Trainer

    text = MINIMAL.replace("      - adversarial: {critic: D, real: real, fake: fake}\n",
                           "      - adversarial: {critic: D, real: real, fake: fake}\n"
                           "      - gradient_penalty: {critic: D, real: real, fake: fake, "
                           "weight: 0.5, every: 2}\n", 1)
    spec = load_spec(write_spec(text), ["training.log_every=1"])
    run = Trainer(spec, tmp_path / "run", steps=4).run()
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert ["loss/D/gradient_penalty" in r for r in rows] == [True, False, True, False]
    first = rows[0]
    total = first["loss/D/adv_D"] + 2 * 0.5 * first["loss/D/gradient_penalty"]
    assert abs(first["loss/D"] - total) < 1e-5
