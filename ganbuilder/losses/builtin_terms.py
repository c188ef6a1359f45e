"""The built-in loss terms besides classification and feature matching (their own modules).

Each names the forward tensors it reads; `weight` scales it in the objective."""

from __future__ import annotations

import math

from ganbuilder._lazy import F, torch
from ganbuilder.layers.registry import format_shape
from ganbuilder.losses.critic_inputs import (
    pack,
    packed_shapes,
    relativistic_loss,
    relativistic_scores,
)
from ganbuilder.losses.params import CRITIC, TENSOR, TENSORS, as_list
from ganbuilder.losses.registry import loss_term


def _critic_inputs(ctx, names) -> list:
    return [ctx.tensor(n) for n in as_list(names)]


_RELATIVISTIC = ("none", "standard", "average")


def _adversarial_check(p: dict, shapes: dict, latent: dict) -> list[tuple[str, str]]:
    """Packing needs a dimension to join samples along; relativistic losses need real scores
    on the generator's side too."""
    problems = []
    if p.get("pack", 1) > 1:
        for key in ("real", "fake"):
            for name, shape in zip(as_list(p.get(key) or []), shapes.get(key, []), strict=False):
                if shape == ():
                    problems.append((key, f"pack: {p['pack']} joins samples along their first "
                                     f"dimension; '{name}' holds one number per sample"))
    if p.get("relativistic", "none") != "none" and "real" not in p:
        problems.append(("", "a relativistic loss judges real against fake on both sides: the "
                         "generator's term needs 'real' too"))
    return problems


@loss_term(
    "adversarial",
    {
        "critic": CRITIC,
        "real": TENSORS,
        "fake": TENSORS,
        "history": {"type": "integer", "minimum": 0, "default": 0,
                    "description": "image pool size for the critic's fakes (CycleGAN: 50)"},
        "pack": {"type": "integer", "minimum": 1, "default": 1,
                 "description": "PacGAN (Lin et al. 2018): the critic judges packs of this many "
                                "samples, joined along channels (images) or features; real and "
                                "fake are packed alike, and the batch must divide"},
        "relativistic": {"enum": list(_RELATIVISTIC), "default": "none",
                         "description": "Jolicoeur-Martineau 2018: 'standard' (RSGAN) scores "
                                        "C(real) - C(fake) per pair, 'average' (RaGAN) each "
                                        "side against the other's mean; with gan_loss bce, "
                                        "lsgan (RaLSGAN) or hinge; the generator's term needs "
                                        "'real' too"},
    },
    required=("critic", "fake"),
    tensors=("real", "fake"),
    networks=("critic",),
    critic="critic",
    check=_adversarial_check,
    network_shapes=packed_shapes,
    reads=lambda p, updates: ("fake", "real") if p["critic"] in updates
    or p["relativistic"] != "none" else ("fake",),
)
def adversarial(p: dict, ctx):
    """The GAN game under `gan_loss`. When the objective updates the critic this is the critic's
    loss on `real` and `fake` (and D accuracy on each); otherwise it is the generator's loss.
    `pack` joins m samples per critic input (PacGAN); `relativistic` scores real against fake
    (RSGAN, RaGAN, RaLSGAN), on both sides of the game."""
    critic = ctx.network(p["critic"])
    fake = _critic_inputs(ctx, p["fake"])
    form = p["relativistic"]
    f1 = ctx.gan.relativistic
    if form != "none" and f1 is None:
        raise ValueError(f"gan_loss {ctx.gan.name} has no relativistic form; use bce, lsgan or "
                         "hinge with relativistic")
    if p["critic"] not in ctx.updates:
        fake_out = critic(*pack(fake, p["pack"]))
        if form == "none":
            return ctx.gan.g_loss(fake_out), {}
        real_out = critic(*pack(_critic_inputs(ctx, p["real"]), p["pack"]))
        return relativistic_loss(f1, fake_out, real_out, form), {}
    if p["history"]:
        fake[0] = ctx.history(p["critic"], p["history"]).query(fake[0])
    real_out = critic(*pack(_critic_inputs(ctx, p["real"]), p["pack"]))
    fake_out = critic(*pack(fake, p["pack"]))
    with torch.no_grad():
        if form == "none":
            real_score, fake_score, threshold = real_out, fake_out, ctx.gan.threshold
        else:  # a relativistic critic is right when real scores above fake: 0 on its scale
            real_score, fake_score = relativistic_scores(real_out, fake_out, form)
            threshold = 0.0
        metrics = {
            f"acc/{p['critic']}/real": (real_score > threshold).float().mean(),
            f"acc/{p['critic']}/fake": (fake_score <= threshold).float().mean(),
        }
    if form != "none":
        return relativistic_loss(f1, real_out, fake_out, form), metrics
    return ctx.gan.d_loss(real_out, fake_out), metrics


