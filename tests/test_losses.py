"""Every registered GAN loss and loss term behaves as its paper says."""

import math

import pytest
import torch

from ganbuilder.losses import GAN_LOSSES, LOSSES, TermContext
from ganbuilder.registry import fill_defaults

GOOD_D = (torch.full((8, 1), 5.0), torch.full((8, 1), -5.0))  # confident and right
BAD_D = (torch.full((8, 1), -5.0), torch.full((8, 1), 5.0))  # confident and wrong


@pytest.mark.parametrize("name", GAN_LOSSES.names())
def test_critic_loss_rewards_a_correct_critic(name):
    kind = GAN_LOSSES.get(name)
    assert kind.d_loss(*GOOD_D) < kind.d_loss(*BAD_D)
    assert kind.doc


@pytest.mark.parametrize("name", GAN_LOSSES.names())
def test_generator_loss_rewards_fooling_the_critic(name):
    kind = GAN_LOSSES.get(name)
    fooled, caught = torch.full((8, 1), 5.0), torch.full((8, 1), -5.0)
    if name == "lsgan":
        fooled, caught = torch.ones(8, 1), torch.zeros(8, 1)
    assert kind.g_loss(fooled) < kind.g_loss(caught)
    fake = torch.zeros(8, 1, requires_grad=True)
    kind.g_loss(fake).backward()
    assert fake.grad is not None and torch.isfinite(fake.grad).all()


def _params(kind: str, **given) -> dict:
    return fill_defaults(LOSSES.get(kind).params, given)


CASES = {
    "adversarial": dict(critic="D", real="real", fake="fake"),
    "l1": dict(pred="fake", target="real"),
    "l2": dict(pred="fake", target="real"),
    "cycle": dict(pred="fake", target="real"),
    "identity": dict(pred="fake", target="real"),
    "gradient_penalty": dict(critic="D", real="real", fake="fake"),
    "r1_penalty": dict(critic="D", real="real"),
    "mutual_info": dict(q="D", fake="fake", continuous="u"),
    "began": dict(autoencoder="AE", real="real", fake="fake"),
    "orthogonal_reg": dict(network="D"),
    "classification": dict(classifier="C", input="fake", labels="label"),
    "feature_matching": dict(critic="D", layer="h", real="real", fake="fake"),
    "path_length": dict(fake="styled", w="w"),
    "perceptual": dict(network="D", pred="fake", target="real", layers={"h": 1.0}),
    "kl_divergence": dict(mu="w", logvar="w"),
    "multilabel": dict(classifier="C", input="fake", labels="attributes"),
    "patch_nce": dict(generator="G", layers=["a", "b"], mlp="MLP", real="real", fake="fake",
                      patches=3),
}


class _Heads(torch.nn.Module):
    """Two MLP heads, one per input (PatchNCE's), as compiled networks carry them."""

    head_ids = ("a", "b")
    def __init__(self):
        super().__init__()
        self.layers = torch.nn.ModuleList([torch.nn.Linear(3, 4), torch.nn.Linear(5, 4)])
        self.layer_ids = {"a": 0, "b": 1}

    def forward(self, a, b):
        return self.layers[0](a) + self.layers[1](b).sum()


def test_every_term_has_a_case():
    assert set(CASES) == set(LOSSES.names())


