"""`classification` (ACGAN's auxiliary classifier) on real and fake samples, and its checks."""

import math

import pytest
import torch

from ganbuilder.errors import SpecError
from ganbuilder.losses import LOSSES, TermContext
from ganbuilder.registry import fill_defaults
from ganbuilder.spec import load_spec

LOGITS = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 3.0]])


def _classification(updates, labels, **given):
    params = fill_defaults(LOSSES.get("classification").params,
                           {"classifier": "C", "input": "x", "labels": "y", **given})
    x = LOGITS.clone().requires_grad_(True)
    ctx = TermContext({"x": x, "y": labels}, {"C": torch.nn.Identity()}, updates)
    loss, metrics = LOSSES.get("classification").compute(params, ctx)
    return x, loss, metrics


def _nll(row: list[float], k: int) -> float:
    return -(row[k] - math.log(sum(math.exp(v) for v in row)))


def test_cross_entropy_by_hand_and_accuracy_where_the_classifier_trains():
    _, loss, metrics = _classification({"C"}, torch.tensor([0, 1]))
    assert loss.item() == pytest.approx((_nll([2, 0, 0], 0) + _nll([0, 1, 3], 1)) / 2)
    assert metrics == {"acc/C/y": 0.5}  # row 0 right, row 1 predicts 2


def test_generator_side_pushes_fakes_towards_their_label_and_records_nothing():
    x, loss, metrics = _classification({"G"}, torch.tensor([2, 2]))
    loss.backward()
    assert metrics == {}
    assert (x.grad[:, 2] < 0).all()  # raising the requested class's logit lowers the loss
    assert (x.grad[:, :2] > 0).all()


PAPER_D_LOSS = ("objectives.D.loss=[{adversarial: {critic: D, real: h_real, fake: h_fake}}, "
                "{classification: {classifier: C, input: h_real, labels: label}}, "
                "{classification: {classifier: C, input: h_fake, labels: y}}]")


def _terms(spec, objective):
    return [(t.kind, t.params.get("input"), t.params.get("labels"))
            for t in spec.analysis.terms if t.objective == objective]


def test_acgan_spec_trains_the_classifier_on_real_digits_and_g_on_its_fakes():
    spec = load_spec("specs/acgan.yaml")
    assert _terms(spec, "D") == [("adversarial", None, None),
                                 ("classification", "h_real", "label")]
    assert _terms(spec, "G") == [("adversarial", None, None),
                                 ("classification", "h_fake", "y")]
    assert spec.analysis.networks["C"].output_shape == (10,)


def test_acgan_papers_fake_side_classification_is_one_override_away():
    spec = load_spec("specs/acgan.yaml", [PAPER_D_LOSS])
    assert _terms(spec, "D") == [("adversarial", None, None),
                                 ("classification", "h_real", "label"),
                                 ("classification", "h_fake", "y")]


def test_classification_checks_labels_and_logits():
    with pytest.raises(SpecError, match="classification reads one integer label per sample"):
        load_spec("specs/acgan.yaml", ["objectives.G.loss[1].classification.labels=z"])
    with pytest.raises(SpecError, match="outputs 7 logits but 'y' has 10 classes"):
        load_spec("specs/acgan.yaml", ["networks.C.layers[0].linear=7"])
