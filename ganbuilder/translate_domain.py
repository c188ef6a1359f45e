"""`translate --domain`: a multi-domain model (StarGAN's G(image, target domain)) applied to
the user's images with one chosen target domain.

The generator is the network a `forward` tensor applies to a data image and a target domain:
a categorical latent or integer label (one domain per image: `--domain` is its name or index)
or a vector of attributes (CelebA's: `--domain` lists the attributes to switch on, comma
separated). Domain names come from the data section (`digit_domains`' `domains`,
`celeba_attributes`' `attributes`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ganbuilder.data.registry import with_defaults
from ganbuilder.errors import UserError
from ganbuilder.registry import did_you_mean
from ganbuilder.spec import Spec
from ganbuilder.spec.analysis import ImageMap
from ganbuilder.spec.expr import Call


def _names(spec: Spec) -> list[str]:
    data = with_defaults(spec.tree["data"])
    return [str(n) for n in (data.get("domains") or data.get("attributes") or [])]


def _index(domain: str, names: list[str], classes: int) -> int:
    if domain in names:
        return names.index(domain)
    if domain.isdigit() and int(domain) < classes:
        return int(domain)
    known = f"the domains: {', '.join(names)}" if names else f"an index 0-{classes - 1}"
    raise UserError(f"--domain {domain!r} is not one of {known}{did_you_mean(domain, names)}")


@dataclass(frozen=True)
class DomainGenerator:
    """A forward call NET(image, domain): the network, the image's argument position, and the
    domain input's tensor name and per-sample shape (() a class index, (K,) attributes)."""

    tensor: str
    network: str
    image: str
    image_position: int
    domain: str
    shape: tuple


def domain_generator(spec: Spec) -> DomainGenerator | None:
    """The first forward call of a network on a data image and a target domain (a latent or
    data tensor of one index or one vector per sample), or None."""
    a = spec.analysis
    for tensor in a.order:
        expr = a.forward[tensor]
        if not (isinstance(expr, Call) and expr.fn in a.networks and len(expr.args) == 2):
            continue
        kinds = [a.sources.get(arg) if isinstance(arg, str) else None for arg in expr.args]
        shapes = [a.tensor_shapes.get(arg) if isinstance(arg, str) else None
                  for arg in expr.args]
        images = [i for i in (0, 1) if kinds[i] == "data" and shapes[i] and len(shapes[i]) == 3]
        if not images:
            continue
        image, other = images[0], 1 - images[0]
        if kinds[other] in ("latent", "data") and shapes[other] is not None and \
                len(shapes[other]) <= 1:
            return DomainGenerator(tensor, expr.fn, expr.args[image], image, expr.args[other],
                                   tuple(shapes[other]))
    return None


def domain_classes(spec: Spec, found: DomainGenerator) -> int:
    """How many domains the generator's domain input takes."""
    if found.shape:
        return found.shape[0]
    latent = (spec.tree.get("latent") or {}).get(found.domain, {})
    return latent.get("classes") or len(_names(spec))


def domain_map(spec: Spec, domain: str) -> tuple[ImageMap, dict[str, torch.Tensor]]:
    """The image map of the generator that takes an image and a target domain, and the value
    of its domain input for `domain` (translate passes it as the call's other argument)."""
    found = domain_generator(spec)
    if found is None:
        raise UserError(f"model '{spec.name}' has no generator taking an image and a target "
                        "domain (StarGAN's G(real, c)); --domain applies to multi-domain models")
    chosen = ImageMap(found.tensor, found.network, found.image, found.image_position,
                      (found.domain,), ())
    names, classes = _names(spec), domain_classes(spec, found)
    if not found.shape:
        return chosen, {found.domain: torch.tensor(_index(domain, names, classes))}
    if len(names) != classes:
        names = [str(i) for i in range(classes)]
    vector = torch.zeros(classes)
    for wanted in (w.strip() for w in domain.split(",") if w.strip()):
        vector[_index(wanted, names, classes)] = 1.0
    return chosen, {found.domain: vector}