@pytest.mark.parametrize("kind", LOSSES.names())
def test_term_is_finite_and_differentiable(kind):
    torch.manual_seed(0)
    critic = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 1))
    critic.layer_ids = {"h": 0}  # as compiled networks carry their layers' ids
    classifier = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 3))
    fake = torch.randn(4, 3, 2, 2, requires_grad=True)
    w = torch.randn(4, 5, requires_grad=True)  # a style that images are computed from
    tensors = {"real": torch.randn(4, 3, 2, 2), "fake": fake, "u": torch.rand(4, 1) * 2 - 1,
               "label": torch.tensor([0, 2, 1, 2]), "w": w,
               "styled": torch.tanh(w @ torch.randn(5, 12)).view(4, 3, 2, 2)}
    encoder = torch.nn.Sequential(torch.nn.Conv2d(3, 3, 1), torch.nn.ReLU(),
                                  torch.nn.Conv2d(3, 5, 1))
    encoder.layer_ids = {"a": 0, "b": 2}
    tensors["attributes"] = torch.tensor([[0.0, 1, 1], [1, 0, 0], [0, 0, 1], [1, 1, 1]])
    networks = {"D": critic, "AE": torch.nn.Conv2d(3, 3, 1), "C": classifier, "G": encoder,
                "MLP": _Heads()}
    ctx = TermContext(tensors, networks, {"D", "AE", "C", "G", "MLP"})
    loss, metrics = LOSSES.get(kind).compute(_params(kind, **CASES[kind]), ctx)
    assert loss.dim() == 0 and torch.isfinite(loss)
    loss.backward()
    assert any(p.grad is not None for net in networks.values()
               for p in net.parameters()) or fake.grad is not None or w.grad is not None
    for key, value in metrics.items():
        assert math.isfinite(float(value))
        assert not key.startswith("acc/") or 0.0 <= float(value) <= 1.0


def test_adversarial_reports_critic_accuracy():
    critic = torch.nn.Identity()
    tensors = {"real": torch.tensor([[3.0], [-1.0]]), "fake": torch.tensor([[-2.0], [-3.0]])}
    ctx = TermContext(tensors, {"D": critic}, {"D"})
    _, metrics = LOSSES.get("adversarial").compute(_params("adversarial", **CASES["adversarial"]),
                                                   ctx)
    assert metrics == {"acc/D/real": 0.5, "acc/D/fake": 1.0}


def test_l1_value():
    ctx = TermContext({"a": torch.zeros(2, 2), "b": torch.full((2, 2), 3.0)}, {}, set())
    loss, _ = LOSSES.get("l1").compute(_params("l1", pred="a", target="b"), ctx)
    assert loss.item() == pytest.approx(3.0)


def test_gradient_penalty_is_zero_for_unit_gradient_critic():
    critic = torch.nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[0.6, 0.8]]))  # |grad| = 1 everywhere
    ctx = TermContext({"real": torch.randn(5, 2), "fake": torch.randn(5, 2)}, {"D": critic}, {"D"})
    loss, _ = LOSSES.get("gradient_penalty").compute(
        _params("gradient_penalty", **CASES["gradient_penalty"]), ctx)
    assert loss.item() == pytest.approx(0.0, abs=1e-10)


def test_r1_penalty_is_half_the_squared_gradient_norm():
    critic = torch.nn.Linear(2, 1)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 4.0]]))  # |grad| = 5 everywhere
    ctx = TermContext({"real": torch.randn(5, 2)}, {"D": critic}, {"D"})
    loss, _ = LOSSES.get("r1_penalty").compute(_params("r1_penalty", **CASES["r1_penalty"]), ctx)
    assert loss.item() == pytest.approx(12.5)
    loss.backward()
    assert critic.weight.grad.abs().sum() > 0  # the penalty trains the critic


