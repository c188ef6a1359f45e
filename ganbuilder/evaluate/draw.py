"""Drawing what a model generates, in chunks, from a seed: the samples evaluators score."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ganbuilder.spec import Spec

CHUNK = 250  # samples per forward pass


def latent(spec: Spec, n: int, seed: int, device: torch.device) -> dict[str, torch.Tensor]:
    """`n` draws of every latent input, from a generator seeded with `seed`."""
    from ganbuilder.data.latent import sample_latent

    generator = torch.Generator().manual_seed(seed)
    return sample_latent(spec.tree.get("latent") or {}, n, generator, device)


def run(gan, inputs: dict[str, torch.Tensor], names: list[str]) -> list[torch.Tensor]:
    """`generate` in chunks of CHUNK; results on the CPU."""
    from ganbuilder.runs.samples import generate

    n = len(next(iter(inputs.values())))
    parts: list[list[torch.Tensor]] = [[] for _ in names]
    for i in range(0, n, CHUNK):
        chunk = {k: v[i:i + CHUNK] for k, v in inputs.items()}
        for part, value in zip(parts, generate(gan, chunk, names), strict=True):
            part.append(value.float().cpu())
    return [torch.cat(p) for p in parts]


def draw(spec: Spec, gan, name: str, n: int, seed: int,
         fixed: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
    """`n` samples of tensor `name`, with some latent inputs fixed (labels) if given."""
    device = next(gan.parameters()).device
    inputs = latent(spec, n, seed, device)
    inputs.update({k: v.to(device) for k, v in (fixed or {}).items()})
    return run(gan, inputs, [name])[0]


def generated(spec: Spec, shape_ok: Callable[[tuple], bool]) -> str | None:
    """The forward tensor a generator draws from latents alone (sampling tensors first)."""
    a = spec.analysis
    sampled = [t for group in spec.sampling["tensors"]
               for t in ([group] if isinstance(group, str) else group)]
    for name in [*sampled, *a.order]:
        if (name in a.forward and shape_ok(tuple(a.tensor_shapes.get(name) or ()))
                and not a.needs_data([name])):
            return name
    return None
