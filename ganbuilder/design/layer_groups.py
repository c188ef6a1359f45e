"""Which layers of a network the layer canvas draws as one collapsible group node, and what
such a node says (semantic zoom, as Netron and TensorBoard's graph do).

Three kinds of group:

* written: the layers one block use or one `repeat` of a block writes (`residual ×9`,
  `g_skip ×3`, `down`). Gestures on its collapsed node act on the whole use. Inside a repeat
  of a block of several layers, each copy is a group of its own (`g_skip 16 px`), which
  gestures do not take as a whole (no entry of the text writes one copy).
* section: consecutive drawn units (layers and collapsed written groups) the canvas merges
  so that a long network fits a small view: stages first (a convolution with the norms and
  activations after it), then neighbouring stages, the smallest first, until at most
  `budget` units are left. A section is not written anywhere: it is only a way of looking.

A group's `key` stays the same while the text is edited elsewhere, so that the user's own
expand/collapse choices outlive a redraw.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from ganbuilder.design.canvas import TextItem
from ganbuilder.layers.registry import LAYERS, format_shape
from ganbuilder.spec.shapes import NetworkPlan

_FOLLOWERS = ("normalisation", "activation")  # end a stage rather than start one
_MAIN = ("convolution",)  # named in a section's title
_TITLE = 24  # characters of a section's title before it is cut with …


@dataclass(frozen=True)
class Group:
    """Resolved layers [start, stop) drawn as one node when collapsed; `item` is the index
    of the written entry (block use or repeat) it stands for, None for a section; `copy`
    marks one copy inside a repeat."""

    key: str
    start: int
    stop: int
    title: str
    item: int | None = None
    copy: bool = False

    @property
    def written(self) -> bool:
        """A whole block use or repeat: one entry of the text."""
        return self.item is not None and not self.copy


Unit = int | Group  # a drawn node: a layer's resolved position, or a collapsed group


def written_groups(plan: NetworkPlan, items: list[TextItem]) -> list[Group]:
    """One group per block use or repeat of a block in `items` (the network's written
    entries), keyed by its block and its place among that block's uses."""
    out: list[Group] = []
    uses: dict[str, int] = {}
    for item in items:
        if not item.expands or item.stop <= item.start:
            continue
        n = uses[item.block] = uses.get(item.block, -1) + 1
        kinds = {layer.kind for layer in plan.layers[item.start:item.stop]}
        count = item.stop - item.start
        if item.times and len(kinds) == 1 and count == item.times:
            title = f"{kinds.pop()} ×{count}"  # a repeat of a one-layer block
        elif item.times:
            title = f"{item.block} ×{item.times}"
        else:
            title = item.block
        out.append(Group(f"w:{item.block}#{n}", item.start, item.stop, title, item.index))
    return out


def copies(plan: NetworkPlan, group: Group, times: int, block: str) -> list[Group]:
    """The copies of a repeat (`times` copies of `block`) of more than one layer each, titled
    by the size they make (`g_skip 16 px`), else by their number; none for another group."""
    count = group.stop - group.start
    if times < 2 or count % times or count // times < 2:
        return []
    per = count // times
    out = []
    for n in range(times):
        start = group.start + n * per
        shape = plan.layers[start + per - 1].out_shape
        size = (f"{shape[-1]} px" if shape[-1] == shape[-2] else f"{shape[-2]}×{shape[-1]}") \
            if len(shape) == 3 else f"{n + 1}/{times}"
        out.append(Group(f"c:{group.key[2:]}.{n}", start, start + per, f"{block} {size}",
                         group.item, copy=True))
    return out


def units(count: int, collapsed: list[Group]) -> list[Unit]:
    """The drawn units of `count` layers, each group of `collapsed` as one (of nested
    groups, the outermost)."""
    first: dict[int, Group] = {}
    for group in collapsed:
        if group.stop - group.start > _length(first.get(group.start)):
            first[group.start] = group
    out: list[Unit] = []
    position = 0
    while position < count:
        group = first.get(position)
        if group is not None and group.stop > position:
            out.append(group)
            position = group.stop
        else:
            out.append(position)
            position += 1
    return out


def _length(group: Group | None) -> int:
    return group.stop - group.start if group is not None else 0


def _span(unit: Unit) -> tuple[int, int]:
    return (unit.start, unit.stop) if isinstance(unit, Group) else (unit, unit + 1)