def test_mutual_info_value_and_metrics():
    # Q outputs 3 logits for c, then the means of u's two values.
    out = torch.tensor([[2.0, 0.0, 0.0, 0.5, -0.5],
                        [0.0, 1.0, 0.0, 0.0, 0.0]])
    c, u = torch.tensor([0, 2]), torch.tensor([[0.5, 0.5], [1.0, 0.0]])
    tensors = {"h": out, "c": c, "u": u}
    ctx = TermContext(tensors, {"Q": torch.nn.Identity()}, {"G", "Q"})
    params = _params("mutual_info", q="Q", fake="h", categorical="c", continuous="u",
                     continuous_weight=0.5)
    loss, metrics = LOSSES.get("mutual_info").compute(params, ctx)
    cross_entropy = (-torch.log_softmax(out[:, :3], 1)[[0, 1], [0, 2]]).mean()
    nll = 0.5 * ((0.0 ** 2 + 1.0 ** 2) + (1.0 ** 2 + 0.0 ** 2)) / 2  # summed per sample
    assert loss.item() == pytest.approx(cross_entropy.item() + 0.5 * nll)
    assert metrics["acc/Q/c"] == pytest.approx(0.5) and metrics["mse/Q/u"] == pytest.approx(0.5)
    only_c = _params("mutual_info", q="Q", fake="h3", categorical="c")
    tensors["h3"] = out[:, :3]
    assert LOSSES.get("mutual_info").compute(only_c, ctx)[0].item() == pytest.approx(
        cross_entropy.item())
    ctx.updates = frozenset({"G"})  # reported by the objective that trains Q only
    assert LOSSES.get("mutual_info").compute(params, ctx)[1] == {}
    with pytest.raises(ValueError, match="outputs 5 values"):
        LOSSES.get("mutual_info").compute(_params("mutual_info", q="Q", fake="h",
                                                  continuous="u"), ctx)


def test_mutual_info_trains_q_to_recover_the_codes():
    torch.manual_seed(0)
    c = torch.arange(64) % 4
    u = torch.rand(64, 1) * 2 - 1
    x = torch.cat([torch.nn.functional.one_hot(c, 4).float(), u], 1) + 0.1 * torch.randn(64, 5)
    q = torch.nn.Linear(5, 5)
    ctx = TermContext({"x": x, "c": c, "u": u}, {"Q": q}, {"Q"})
    params = _params("mutual_info", q="Q", fake="x", categorical="c", continuous="u")
    optimizer = torch.optim.Adam(q.parameters(), lr=0.05)
    losses = []
    for _ in range(60):
        loss, metrics = LOSSES.get("mutual_info").compute(params, ctx)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0]
    assert metrics["acc/Q/c"] == 1.0 and metrics["mse/Q/u"] < 0.05


def _began(real: float, fake: float, updates, **given):
    """BEGAN with an autoencoder that outputs zeros, so L(v) = mean |v|."""
    tensors = {"real": torch.full((2, 1, 2, 2), real), "fake": torch.full((2, 1, 2, 2), fake)}
    ctx = TermContext(tensors, {"AE": torch.zeros_like}, updates)
    params = _params("began", autoencoder="AE", real="real", fake="fake", **given)
    return ctx, lambda: LOSSES.get("began").compute(params, ctx)


def test_began_critic_loss_and_k_update():
    ctx, step = _began(0.4, 0.1, {"AE"}, gamma=0.5, lambda_k=0.5, k_init=0.3)
    loss, metrics = step()
    assert loss.item() == pytest.approx(0.4 - 0.3 * 0.1)  # L(x) - k_t L(G(z))
    assert float(metrics["began/k"]) == pytest.approx(0.3)  # k as used in the step
    assert float(metrics["began/M"]) == pytest.approx(0.4 + abs(0.5 * 0.4 - 0.1))
    assert float(ctx.state["k"]) == pytest.approx(0.3 + 0.5 * (0.5 * 0.4 - 0.1))
    loss, metrics = step()  # the next step reads k_{t+1} from the state
    assert loss.item() == pytest.approx(0.4 - 0.35 * 0.1)
    assert float(ctx.state["k"]) == pytest.approx(0.40)


@pytest.mark.parametrize(("real", "fake", "bound"), [(0.9, 0.0, 1.0), (0.0, 0.9, 0.0)])
def test_began_k_stays_in_the_unit_interval(real, fake, bound):
    ctx, step = _began(real, fake, {"AE"}, lambda_k=10.0, k_init=0.5)
    step()
    assert float(ctx.state["k"]) == bound


