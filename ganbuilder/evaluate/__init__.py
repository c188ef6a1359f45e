"""Evaluating trained models with networks the project trains itself (nothing is downloaded).

`evaluate_checkpoint(path)` rebuilds a model from its checkpoint, looks at its spec and runs
whichever metrics apply, returning a flat JSON-able dict whose `kind` says which ran:

- `toy2d`: a generator of 2D points on `ring8` / `grid25`: modes covered and % high-quality
  samples (VEEGAN convention, `ganbuilder.evaluate.toy2d`).
- `digits`: an unconditional image generator on `digits`: FD against held-out digits in the
  feature space of the project's own digit classifier (not comparable to Inception FID), digit
  score, class coverage (`ganbuilder.evaluate.images`).
- `conditional_digits`: the same, plus per-class accuracy of samples generated for each label of
  the categorical latent the generator consumes.
- `infogan_digits`: the `digits` metrics for a generator whose categorical latent is an InfoGAN
  code (named by a `mutual_info` term) rather than a label, plus, from samples spread evenly
  over the code's values, code purity, the digit each value draws and how many distinct
  digits the values cover.
- `paired_translation`: L1 and PSNR of G(A) against B on held-out pairs, and `label_kept/AB`
  when the data carries labels.
- `unpaired_translation`: `label_kept/AB` (and `label_kept/BA` when the spec has both
  generators): the share of translations that a classifier trained only on the target domain
  labels as the source image's label.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import torch

from ganbuilder.errors import UserError
from ganbuilder.evaluate.classifier import Classifier, digit_classifier, digit_data
from ganbuilder.evaluate.frechet import frechet_distance
from ganbuilder.evaluate.images import (
    code_purity,
    conditional_accuracy,
    label_kept,
    paired_metrics,
    sample_metrics,
)
from ganbuilder.evaluate.toy2d import MIXTURES, toy2d_metrics
from ganbuilder.spec import Spec
from ganbuilder.spec.expr import Call

CHUNK = 250  # samples per forward pass
MAX_DOMAIN_IMAGES = 5000  # training images read per domain for a target-domain classifier


def evaluate_checkpoint(path: str | Path, n: int = 1000, seed: int = 0,
                        device: str = "cpu", ema: bool = True) -> dict[str, Any]:
    """Metrics for the model in a checkpoint, from `n` samples drawn with `seed` (with the
    weight averages of a run with `training.ema`, unless `ema` is False)."""
    from ganbuilder.data.registry import with_defaults
    from ganbuilder.sampling import load_model

    if n < 2:
        raise UserError(f"evaluate needs at least 2 samples, got n={n}")
    start = time.perf_counter()
    spec, gan, step = load_model(path, device, ema)
    cfg = with_defaults(spec.tree["data"])
    out: dict[str, Any] = {"checkpoint": str(path), "spec": spec.name, "step": step,
                           "source": cfg["source"], "seed": seed,
                           "weights": "ema" if ema and "ema" in spec.training else "live"}
    translation = _translation_tensors(spec)
    points = _generated(spec, lambda shape: shape == (2,))
    image = _generated(spec, lambda shape: shape == tuple(_real_shape(spec) or ()))
    if translation:
        out.update(_evaluate_translation(spec, gan, cfg, translation, n, seed))
    elif points and cfg["source"] in MIXTURES:
        fake = _draw(spec, gan, points, n, seed)
        out.update({"kind": "toy2d", "tensor": points, "n": n})
        out.update(toy2d_metrics(fake, cfg["source"]))
    elif image and cfg["source"] == "digits":
        out.update(_evaluate_digits(spec, gan, cfg, image, n, seed))
    else:
        raise UserError(
            f"no evaluation applies to '{spec.name}' (data source '{cfg['source']}'): evaluate "
            "knows generators on ring8/grid25/digits and translation between real_A and real_B")
    out["seconds"] = round(time.perf_counter() - start, 2)
    return {k: _plain(v) for k, v in out.items()}


def _plain(value: Any) -> Any:
    """JSON-able scalars: NaN and infinities become None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# --- what the spec computes ---------------------------------------------------------------

def _real_shape(spec: Spec) -> tuple | None:
    shape = spec.analysis.tensor_shapes.get("real")
    return tuple(shape) if shape is not None else None


def _reads(spec: Spec, name: str) -> set[str]:
    """Every input tensor (data or latent) that computing `name` reads."""
    a = spec.analysis
    todo, seen, inputs = [name], set(), set()
    while todo:
        t = todo.pop()
        if t in seen:
            continue
        seen.add(t)
        expr = a.forward.get(t)
        if expr is None:
            inputs.add(t)
        else:
            todo += [expr] if isinstance(expr, str) else sorted(expr.names())
    return inputs