_DISTANCE = {"params": {"pred": TENSOR, "target": TENSOR}, "required": ("pred", "target"),
             "tensors": ("pred", "target")}


@loss_term("l1", **_DISTANCE)
def l1(p: dict, ctx):
    """Mean absolute error between `pred` and `target` (pix2pix, weight 100)."""
    return F.l1_loss(ctx.tensor(p["pred"]), ctx.tensor(p["target"])), {}


@loss_term("l2", **_DISTANCE)
def l2(p: dict, ctx):
    """Mean squared error between `pred` and `target`."""
    return F.mse_loss(ctx.tensor(p["pred"]), ctx.tensor(p["target"])), {}


@loss_term("cycle", **_DISTANCE)
def cycle(p: dict, ctx):
    """Cycle-consistency: L1 between a reconstruction and its original (CycleGAN)."""
    return l1(p, ctx)


@loss_term("identity", **_DISTANCE)
def identity(p: dict, ctx):
    """Identity: L1 between G_AB(real_B) and real_B (CycleGAN, 0.5 x cycle weight)."""
    return l1(p, ctx)


@loss_term(
    "gradient_penalty",
    {"critic": CRITIC, "real": TENSOR, "fake": TENSOR,
     "target": {"type": "number", "default": 1.0, "description": "target gradient norm"}},
    required=("critic", "real", "fake"),
    tensors=("real", "fake"),
    networks=("critic",),
    penalised=("real", "fake"),
)
def gradient_penalty(p: dict, ctx):
    """WGAN-GP (Gulrajani et al. 2017): (||grad D(x_hat)|| - 1)^2 on real/fake interpolates,
    the gradient of what a call of D returns (the first of its `outputs`) with respect to the
    image it reads, whatever other heads D has (StarGAN)."""
    real = ctx.tensor(p["real"])
    alpha = ctx.uniform(real.shape[0], real.device)
    return interpolate_penalty(ctx.network(p["critic"]), real, ctx.tensor(p["fake"]), alpha,
                               p["target"], ctx.grad_scale), {}


def interpolate_penalty(critic, real, fake, alpha, target: float = 1.0,
                        scale: float | torch.Tensor = 1.0):
    """Mean (||grad critic(x_hat)|| - target)^2 at x_hat = alpha real + (1 - alpha) fake, with
    one alpha per sample; fake is taken detached."""
    alpha = alpha.view((-1,) + (1,) * (real.dim() - 1))
    grad = _input_gradient(critic, alpha * real + (1 - alpha) * fake.detach(), scale)
    return ((grad.norm(dim=1) - target) ** 2).mean()


@loss_term(
    "r1_penalty",
    {"critic": CRITIC, "real": TENSOR},
    required=("critic", "real"),
    tensors=("real",),
    networks=("critic",),
    penalised=("real",),
)
def r1_penalty(p: dict, ctx):
    """R1 (Mescheder et al. 2018; StyleGAN): 0.5 * E ||grad D(x)||^2 on real samples, so
    `weight` is the paper's gamma (StyleGAN: 10). Add it to the critic's objective."""
    return r1(ctx.network(p["critic"]), ctx.tensor(p["real"]), ctx.grad_scale), {}


def r1(critic, real, scale: float | torch.Tensor = 1.0):
    """0.5 E ||grad critic(real)||^2, real taken detached."""
    grad = _input_gradient(critic, real.detach(), scale)
    return 0.5 * grad.pow(2).sum(1).mean()


def _input_gradient(critic, x, scale: float | torch.Tensor = 1.0):
    """d critic(x) / dx per sample, flattened, kept differentiable for the penalty's backward.
    Under fp16 the output is scaled by the loss scale (a device tensor, never read back) before
    autograd.grad (so small gradients do not underflow) and the gradient divided by it after
    (torch's AMP recipe)."""
    x = x.requires_grad_(True)
    out = critic(x).float().sum()  # an fp16 sum of scaled outputs would overflow
    scaled = isinstance(scale, torch.Tensor) or scale != 1.0
    (grad,) = torch.autograd.grad(out * scale if scaled else out, x, create_graph=True)
    return (grad.float() / scale if scaled else grad).flatten(1)


