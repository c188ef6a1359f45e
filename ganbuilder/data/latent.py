"""Sampling the spec's latent inputs: noise vectors and random labels."""

from __future__ import annotations

import torch


def sample_latent(latent: dict, n: int, generator: torch.Generator, device: torch.device,
                  rows_by: str | None = None, nrow: int = 8) -> dict[str, torch.Tensor]:
    """One batch of every latent input. With `rows_by`, that categorical latent runs through
    its labels row by row (row r holds label r), for one-row-per-class sample grids. Values are
    drawn where `generator` lives (the trainer's is on the training device: no copy, no wait)
    and moved to `device` if that is elsewhere."""
    out = {}
    at = generator.device
    for name, cfg in latent.items():
        dist = cfg.get("dist", "normal")
        if dist == "categorical":
            if name == rows_by:
                value = (torch.arange(n, device=at) // nrow) % cfg["classes"]
            else:
                value = torch.randint(cfg["classes"], (n,), generator=generator, device=at)
        elif dist == "uniform":
            value = torch.rand((n, *cfg["shape"]), generator=generator, device=at) * 2 - 1
        else:
            value = torch.randn((n, *cfg["shape"]), generator=generator, device=at)
        out[name] = value.to(device)
    return out
