"""`patch_nce`: CUT's patchwise contrastive loss (Park et al. 2020). A translation keeps what
each patch of its source showed: the generator's encoder features of the translation, at
sampled positions, must pick out the source's features at the same positions among the other
positions of the same image."""

from __future__ import annotations

from ganbuilder._lazy import F, torch
from ganbuilder.layers.registry import format_shape
from ganbuilder.losses.feature_matching import layer_outputs
from ganbuilder.losses.params import TENSOR
from ganbuilder.losses.registry import loss_term


def sample_patches(features, positions):
    """(N, C, H, W) features at the flat spatial `positions`, as (N * P, C) rows."""
    return features.permute(0, 2, 3, 1).flatten(1, 2)[:, positions, :].flatten(0, 1)


def l2_normalise(x):
    """Rows scaled to unit length (CUT's Normalize(2), with its 1e-7). torch's norm has a
    gradient of 0 at a row of zeros, where sqrt(sum x²) has none (a NaN)."""
    return x / (torch.linalg.vector_norm(x, dim=1, keepdim=True) + 1e-7)


def nce_loss(q, k, batch: int, temperature: float):
    """Cross-entropy of each query row against its key (the positive) and the keys at the
    other sampled positions of the same image (the negatives); k is taken detached."""
    k = k.detach()
    dim = q.shape[1]
    positive = (q * k).sum(1, keepdim=True)
    q, k = q.view(batch, -1, dim), k.view(batch, -1, dim)
    n = q.shape[1]
    negative = torch.bmm(q, k.transpose(2, 1))
    same = torch.eye(n, dtype=torch.bool, device=q.device)[None, :, :]
    negative = negative.masked_fill(same, -10.0).view(-1, n)
    logits = torch.cat((positive, negative), dim=1) / temperature
    return F.cross_entropy(logits, torch.zeros(logits.shape[0], dtype=torch.long,
                                                device=q.device))


def _mlp_inputs(p: dict, plans: dict) -> dict:
    """The MLP heads take one feature vector per read layer: that layer's channels."""
    plan = plans.get(p.get("generator"))
    if plan is None or plan.error or any(i not in plan.layer_ids for i in p.get("layers", [])):
        return {}
    return {"mlp": [(plan.layers[plan.layer_ids[i]].out_shape[0],) for i in p["layers"]]}


def _patch_nce_check(p: dict, shapes: dict, latent: dict) -> list[tuple[str, str]]:
    """The source and its translation have one shape: the generator reads both."""
    real, fake = (shapes.get("real") or [None])[0], (shapes.get("fake") or [None])[0]
    if real is not None and fake is not None and real != fake:
        return [("", f"patch_nce: real {p['real']} {format_shape(real)} and fake {p['fake']} "
                 f"{format_shape(fake)} differ in shape; the generator encodes both")]
    return []


@loss_term(
    "patch_nce",
    {
        "generator": {"type": "string", "description": "the generator whose layers encode "
                      "both images (CUT: G)"},
        "layers": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                   "description": "ids of the generator's top-level layers read (CUT: its "
                                  "layers 0, 4, 8, 12, 16)"},
        "mlp": {"type": "string", "description": "the heads network: one input and one of its "
                "`outputs` per read layer, in order (CUT: a 2-layer MLP of 256 units each)"},
        "real": {**TENSOR, "description": "the source images (CUT: real_A; real_B for the "
                 "identity term)"},
        "fake": {**TENSOR, "description": "their translations (fake_B; idt_B)"},
        "patches": {"type": "integer", "minimum": 1, "default": 256,
                    "description": "positions sampled per layer, the same for real and fake "
                                   "and for every image of the batch"},
        "temperature": {"type": "number", "exclusiveMinimum": 0, "default": 0.07,
                        "description": "CUT's nce_T"},
    },
    required=("generator", "layers", "mlp", "real", "fake"),
    tensors=("real", "fake"),
    networks=("generator", "mlp"),
    inputs=("real",),
    layers={"layers": "generator"},
    network_inputs=_mlp_inputs,
    check=_patch_nce_check,
)
def patch_nce(p: dict, ctx):
    """PatchNCE (CUT, Park et al. 2020): for each read layer, `patches` positions are drawn
    at random (one draw per layer, shared by real and fake and by the batch's images); the
    generator's features of `fake` there go through that layer's MLP head and are L2
    normalised (queries), those of `real` likewise (keys, without gradient); each query is
    classified against its own key among the keys of the other drawn positions of its image,
    at `temperature`. The mean over positions, images and layers."""
    generator, mlp = ctx.network(p["generator"]), ctx.network(p["mlp"])
    real, fake = ctx.tensor(p["real"]), ctx.tensor(p["fake"])
    with torch.no_grad():
        keys = layer_outputs(generator, [real], p["layers"])
    queries = layer_outputs(generator, [fake], p["layers"])
    heads = list(mlp.head_ids)  # one per layer read, in order
    picks = []
    for feature in keys:
        count = feature.shape[2] * feature.shape[3]
        order = torch.argsort(ctx.uniform(count, feature.device))
        picks.append(order[:min(p["patches"], count)])
    with torch.no_grad():
        key_patches = [sample_patches(f, i) for f, i in zip(keys, picks, strict=True)]
        key_rows = layer_outputs(mlp, key_patches, heads, stop=False)
    query_patches = [sample_patches(f, i) for f, i in zip(queries, picks, strict=True)]
    query_rows = layer_outputs(mlp, query_patches, heads, stop=False)
    losses = [nce_loss(l2_normalise(q), l2_normalise(k), real.shape[0], p["temperature"])
              for q, k in zip(query_rows, key_rows, strict=True)]
    return sum(losses) / len(losses), {}
