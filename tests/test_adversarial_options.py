"""`adversarial`'s options: relativistic losses against a hand computation, PacGAN packing."""

import math

import pytest
import torch

from ganbuilder.errors import SpecError
from ganbuilder.losses import GAN_LOSSES, LOSSES, TermContext
from ganbuilder.registry import fill_defaults
from ganbuilder.spec import load_spec

REAL = torch.tensor([[1.0], [3.0]])  # critic scores; the critic is the identity
FAKE = torch.tensor([[0.0], [-1.0]])


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def _adversarial(updates, gan="bce", **given):
    params = fill_defaults(LOSSES.get("adversarial").params,
                           {"critic": "D", "real": "real", "fake": "fake", **given})
    ctx = TermContext({"real": REAL, "fake": FAKE}, {"D": torch.nn.Identity()}, updates, gan)
    return LOSSES.get("adversarial").compute(params, ctx)


def test_rsgan_pairs_each_real_score_with_a_fake_one():
    loss, metrics = _adversarial({"D"}, relativistic="standard")
    # -log sigmoid(C(x_r) - C(x_f)), per pair: 1 - 0 and 3 - (-1)
    assert loss.item() == pytest.approx((softplus(-1.0) + softplus(-4.0)) / 2)
    assert metrics == {"acc/D/real": 1.0, "acc/D/fake": 1.0}
    loss, _ = _adversarial({"G"}, relativistic="standard")
    assert loss.item() == pytest.approx((softplus(1.0) + softplus(4.0)) / 2)


def test_rasgan_judges_each_side_against_the_others_mean():
    mean_real, mean_fake = 2.0, -0.5
    loss, _ = _adversarial({"D"}, relativistic="average")
    d_real = [1.0 - mean_fake, 3.0 - mean_fake]  # should be high
    d_fake = [0.0 - mean_real, -1.0 - mean_real]  # should be low
    expected = (sum(softplus(-d) for d in d_real) / 2   # -log sigmoid(D_r)
                + sum(softplus(d) for d in d_fake) / 2)  # -log(1 - sigmoid(D_f))
    assert loss.item() == pytest.approx(expected)
    loss, _ = _adversarial({"G"}, relativistic="average")
    expected = sum(softplus(-d) for d in d_fake) / 2 + sum(softplus(d) for d in d_real) / 2
    assert loss.item() == pytest.approx(expected)


def test_ralsgan_targets_plus_and_minus_one():
    # mean real 2, mean fake -0.5 (Jolicoeur-Martineau 2018, eq. 8)
    loss, metrics = _adversarial({"D"}, gan="lsgan", relativistic="average")
    assert loss.item() == pytest.approx(((1.5 - 1) ** 2 + (3.5 - 1) ** 2) / 2
                                        + ((-2 + 1) ** 2 + (-3 + 1) ** 2) / 2)
    assert metrics == {"acc/D/real": 1.0, "acc/D/fake": 1.0}
    loss, _ = _adversarial({"G"}, gan="lsgan", relativistic="average")
    assert loss.item() == pytest.approx(((-2 - 1) ** 2 + (-3 - 1) ** 2) / 2
                                        + ((1.5 + 1) ** 2 + (3.5 + 1) ** 2) / 2)


def test_relativistic_hinge_and_kinds_without_a_relativistic_form():
    loss, _ = _adversarial({"D"}, gan="hinge", relativistic="average")
    assert loss.item() == pytest.approx(0.0 + 0.0)  # every margin is at least 1
    assert GAN_LOSSES.get("minimax").relativistic is None
    with pytest.raises(ValueError, match="no relativistic form"):
        _adversarial({"D"}, gan="wgan", relativistic="standard")