def _mutual_info_check(p: dict, shapes: dict, latent: dict) -> list[tuple[str, str]]:
    """Q's output must hold the categorical code's logits, then one mean per continuous value."""
    categorical, continuous = p.get("categorical"), as_list(p.get("continuous") or [])
    if categorical is None and not continuous:
        return [("", "mutual_info needs a 'categorical' code, 'continuous' codes or both")]
    problems = []
    classes = dims = 0
    if "categorical" in shapes:
        cfg = latent.get(categorical) or {}
        if cfg.get("dist") != "categorical":
            problems.append(("categorical", f"'{categorical}' is not a categorical latent (Q's "
                             "logits are read against its classes)"))
        classes = cfg.get("classes", 0)
    for name, shape in zip(continuous, shapes.get("continuous", []), strict=False):
        if shape == ():
            problems.append(("continuous", f"'{name}' holds one label per sample; a categorical "
                             "code goes under 'categorical'"))
        dims += math.prod(shape)
    given = [key for key in ("q", "categorical", "continuous") if p.get(key) is not None]
    if problems or any(key not in shapes for key in given):
        return problems  # unknown tensors and networks are reported where they are named
    if shapes["q"][0] != (classes + dims,):
        parts = ([f"{classes} logits for {categorical}"] if categorical else []) + (
            [f"{dims} means for {', '.join(continuous)}"] if continuous else [])
        problems.append(("q", f"{p['q']} outputs {format_shape(shapes['q'][0])} but mutual_info "
                         f"reads {classes + dims} values from it: {' and '.join(parts)}"))
    return problems


@loss_term(
    "mutual_info",
    {
        "q": {"type": "string", "description": "the network that recovers the codes (InfoGAN's "
              "Q); it outputs the categorical code's logits, then the continuous codes' means"},
        "fake": {**TENSORS, "description": "Q's input: generated samples, or the features a "
                 "shared body computes from them"},
        "categorical": {"type": "string", "description": "a categorical latent code"},
        "continuous": {**TENSORS, "description": "continuous latent code(s)"},
        "continuous_weight": {"type": "number", "default": 1.0, "minimum": 0,
                              "description": "scales the continuous codes' part"},
    },
    required=("q", "fake"),
    tensors=("fake", "categorical", "continuous"),
    networks=("q",),
    check=_mutual_info_check,
)
def mutual_info(p: dict, ctx):
    """InfoGAN's variational bound on I(c; G(z, c)) (Chen et al. 2016), as a loss to minimise:
    the cross-entropy of Q's logits against the categorical code, plus `continuous_weight` times
    the Gaussian negative log-likelihood of the continuous codes under Q's means with unit
    variance (half the squared error, summed over code values, without the constant), as in
    the reference implementation. Where the objective trains Q, records `acc/<Q>/<code>` (how
    often Q's top logit is the categorical code) and `mse/<Q>/<code>` per continuous code."""
    out = ctx.network(p["q"])(*_critic_inputs(ctx, p["fake"])).flatten(1)
    continuous = {n: ctx.tensor(n).flatten(1) for n in as_list(p.get("continuous") or [])}
    logits = out.shape[1] - sum(c.shape[1] for c in continuous.values())
    if logits < 0 or (logits == 0) != (p.get("categorical") is None):
        raise ValueError(f"{p['q']} outputs {out.shape[1]} values; mutual_info reads the "
                         "categorical code's logits, then one mean per continuous value")
    code = ctx.tensor(p["categorical"]) if logits else None
    errors = code_errors(out, list(continuous.values()))
    loss = info_loss(out, code, errors, p["continuous_weight"])
    metrics: dict = {}
    if p["q"] in ctx.updates:  # reported where Q is trained, as `adversarial` reports its critic
        with torch.no_grad():
            if code is not None:
                accuracy = (out[:, :logits].argmax(1) == code).float().mean()
                metrics[f"acc/{p['q']}/{p['categorical']}"] = accuracy
            for name, squared in zip(continuous, errors, strict=True):
                metrics[f"mse/{p['q']}/{name}"] = squared.mean()
    return loss, metrics


def code_errors(out, continuous: list) -> list:
    """The squared error of Q's means against each continuous code (n, d); Q's output `out`
    holds the categorical code's logits, then one mean per continuous value."""
    start = out.shape[1] - sum(c.shape[1] for c in continuous)
    errors = []
    for value in continuous:
        errors.append((out[:, start:start + value.shape[1]] - value) ** 2)
        start += value.shape[1]
    return errors


def info_loss(out, code, errors: list, weight: float = 1.0):
    """InfoGAN's loss from Q's output `out`: cross-entropy of its logits against `code` (None:
    no categorical code) plus `weight` times half of each continuous code's squared `errors`
    (code_errors), summed over its values."""
    loss = out.new_zeros(())
    if code is not None:
        logits = out.shape[1] - sum(e.shape[1] for e in errors)
        loss = loss + F.cross_entropy(out[:, :logits], code)
    for squared in errors:
        loss = loss + weight * 0.5 * squared.sum(1).mean()
    return loss