def test_began_generator_side_is_the_fake_error_and_leaves_k():
    ctx, step = _began(0.4, 0.1, {"G"}, k_init=0.3)
    loss, metrics = step()
    assert loss.item() == pytest.approx(0.1) and metrics == {} and ctx.state == {}


def test_orthogonal_reg_is_zero_for_orthogonal_rows_and_ignores_their_norms():
    ortho = torch.nn.Linear(4, 3, bias=False)
    with torch.no_grad():
        ortho.weight.copy_(torch.eye(4)[:3] * torch.tensor([[1.0], [2.0], [3.0]]))
    ctx = TermContext({}, {"G": ortho}, {"G"})
    loss, _ = LOSSES.get("orthogonal_reg").compute(_params("orthogonal_reg", network="G"), ctx)
    assert loss.item() == 0.0
    with torch.no_grad():
        ortho.weight[1] = ortho.weight[0]  # two rows alike: <w0, w1> = 1
    loss, _ = LOSSES.get("orthogonal_reg").compute(_params("orthogonal_reg", network="G"), ctx)
    assert loss.item() == pytest.approx(1.0)  # 0.5 * (1² + 1²), both off-diagonal entries


def test_orthogonal_reg_of_a_network_without_weights_is_a_zero_tensor():
    ctx = TermContext({}, {"G": torch.nn.Sequential(torch.nn.Tanh())}, {"G"})
    loss, _ = LOSSES.get("orthogonal_reg").compute(_params("orthogonal_reg", network="G"), ctx)
    assert isinstance(loss, torch.Tensor) and loss.item() == 0.0  # the trainer can log it


def test_path_length_is_the_pulled_back_norm_and_keeps_a_running_mean():
    w = torch.randn(6, 4, requires_grad=True)
    a = torch.randn(4, 2 * 3 * 3)
    image = (w @ a).view(6, 2, 3, 3)  # linear in w: J^T y = a y
    state = {"mean": torch.tensor(1.0)}
    ctx = TermContext({"img": image, "w": w}, {}, {"G"}, state=state)
    torch.manual_seed(3)
    loss, metrics = LOSSES.get("path_length").compute(
        _params("path_length", fake="img", w="w", decay=0.5), ctx)
    torch.manual_seed(3)
    y = torch.randn(6, 2, 3, 3) / 3.0  # N(0, 1) / sqrt(pixels)
    lengths = (y.flatten(1) @ a.T).norm(dim=1)
    mean = 1.0 + 0.5 * (lengths.mean() - 1.0)
    assert torch.allclose(state["mean"], mean) and torch.allclose(metrics["path_length/mean"], mean)
    assert torch.allclose(loss, ((lengths - mean) ** 2).mean())


def test_kl_divergence_is_zero_at_the_prior_and_matches_the_closed_form():
    term = LOSSES.get("kl_divergence")
    mu, logvar = torch.zeros(4, 3), torch.zeros(4, 3)
    ctx = TermContext({"mu": mu, "logvar": logvar}, {}, set())
    loss, _ = term.compute(_params("kl_divergence", mu="mu", logvar="logvar"), ctx)
    assert float(loss) == 0.0
    mu, logvar = torch.full((4, 3), 2.0), torch.full((4, 3), math.log(0.25))
    ctx = TermContext({"mu": mu, "logvar": logvar}, {}, set())
    # Per value: KL(N(2, 0.25) || N(0, 1)) = 0.5 * (0.25 + 4 - 1 - log 0.25).
    per_value = 0.5 * (0.25 + 4 - 1 - math.log(0.25))
    summed, _ = term.compute(_params("kl_divergence", mu="mu", logvar="logvar"), ctx)
    mean, _ = term.compute(_params("kl_divergence", mu="mu", logvar="logvar",
                                   reduction="mean"), ctx)
    assert float(summed) == pytest.approx(12 * per_value)
    assert float(mean) == pytest.approx(3 * per_value)
