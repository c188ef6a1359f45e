"""Reference-layout state dicts for the import tests, drawn from a key/shape table by seed.

tests/data/zoo_<layout>.json holds facts measured by running each reference project's own
model code (never kept here): its networks' state-dict keys and shapes in order, the spec
and params they import into, the seed, and the reference's outputs on inputs drawn from the
same seed. `draw_state` is the one definition of how values are drawn, used by the tests and
by the session that ran the reference.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

DATA = Path(__file__).parent / "data"


def table(layout: str) -> dict:
    """The stored facts of one layout."""
    return json.loads((DATA / f"zoo_{layout}.json").read_text())


def draw_state(rows: list, gen: torch.Generator, scale: float) -> dict[str, torch.Tensor]:
    """A state dict with the table's keys and shapes: weights N(0, scale^2), batch-norm
    variances in [0.5, 1.5), step counters 0; drawn in the table's order from `gen`."""
    state = {}
    for key, shape in rows:
        if key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(0)
        elif key.endswith(("running_var", "stored_var")):
            state[key] = torch.rand(shape, generator=gen) + 0.5
        else:
            state[key] = torch.randn(shape, generator=gen) * scale
    return state


def draw_all(facts: dict) -> tuple[dict[str, dict[str, torch.Tensor]], dict[str, torch.Tensor]]:
    """Every reference network's state dict, then the inputs, from the table's seed."""
    gen = torch.Generator().manual_seed(facts["seed"])
    states = {name: draw_state(rows, gen, facts["scale"]) for name, rows in facts["keys"].items()}
    inputs = {name: torch.randn(shape, generator=gen) for name, shape in facts["inputs"].items()}
    return states, inputs