def _generated(spec: Spec, shape_ok) -> str | None:
    """The forward tensor a generator draws from latents alone (sampling tensors first)."""
    a = spec.analysis
    sampled = [t for group in spec.sampling["tensors"]
               for t in ([group] if isinstance(group, str) else group)]
    for name in [*sampled, *a.order]:
        if (name in a.forward and shape_ok(tuple(a.tensor_shapes.get(name) or ()))
                and not any(a.sources.get(t) == "data" for t in _reads(spec, name))):
            return name
    return None


def _term_tensors(spec: Spec) -> list[set[str]]:
    """Per loss term, the tensor names it reads; adversarial terms also pull in what their
    critic sees as real elsewhere (so a fake is tied to the real data of its domain)."""
    terms, critic_real = [], {}
    for objective in spec.tree["objectives"].values():
        for term in objective["loss"]:
            (kind, params), = term.items()
            names = set()
            for key, value in params.items():
                if key in ("critic", "name", "weight"):
                    continue
                for v in value if isinstance(value, list) else [value]:
                    if isinstance(v, str):
                        names.add(v)
            terms.append((kind, params, names))
            if kind == "adversarial" and params.get("real") is not None:
                real = params["real"]
                critic_real.setdefault(params["critic"], set()).update(
                    real if isinstance(real, list) else [real])
    out = []
    for kind, params, names in terms:
        if kind == "adversarial":
            names = names | critic_real.get(params.get("critic"), set())
        out.append(names)
    return out


def _translation_tensors(spec: Spec) -> dict[str, str]:
    """{"AB": tensor G_AB(real_A), "BA": tensor G_BA(real_B)} for translation specs.

    A candidate is a network applied straight to real_A (or real_B); it is the translation if a
    loss term ties it to the other domain's data (an L1 target, or a critic that sees that data
    as real), which tells fake_B = G_AB(real_A) from an identity term's idt_A = G_BA(real_A).
    """
    a = spec.analysis
    if a.sources.get("real_A") != "data" or a.sources.get("real_B") != "data":
        return {}
    terms = _term_tensors(spec)
    out = {}
    for src, dst, key in (("real_A", "real_B", "AB"), ("real_B", "real_A", "BA")):
        candidates = [t for t in a.order
                      if isinstance(a.forward.get(t), Call) and a.forward[t].fn in a.networks
                      and a.forward[t].args == (src,)
                      and a.tensor_shapes.get(t) == a.tensor_shapes.get(dst)]
        tied = [t for t in candidates if any(t in names and dst in names for names in terms)]
        named = [t for t in candidates if t == f"fake_{dst[-1]}"]
        pick = (tied or named or [None])[0]
        if pick is not None:
            out[key] = pick
    return out


# --- drawing samples ----------------------------------------------------------------------

def _latent(spec: Spec, n: int, seed: int, device: torch.device) -> dict[str, torch.Tensor]:
    from ganbuilder.data.latent import sample_latent

    generator = torch.Generator().manual_seed(seed)
    return sample_latent(spec.tree.get("latent") or {}, n, generator, device)


def _run(gan, inputs: dict[str, torch.Tensor], names: list[str]) -> list[torch.Tensor]:
    """`generate` in chunks of CHUNK; results on the CPU."""
    from ganbuilder.runs.samples import generate

    n = len(next(iter(inputs.values())))
    parts: list[list[torch.Tensor]] = [[] for _ in names]
    for i in range(0, n, CHUNK):
        chunk = {k: v[i:i + CHUNK] for k, v in inputs.items()}
        for part, value in zip(parts, generate(gan, chunk, names), strict=True):
            part.append(value.float().cpu())
    return [torch.cat(p) for p in parts]


