"""The trainer's own random streams, each seeded from training.seed plus its offset: one
definition for the trainer and for `eject --with-training`, which seeds its loop alike."""

from __future__ import annotations

# Latent draws, image history pools, and the per-sample uniforms of penalties; the offsets
# keep the streams apart from the global one (seeded with training.seed itself).
SEED_OFFSETS = {"latent": 1, "pool": 3, "uniform": 5}

__all__ = ["SEED_OFFSETS"]