def _began_check(p: dict, shapes: dict, latent: dict) -> list[tuple[str, str]]:
    """The autoencoder must give back an image of its input's shape to be scored by its error."""
    if "autoencoder" in shapes and "fake" in shapes:
        out, given = shapes["autoencoder"][0], shapes["fake"][0]
        if out != given:
            return [("autoencoder", f"{p['autoencoder']} outputs {format_shape(out)} but BEGAN "
                     f"compares it with its input {format_shape(given)}: it must reconstruct it")]
    return []


@loss_term(
    "began",
    {
        "autoencoder": {"type": "string", "description": "the discriminator: an autoencoder "
                        "whose reconstruction error scores its input"},
        "real": TENSOR,
        "fake": TENSOR,
        "gamma": {"type": "number", "exclusiveMinimum": 0, "maximum": 1, "default": 0.5,
                  "description": "diversity ratio: the balance L(G(z)) = gamma L(x) that k "
                                 "steers towards (lower: sharper, less varied)"},
        "lambda_k": {"type": "number", "minimum": 0, "default": 0.001,
                     "description": "the learning rate of k"},
        "k_init": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.0,
                   "description": "k's value before the first step"},
    },
    required=("autoencoder", "fake"),
    tensors=("real", "fake"),
    networks=("autoencoder",),
    check=_began_check,
    critic="autoencoder",
    reads=lambda p, updates: ("fake", "real") if p["autoencoder"] in updates else ("fake",),
)
def began(p: dict, ctx):
    """BEGAN (Berthelot et al. 2017). L(v) is the autoencoder's mean absolute reconstruction
    error of v. Where the objective trains the autoencoder the loss is L(real) - k L(fake),
    after which k = clip(k + lambda_k (gamma L(real) - L(fake)), 0, 1): k is the term's
    persistent state, saved in checkpoints. Elsewhere (the generator's side) it is L(fake).
    The critic's side records `began/k` (k as used in the step) and the convergence measure
    `began/M` = L(real) + |gamma L(real) - L(fake)|."""
    autoencoder = ctx.network(p["autoencoder"])
    fake = ctx.tensor(p["fake"])
    fake_error = reconstruction_error(autoencoder, fake)
    if p["autoencoder"] not in ctx.updates:
        return fake_error, {}
    real = ctx.tensor(p["real"])
    real_error = reconstruction_error(autoencoder, real)
    k = ctx.state.setdefault("k", torch.tensor(float(p["k_init"]), device=real.device))
    with torch.no_grad():
        ctx.state["k"] = began_k(k, real_error, fake_error, p["gamma"], p["lambda_k"])
        balance = p["gamma"] * real_error - fake_error
        metrics = {"began/k": k, "began/M": real_error + balance.abs()}
    return real_error - k * fake_error, metrics


def reconstruction_error(autoencoder, x):
    """BEGAN's L(x): the mean absolute error of the autoencoder's reconstruction of x."""
    return (autoencoder(x) - x).abs().mean()


def began_k(k, real_error, fake_error, gamma: float, lambda_k: float):
    """k after one step: clip(k + lambda_k (gamma L(real) - L(fake)), 0, 1)."""
    return (k + lambda_k * (gamma * real_error - fake_error)).clamp(0.0, 1.0)


def _raw_weights(net) -> list:
    """The stored weights of a network's convolutions and linear layers (before any spectral
    norm), each as one row per output unit."""
    layers = (torch.nn.modules.conv._ConvNd, torch.nn.Linear)
    return [(m.parametrizations.weight.original if hasattr(m, "parametrizations") else m.weight
             ).flatten(1) for m in net.modules() if isinstance(m, layers)]


@loss_term(
    "orthogonal_reg",
    {"network": {"type": "string", "description": "the network whose weights are regularised"}},
    required=("network",),
    networks=("network",),
)
def orthogonal_reg(p: dict, ctx):
    """BigGAN's orthogonal regularisation (Brock et al. 2019): 0.5 ||W Wᵀ ⊙ (1 - I)||²_F summed
    over the network's conv and linear weights W (one row per output): filters are pushed apart
    without constraining their norms. The gradient is the paper code's, so `weight` is its
    beta (1e-4 on G)."""
    return orthogonal_penalty(ctx.network(p["network"])), {}


def orthogonal_penalty(net):
    """0.5 ||W Wᵀ ⊙ (1 - I)||²_F summed over the network's conv and linear weights."""
    device = next(net.parameters(), torch.zeros(())).device
    total = torch.zeros((), device=device)  # a network without conv or linear layers adds 0
    for w in _raw_weights(net):
        gram = w @ w.t()
        total = total + 0.5 * (gram - torch.diag(torch.diagonal(gram))).pow(2).sum()
    return total
