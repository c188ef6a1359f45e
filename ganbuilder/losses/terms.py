"""Loss terms. Each names the forward tensors it reads; `weight` scales it in the objective."""

from __future__ import annotations

from ganbuilder._lazy import F, torch
from ganbuilder.losses.registry import loss_term

_TENSOR = {"type": "string", "description": "name of a forward or data tensor"}
_TENSORS = {
    "description": "tensor name, or a list of names for a critic with several inputs",
    "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}],
}
_CRITIC = {"type": "string", "description": "the discriminator (critic) network"}


def _as_list(names) -> list[str]:
    return [names] if isinstance(names, str) else list(names)


def _critic_inputs(ctx, names) -> list:
    return [ctx.tensor(n) for n in _as_list(names)]


@loss_term(
    "adversarial",
    {
        "critic": _CRITIC,
        "real": _TENSORS,
        "fake": _TENSORS,
        "history": {"type": "integer", "minimum": 0, "default": 0,
                    "description": "image pool size for the critic's fakes (CycleGAN: 50)"},
    },
    required=("critic", "fake"),
    tensors=("real", "fake"),
    networks=("critic",),
)
def adversarial(p: dict, ctx):
    """The GAN game under `gan_loss`. When the objective updates the critic this is the critic's
    loss on `real` and `fake` (and D accuracy on each); otherwise it is the generator's loss."""
    critic = ctx.network(p["critic"])
    fake = _critic_inputs(ctx, p["fake"])
    if p["critic"] not in ctx.updates:
        return ctx.gan.g_loss(critic(*fake)), {}
    if p["history"]:
        fake[0] = ctx.history(p["critic"], p["history"]).query(fake[0])
    real_out = critic(*_critic_inputs(ctx, p["real"]))
    fake_out = critic(*fake)
    with torch.no_grad():
        metrics = {
            f"acc/{p['critic']}/real": (real_out > ctx.gan.threshold).float().mean(),
            f"acc/{p['critic']}/fake": (fake_out <= ctx.gan.threshold).float().mean(),
        }
    return ctx.gan.d_loss(real_out, fake_out), metrics


def _distance(kind: str, doc: str):
    def compute(p: dict, ctx):
        pred, target = ctx.tensor(p["pred"]), ctx.tensor(p["target"])
        if kind == "l2":
            return F.mse_loss(pred, target), {}
        return F.l1_loss(pred, target), {}

    compute.__doc__ = doc
    return compute


for _kind, _doc in {
    "l1": "Mean absolute error between `pred` and `target` (pix2pix, weight 100).",
    "l2": "Mean squared error between `pred` and `target`.",
    "cycle": "Cycle-consistency: L1 between a reconstruction and its original (CycleGAN).",
    "identity": "Identity: L1 between G_AB(real_B) and real_B (CycleGAN, 0.5 x cycle weight).",
}.items():
    loss_term(
        _kind,
        {"pred": _TENSOR, "target": _TENSOR},
        required=("pred", "target"),
        tensors=("pred", "target"),
    )(_distance("l2" if _kind == "l2" else "l1", _doc))


@loss_term(
    "gradient_penalty",
    {"critic": _CRITIC, "real": _TENSOR, "fake": _TENSOR,
     "target": {"type": "number", "default": 1.0, "description": "target gradient norm"}},
    required=("critic", "real", "fake"),
    tensors=("real", "fake"),
    networks=("critic",),
)
def gradient_penalty(p: dict, ctx):
    """WGAN-GP (Gulrajani et al. 2017): (||grad D(x_hat)|| - 1)^2 on real/fake interpolates."""
    real, fake = ctx.tensor(p["real"]), ctx.tensor(p["fake"]).detach()
    alpha = torch.rand((real.shape[0],) + (1,) * (real.dim() - 1), device=real.device)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    out = ctx.network(p["critic"])(mixed)
    (grad,) = torch.autograd.grad(out.sum(), mixed, create_graph=True)
    norms = grad.flatten(1).norm(dim=1)
    return ((norms - p["target"]) ** 2).mean(), {}