def _role(plan: NetworkPlan, unit: Unit) -> str:
    if isinstance(unit, Group):
        return "group"
    entry = LAYERS.get(plan.layers[unit].kind) if plan.layers[unit].kind in LAYERS else None
    return entry.group if entry is not None else ""


def _breaks(plan: NetworkPlan, shown: list[Unit]) -> list[int]:
    """How strongly the drawing keeps unit i and i + 1 apart: 0 within a stage (a layer and
    the norms and activations after it), 1 between stages."""
    out = []
    for a, b in itertools.pairwise(shown):
        ra, rb = _role(plan, a), _role(plan, b)
        apart = "group" in (ra, rb) or (ra in _FOLLOWERS and rb not in _FOLLOWERS)
        out.append(int(apart))
    return out


def sections(plan: NetworkPlan, shown: list[Unit], budget: int) -> list[Group]:
    """Merge neighbouring units of `shown` until at most `budget` are left (stages first,
    then the pair with the fewest layers); the merged runs of two or more units, as
    sections."""
    runs = [[unit] for unit in shown]
    breaks = _breaks(plan, shown)

    def size(run: list[Unit]) -> int:
        return sum(_span(u)[1] - _span(u)[0] for u in run)

    while len(runs) > max(budget, 1):
        i = min(range(len(breaks)), key=lambda k: (breaks[k], size(runs[k]) + size(runs[k + 1]),
                                                   k))
        runs[i:i + 2] = [runs[i] + runs[i + 1]]
        del breaks[i]
    out = []
    for run in runs:
        if len(run) < 2:
            continue
        start, stop = _span(run[0])[0], _span(run[-1])[1]
        out.append(Group(f"s:{start}-{stop}", start, stop, section_title(plan, run)))
    return out


def section_title(plan: NetworkPlan, run: list[Unit]) -> str:
    """`0–9  conv ×3`: the layers a section spans and what does its work (its convolutions
    and the groups in it, in order, runs of one counted)."""
    parts: list[str] = []
    for unit in run:
        if isinstance(unit, Group):
            parts.append(unit.title)
        elif _role(plan, unit) in _MAIN or plan.layers[unit].children:
            parts.append(plan.layers[unit].kind)
    if not parts:
        parts = [plan.layers[_span(run[0])[0]].kind]
    counted: list[list] = []
    for part in parts:
        if counted and counted[-1][0] == part:
            counted[-1][1] += 1
        else:
            counted.append([part, 1])
    words = ", ".join(p if n == 1 else f"{p} ×{n}" for p, n in counted)
    if len(words) > _TITLE:
        words = words[:_TITLE - 1].rstrip(", ") + "…"
    start, stop = _span(run[0])[0], _span(run[-1])[1]
    return f"{start}–{stop - 1}  {words}"


def group_lines(plan: NetworkPlan, group: Group, params: list[int | None]) -> list[str]:
    """A collapsed group's two lines: its title, then its output shape and parameter count
    (`params`: each resolved layer's, None where not yet counted). Narrow, so that a small
    view shows more of them; the layer count is in the title or the hover text."""
    total = sum(p or 0 for p in params[group.start:group.stop])
    known = any(p is not None for p in params[group.start:group.stop])
    shape = format_shape(plan.layers[group.stop - 1].out_shape)
    return [group.title, " · ".join([shape] + ([param_count(total)] if known else []))]


def group_tip(plan: NetworkPlan, group: Group, limit: int = 12) -> str:
    """A collapsed group's hover text: what it is, its first `limit` layers (kind and output
    shape), and how to open it."""
    what = ("one entry of the text: Delete, copy and drag act on the whole use"
            if group.written else "one copy of a repeat: expand it to edit the block's layers"
            if group.copy else "a section drawn as one node: expand it to edit its layers")
    lines = [f"{group.title}: layers {group.start}–{group.stop - 1}, {what}"]
    shown = range(group.start, min(group.stop, group.start + limit))
    lines += [f"  {i}  {plan.layers[i].kind}  {format_shape(plan.layers[i].out_shape)}"
              for i in shown]
    if group.stop - group.start > limit:
        lines.append(f"  … {group.stop - group.start - limit} more")
    lines.append("double-click, ▸ or Right: expand")
    return "\n".join(lines)


def param_count(n: int | None) -> str:
    """`4,736 params`, `2.66M params`; empty when not counted."""
    if n is None:
        return ""
    return f"{n / 1e6:.2f}M params" if n >= 1e6 else f"{n:,} params"


__all__ = ["Group", "Unit", "copies", "group_lines", "group_tip", "param_count",
           "section_title", "sections", "units", "written_groups"]
