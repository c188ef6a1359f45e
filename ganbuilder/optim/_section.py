"""Reading a spec section that names one kind: `adam`, `{adam: null}` or `{adam: {lr: ...}}`."""

from __future__ import annotations


def one_key(section: dict | str | None, fallback: str) -> tuple[str, dict]:
    """`{adam: {lr: ...}}` or `adam` -> ('adam', {...}); an absent section -> (fallback, {})."""
    if not section:
        return fallback, {}
    if isinstance(section, str):
        return section, {}
    name, opts = next(iter(section.items()))
    return name, dict(opts or {})