def test_relativistic_critic_accuracy_reads_the_relativistic_scores():
    real, fake = torch.tensor([[0.5], [-0.5]]), torch.tensor([[-0.2], [-2.0]])
    params = fill_defaults(LOSSES.get("adversarial").params, {
        "critic": "D", "real": "real", "fake": "fake", "relativistic": "average"})
    ctx = TermContext({"real": real, "fake": fake}, {"D": torch.nn.Identity()}, {"D"})
    _, metrics = LOSSES.get("adversarial").compute(params, ctx)
    # real - mean fake = 1.6, 0.6: both right; fake - mean real = -0.2, -2.0: both right
    assert metrics == {"acc/D/real": 1.0, "acc/D/fake": 1.0}


def test_generator_trains_through_the_relativistic_loss():
    fake = FAKE.clone().requires_grad_(True)
    params = fill_defaults(LOSSES.get("adversarial").params, {
        "critic": "D", "real": "real", "fake": "fake", "relativistic": "average"})
    ctx = TermContext({"real": REAL, "fake": fake}, {"D": torch.nn.Identity()}, {"G"})
    LOSSES.get("adversarial").compute(params, ctx)[0].backward()
    assert (fake.grad < 0).all()  # raising the fake scores lowers G's loss


class _Recorder(torch.nn.Module):
    """A critic that keeps what it was given and scores each pack by its sum."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, x):
        self.seen.append(x)
        return x.flatten(1).sum(1, keepdim=True)


@pytest.mark.parametrize("shape", [(3, 4, 4), (2,)])
def test_pack_joins_m_samples_along_the_first_dimension(shape):
    real, fake = torch.randn(8, *shape), torch.randn(8, *shape)
    critic = _Recorder()
    params = fill_defaults(LOSSES.get("adversarial").params,
                           {"critic": "D", "real": "real", "fake": "fake", "pack": 4})
    ctx = TermContext({"real": real, "fake": fake}, {"D": critic}, {"D"})
    LOSSES.get("adversarial").compute(params, ctx)
    seen_real, seen_fake = critic.seen
    assert tuple(seen_real.shape) == (2, 4 * shape[0], *shape[1:])
    assert tuple(seen_fake.shape) == tuple(seen_real.shape)  # real and fake packed alike
    c = shape[0]
    assert torch.equal(seen_real[0, c:2 * c], real[1]) and torch.equal(seen_real[1, :c], real[4])
    assert torch.equal(seen_fake[1, 3 * c:], fake[7])
    ctx.updates = frozenset({"G"})
    LOSSES.get("adversarial").compute(params, ctx)
    assert tuple(critic.seen[-1].shape) == (2, 4 * shape[0], *shape[1:])


def test_pack_refuses_a_batch_it_cannot_split():
    params = fill_defaults(LOSSES.get("adversarial").params,
                           {"critic": "D", "real": "real", "fake": "fake", "pack": 3})
    ctx = TermContext({"real": torch.randn(8, 2), "fake": torch.randn(8, 2)},
                      {"D": _Recorder()}, {"D"})
    with pytest.raises(ValueError, match="does not split into packs of 3"):
        LOSSES.get("adversarial").compute(params, ctx)


def test_packed_critic_is_built_for_the_packed_shape():
    spec = load_spec("specs/gan_ring8.yaml", [
        "objectives.D.loss[0].adversarial.pack=4", "objectives.G.loss[0].adversarial.pack=4"])
    assert spec.analysis.networks["D"].input_shapes == [(8,)]
    with pytest.raises(SpecError, match="built for"):  # one side packed, the other not
        load_spec("specs/gan_ring8.yaml", ["objectives.D.loss[0].adversarial.pack=4"])


def test_packing_a_label_and_a_relativistic_generator_without_real_are_spec_errors():
    with pytest.raises(SpecError, match="one number per sample"):
        load_spec("specs/cgan.yaml", ["objectives.D.loss[0].adversarial.pack=2",
                                      "objectives.G.loss[0].adversarial.pack=2"])
    with pytest.raises(SpecError, match="generator's term needs 'real'"):
        load_spec("specs/gan_ring8.yaml", ["objectives.G.loss[0].adversarial.relativistic=average",
                                           "objectives.D.loss[0].adversarial.relativistic=average"])
