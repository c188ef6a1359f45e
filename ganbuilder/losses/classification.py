"""`classification`: a network's logits against integer labels (ACGAN's auxiliary classifier)."""

from __future__ import annotations

from ganbuilder._lazy import F, torch
from ganbuilder.layers.registry import format_shape
from ganbuilder.losses.heads import HEAD, call_head
from ganbuilder.losses.params import TENSOR, TENSORS, as_list
from ganbuilder.losses.registry import loss_term


def _classification_check(p: dict, shapes: dict, latent: dict) -> list[tuple[str, str]]:
    """The labels hold one integer per sample and the classifier one logit per class (as many
    as a categorical latent's classes, when the labels are one)."""
    problems = []
    label_shape = (shapes.get("labels") or [None])[0]
    if label_shape is not None and label_shape != ():
        problems.append(("labels", f"'{p['labels']}' is {format_shape(label_shape)} per sample; "
                         "classification reads one integer label per sample"))
    if "classifier" not in shapes:
        return problems
    out = shapes["classifier"][0]
    if len(out) != 1 or out[0] < 2:
        problems.append(("classifier", f"{p['classifier']} outputs {format_shape(out)}; "
                         "classification reads a vector of at least 2 class logits"))
        return problems
    cfg = latent.get(p.get("labels")) or {}
    if cfg.get("dist") == "categorical" and cfg.get("classes") != out[0]:
        problems.append(("classifier", f"{p['classifier']} outputs {out[0]} logits but "
                         f"'{p['labels']}' has {cfg.get('classes')} classes"))
    return problems


@loss_term(
    "classification",
    {
        "classifier": {"type": "string", "description": "the network that outputs class "
                       "logits (ACGAN's auxiliary classifier, often a head on D's body)"},
        "input": {**TENSORS, "description": "what the classifier reads: real or generated "
                  "samples, or a shared body's features of them"},
        "labels": {**TENSOR, "description": "the integer labels to predict: the data's "
                   "`label` for real samples, the categorical latent G drew for fakes"},
        "head": HEAD,
    },
    required=("classifier", "input", "labels"),
    tensors=("input", "labels"),
    networks=("classifier",),
    heads={"head": "classifier"},
    inputs=("input",),
    check=_classification_check,
)
def classification(p: dict, ctx):
    """Cross-entropy of the classifier's logits on `input` against `labels` (ACGAN, Odena et
    al. 2017: the critic's objective has it on real and on fake samples, the generator's on
    fakes, so G draws samples the classifier recognises as their label). Where the objective
    trains the classifier it records `acc/<classifier>/<labels>`, its top-1 accuracy."""
    logits = call_head(ctx.network(p["classifier"]), p.get("head"),
                       [ctx.tensor(n) for n in as_list(p["input"])])
    labels = ctx.tensor(p["labels"])
    logits = logits.flatten(1)
    metrics = {}
    if p["classifier"] in ctx.updates:
        with torch.no_grad():
            accuracy = (logits.argmax(1) == labels).float().mean()
        metrics[f"acc/{p['classifier']}/{p['labels']}"] = accuracy
    return F.cross_entropy(logits, labels), metrics
