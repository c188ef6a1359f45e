"""k-NN balls of feature sets with exact decisions: is a point strictly inside a ball?

Squared distances are computed by expansion (|a|^2 + |b|^2 - 2 a.b, one matrix product),
which rounds: two equal feature vectors come out a little apart, or a point on a ball's rim
a little inside it. Every comparison whose outcome rounding could change, |d - r| within a
bound on the expansion's error, is decided again from the exact difference sum((a - b)^2),
and so are the distances a k-th nearest neighbour is chosen among: duplicates are at
distance 0 and never inside a ball of radius 0, as in prdc.
"""

from __future__ import annotations

import torch

ROWS = 1024  # distance rows computed at once: bounded memory for 50k x 50k comparisons
_EPS = torch.finfo(torch.float64).eps


def _expanded(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Squared distances by expansion, and a bound on each one's rounding error."""
    na, nb = (a * a).sum(1, keepdim=True), (b * b).sum(1)[None]
    d = (na + nb - 2.0 * a @ b.T).clamp_min_(0.0)
    # A dot product of F terms is off by at most about F eps |a| |b| <= F eps (|a|^2 + |b|^2)
    # / 2; four times that covers the norms' own rounding with room to spare.
    return d, 4.0 * (a.shape[1] + 2) * _EPS * (na + nb)


def _exact(a: torch.Tensor, b: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor
           ) -> torch.Tensor:
    """sum((a[rows] - b[cols])^2), pair by pair."""
    return ((a[rows] - b[cols]) ** 2).sum(1)


def _fixed(a: torch.Tensor, b: torch.Tensor, d: torch.Tensor, doubt: torch.Tensor
           ) -> torch.Tensor:
    """`d` with the entries where `doubt` holds recomputed exactly."""
    rows, cols = doubt.nonzero(as_tuple=True)
    if len(rows):
        d = d.clone()
        d[rows, cols] = _exact(a, b, rows, cols)
    return d


def knn_radii(x: torch.Tensor, k: int) -> torch.Tensor:
    """Squared distance from each row to its k-th nearest other row (exact)."""
    if len(x) <= k:
        raise ValueError(f"k-NN radii with k={k} need more than {k} samples, got {len(x)}")
    out = []
    for i in range(0, len(x), ROWS):
        part = x[i:i + ROWS]
        d, err = _expanded(part, x)
        own = torch.arange(len(part))
        d[own, own + i] = 0.0  # a row's distance to itself, exactly
        # The row itself sorts first (distance 0), so the k-th neighbour is at index k.
        kth = d.kthvalue(k + 1, dim=1).values
        d = _fixed(part, x, d, d <= kth[:, None] + 2 * err)
        d[own, own + i] = 0.0
        out.append(d.kthvalue(k + 1, dim=1).values)
    return torch.cat(out)


def inside_counts(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor
                  ) -> torch.Tensor:
    """For each point, how many balls (centres, squared radii) hold it strictly inside."""
    out = []
    for i in range(0, len(points), ROWS):
        part = points[i:i + ROWS]
        d, err = _expanded(part, centres)
        d = _fixed(part, centres, d, (d - radii[None]).abs() <= err)
        out.append((d < radii[None]).sum(1))
    return torch.cat(out)


def nearest(points: torch.Tensor, others: torch.Tensor) -> torch.Tensor:
    """Squared distance from each point to its nearest row of `others` (exact)."""
    out = []
    for i in range(0, len(points), ROWS):
        part = points[i:i + ROWS]
        d, err = _expanded(part, others)
        low = d.min(1).values
        d = _fixed(part, others, d, d <= low[:, None] + 2 * err)
        out.append(d.min(1).values)
    return torch.cat(out)
