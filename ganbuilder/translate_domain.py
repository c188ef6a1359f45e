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
from ganbuilder.spec.expr import Call


@dataclass(frozen=True)
class DomainCall:
    """How to call the generator: its name, where the image goes, and the domain input."""

    network: str
    image_position: int
    domain: torch.Tensor  # one sample's target domain: an index () or a vector (K,)

    def arguments(self, image: torch.Tensor) -> list[torch.Tensor]:
        """The generator's arguments for a batch of images, in its input order."""
        domain = self.domain.to(image.device).expand(image.shape[0], *self.domain.shape)
        return [image, domain] if self.image_position == 0 else [domain, image]


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


def domain_call(spec: Spec, domain: str) -> DomainCall:
    """The generator that takes an image and a target domain, with `domain`'s input."""
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
        shape, name = shapes[other], expr.args[other]
        if kinds[other] not in ("latent", "data") or shape is None or len(shape) > 1:
            continue
        names = _names(spec)
        if shape == ():
            classes = (spec.tree.get("latent") or {}).get(name, {}).get("classes") or len(names)
            return DomainCall(expr.fn, image, torch.tensor(_index(domain, names, classes)))
        wanted = [w.strip() for w in domain.split(",") if w.strip()]
        if len(names) != shape[0]:
            names = [str(i) for i in range(shape[0])]
        vector = torch.zeros(shape[0])
        for w in wanted:
            vector[_index(w, names, shape[0])] = 1.0
        return DomainCall(expr.fn, image, vector)
    raise UserError(f"model '{spec.name}' has no generator taking an image and a target domain "
                    "(StarGAN's G(real, c)); --domain applies to multi-domain models")
