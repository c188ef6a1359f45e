"""The trainer's own random streams, each seeded from training.seed plus its offset (one
definition for the trainer and for `eject --with-training`, which seeds its loop alike); those
that feed the device (latent draws, a penalty's uniforms) are drawn by generators living on
the training device.

Drawn there, a step's noise needs no host-to-device copy (a blocking one from pageable
memory), and the same seed gives the same stream on every run on that device kind; on the
CPU the stream is the one it always was.
"""

from __future__ import annotations

import torch

# Latent draws, image history pools, and the per-sample uniforms of penalties; the offsets
# keep the streams apart from the global one (seeded with training.seed itself).
SEED_OFFSETS = {"latent": 1, "pool": 3, "uniform": 5}
# The streams drawn on the training device; the pools' coin tosses index a Python list and stay
# on the CPU.
ON_DEVICE = frozenset({"latent", "uniform"})


def stream_generator(stream: str, seed: int, device: torch.device) -> torch.Generator:
    """The trainer's generator for `stream` (a key of SEED_OFFSETS), seeded from `seed`."""
    return device_generator(seed + SEED_OFFSETS[stream],
                            device if stream in ON_DEVICE else torch.device("cpu"))


def device_generator(seed: int, device: torch.device) -> torch.Generator:
    """A generator on `device` (its own kind of stream: the CPU's Mersenne twister, CUDA's
    Philox), seeded with `seed`."""
    return torch.Generator(device=device).manual_seed(seed)


def restore_generator(generator: torch.Generator, state: torch.Tensor, saved_on: str,
                      seed: int) -> bool:
    """Put `generator` in a checkpoint's `state`, saved by a generator on a `saved_on` device
    kind. A state from another kind (another layout: a run continued on another device) is
    not taken: the generator is seeded with `seed` instead and the run goes on, no longer bit
    for bit. Whether the state was taken; a damaged state of the right kind raises."""
    if saved_on != generator.device.type:
        generator.manual_seed(seed)
        return False
    generator.set_state(state)
    return True
