"""What each picture of the latent explorer shows, in words: a title and a label per column
(and per row for a traversal), so a grid of faces or digits is not left to be guessed."""

from __future__ import annotations

from collections.abc import Sequence

# The range an InfoGAN continuous code is traversed over (ganbuilder.latent_ops.code_traversal).
TRAVERSAL_RANGE = (-2.0, 2.0)


def interpolation_labels(seed_a: int, seed_b: int, frames: int, mode: str
                         ) -> tuple[str, list[str]]:
    """Title and column labels of an interpolation from sample A to sample B."""
    columns = [f"A (seed {seed_a})"] + [f"{i / (frames - 1):.2f}" for i in range(1, frames - 1)]
    return (f"Interpolation ({mode}) from sample A (seed {seed_a}) to B (seed {seed_b}), "
            f"{frames} frames", [*columns, f"B (seed {seed_b})"])


def sweep_labels(seed: int, label: str, classes: int,
                 names: Sequence[str] | None = None) -> tuple[str, list[str]]:
    """Title and column labels of a class sweep: one column per class."""
    columns = [f"{label}={i}" + (f" {names[i]}" if names and i < len(names) else "")
               for i in range(classes)]
    return f"Class sweep: sample A (seed {seed}) with each value of '{label}'", columns


def arithmetic_labels(a: Sequence[int], b: Sequence[int], c: Sequence[int]
                      ) -> tuple[str, list[str]]:
    """Title and column labels of vector arithmetic."""
    def seeds(group: Sequence[int]) -> str:
        return " ".join(str(s) for s in group)

    return (f"Vector arithmetic: A = seeds {seeds(a)}, B = {seeds(b)}, C = {seeds(c)}",
            ["mean A", "mean B", "mean C", "A − B + C"])


def traversal_labels(seed: int, rows: int, code: str, steps: int, classes: int | None
                     ) -> tuple[str, list[str], list[str]]:
    """Title, column labels (the code's value) and row labels (the sample) of a traversal."""
    if classes is not None:
        columns = [f"{code}={i}" for i in range(classes)]
    else:
        lo, hi = TRAVERSAL_RANGE
        columns = [f"{code}={lo + (hi - lo) * i / (steps - 1):+.1f}" for i in range(steps)]
    row_labels = [f"seed {seed + r}" for r in range(rows)]
    return (f"Traversal of '{code}': one row per sample (seeds {seed}…{seed + rows - 1}), "
            "the code varied across the columns, the other inputs fixed", columns, row_labels)


__all__ = ["TRAVERSAL_RANGE", "arithmetic_labels", "interpolation_labels", "sweep_labels",
           "traversal_labels"]


def mixing_labels(seed_a: int, seed_b: int, layers: int) -> tuple[str, list[str]]:
    """Title and column labels of style mixing: per column, the first style layer taken from
    sample B (from all of A's to all of B's)."""
    columns = ([f"A (seed {seed_a})"] + [f"B from layer {k}" for k in range(layers - 1, 0, -1)]
               + [f"B (seed {seed_b})"])
    return (f"Style mixing: sample A's (seed {seed_a}) styles, then B's (seed {seed_b}) from a "
            f"layer on, of {layers} style layers (coarse to fine)", columns)