def _draw(spec: Spec, gan, name: str, n: int, seed: int,
          fixed: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
    device = next(gan.parameters()).device
    inputs = _latent(spec, n, seed, device)
    inputs.update({k: v.to(device) for k, v in (fixed or {}).items()})
    return _run(gan, inputs, [name])[0]


# --- digits -------------------------------------------------------------------------------

def _conditional_latent(spec: Spec, tensor: str) -> tuple[str, int] | None:
    """The categorical latent that `tensor` is generated from, if any."""
    from ganbuilder.sampling import label_latent

    try:
        name, classes = label_latent(spec)
    except UserError:
        return None
    return (name, classes) if name in _reads(spec, tensor) else None


def _evaluate_digits(spec: Spec, gan, cfg: dict, tensor: str, n: int, seed: int) -> dict:
    size, channels = cfg["image_size"], cfg["channels"]
    expected = sorted(cfg["classes"])
    clf = digit_classifier(size, channels)
    real = digit_data(size, channels)
    keep_test = torch.isin(real.test_labels, torch.tensor(expected))
    keep_train = torch.isin(real.train_labels, torch.tensor(expected))
    test_images = real.test_images[keep_test]
    out: dict[str, Any] = {"kind": "digits", "tensor": tensor, "n": n,
                           "classifier_accuracy": clf.accuracy,
                           "real_test_images": len(test_images),
                           # Whether the GAN never saw the test digits (it trained on `train`).
                           "held_out": cfg.get("split", "all") == "train"}
    conditional = _conditional_latent(spec, tensor)
    fixed = None
    if conditional is not None:
        name, classes = conditional
        requested = torch.arange(n) % classes  # balanced over the labels
        fixed = {name: requested}
    fake = _draw(spec, gan, tensor, n, seed, fixed)
    out.update(sample_metrics(fake, clf, test_images, expected))
    out["fd_real"] = frechet_distance(clf.features(real.train_images[keep_train]),
                                      clf.features(test_images))
    if conditional is not None and conditional[0] in _categorical_codes(spec):
        out["kind"] = "infogan_digits"
        out["code"] = conditional[0]
        out.update(code_purity(fake, requested, clf))
    elif conditional is not None:
        out["kind"] = "conditional_digits"
        out["label"] = conditional[0]
        digit_of = [expected[i] if i < len(expected) else -1 for i in range(conditional[1])]
        out.update(conditional_accuracy(fake, requested, clf, digit_of))
    return out


def _categorical_codes(spec: Spec) -> set[str]:
    from ganbuilder.sampling import latent_codes

    return {code.name for code in latent_codes(spec) if code.categorical}


# --- translation --------------------------------------------------------------------------

def _open(cfg: dict, split: str | None, base_dir: Path):
    from ganbuilder.data import open_source
    from ganbuilder.data.registry import source_def

    cfg = dict(cfg)
    if split is not None and "split" in source_def(cfg).schema:
        cfg["split"] = split
    return open_source(cfg, base_dir)


def _domain(source, side: str, limit: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Every image of one side (`A` or `B`) of a translation source, without augmentation,
    and its labels (None without labels)."""
    from ganbuilder.data.twodomain import TwoDomainSource

    if isinstance(source, TwoDomainSource):
        size = min(source.size_A if side == "A" else source.size_B, limit)
        own = torch.arange(size)
        other_size = source.size_B if side == "A" else source.size_A
        pair = (own, own % other_size) if side == "A" else (own % other_size, own)
        batch = source.domain_batch(*pair, None)
    else:
        batch = source.batch(torch.arange(min(len(source), limit)), None)
    labels = batch.get(f"label_{side}", batch.get("label"))
    return batch[f"real_{side}"].float(), labels


def _domain_classifier(spec: Spec, cfg: dict, side: str) -> Classifier | None:
    """A classifier trained only on one domain's training images, held out on its test split."""
    train_images, train_labels = _domain(_open(cfg, "train", spec.base_dir), side,
                                         MAX_DOMAIN_IMAGES)
    if train_labels is None:
        return None
    test_images = test_labels = None
    if "split" in _schema(cfg):
        test_images, test_labels = _domain(_open(cfg, "test", spec.base_dir), side,
                                           MAX_DOMAIN_IMAGES)
    name = f"{cfg['source']}-{cfg.get('direction', 'AtoB')}-{side}"
    size, channels = train_images.shape[-1], train_images.shape[1]
    return digit_classifier(size, channels, name, train_images, train_labels,
                            test_images, test_labels)


def _schema(cfg: dict) -> dict:
    from ganbuilder.data.registry import source_def

    return source_def(cfg).schema


def _evaluate_translation(spec: Spec, gan, cfg: dict, tensors: dict[str, str], n: int,
                          seed: int) -> dict:
    from ganbuilder.data.twodomain import TwoDomainSource

    held_out = "split" in _schema(cfg)
    source = _open(cfg, "test", spec.base_dir)
    unpaired = isinstance(source, TwoDomainSource)
    count = min(n, len(source))
    batch = source.batch(torch.arange(count), None)
    device = next(gan.parameters()).device
    inputs = _latent(spec, count, seed, device)
    inputs.update({k: v.to(device) for k, v in batch.items()})
    names = list(tensors.values())
    values = dict(zip(tensors, _run(gan, inputs, names), strict=True))
    out: dict[str, Any] = {"kind": "unpaired_translation" if unpaired else "paired_translation",
                           "n": count, "held_out": held_out,
                           **{f"tensor/{k}": v for k, v in tensors.items()}}
    if not unpaired and "AB" in values:
        out.update(paired_metrics(values["AB"], batch["real_B"]))
    for direction, fake in values.items():
        src, dst = direction
        labels = batch.get(f"label_{src}", batch.get("label"))
        if labels is None:
            continue
        clf = _domain_classifier(spec, cfg, dst)
        if clf is None:
            continue
        out[f"label_kept/{direction}"] = label_kept(fake, labels, clf)
        out[f"classifier_accuracy/{dst}"] = clf.accuracy
    if not any(k.startswith(("l1", "label_kept")) for k in out):
        raise UserError(f"no metric applies to '{spec.name}': unpaired translation needs labelled "
                        "data (label_A / label_B) for 'label kept'")
    return out


__all__ = ["evaluate_checkpoint"]
