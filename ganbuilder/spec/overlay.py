"""A file over the base it `extends`: mappings merge key by key, with two rules that let the
file replace and remove what it inherits.

- `key: null` (or `~`) removes the inherited key: a network, a term's option, `training.ema`
  (as in Helm's values files and JSON Merge Patch, RFC 7386). Keys that accept null default to
  null, so removing one and setting it to null are the same.
- A mapping that names one kind (a network's `init`, an `optimizer`, a `schedule`) is replaced
  when the file names another kind (`init: {xavier: 1.0}` over `init: {orthogonal: 1.0}`); the
  same kind merges its options.

Lists and single values always replace what they override.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from ganbuilder.errors import Problem, SpecError
from ganbuilder.spec.yaml_loader import LDict

_ANY = "*"  # a path step matching any name (a network's, an objective's)


def merge(base: Any, over: Any, path: tuple = ()) -> Any:
    """Deep-merge `over` onto `base`; `path` is where they are in the spec."""
    if not (isinstance(base, LDict) and isinstance(over, LDict)):
        return over
    if names_one_kind(path) and (set(over) != set(base) or None in over.values()):
        return over  # another kind, or the kind with its default options
    out = LDict(base)
    out.loc = over.loc
    out.key_locs = {**base.key_locs, **over.key_locs}
    out.val_locs = {**base.val_locs, **over.val_locs}
    for key, value in over.items():
        if value is None and key in base:
            del out[key], out.key_locs[key], out.val_locs[key]
        else:
            out[key] = merge(base[key], value, (*path, key)) if key in base else value
    return out


def names_one_kind(path: tuple) -> bool:
    """Whether the mapping at `path` names one kind (its one key), so another kind replaces it."""
    return any(len(p) == len(path) and all(a in (_ANY, b) for a, b in zip(p, path, strict=True))
               for p in one_kind_paths())


@cache
def one_kind_paths() -> tuple[tuple[str, ...], ...]:
    """Where the schema holds a mapping of exactly one key, the kind (`*` for any name)."""
    from ganbuilder.spec.schema import spec_schema

    schema = spec_schema()
    found: list[tuple[str, ...]] = []

    def walk(node: Any, path: tuple[str, ...]) -> None:
        if not isinstance(node, dict):
            return
        if "$ref" in node:
            node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
        if "if" in node:  # a kind's shorthand (`schedule: cosine`) or its mapping
            walk(node.get("else"), path)
        if node.get("maxProperties") == 1:
            found.append(path)
            return
        for key, sub in (node.get("properties") or {}).items():
            walk(sub, (*path, key))
        walk(node.get("additionalProperties"), (*path, _ANY))

    walk(schema, ())
    return tuple(found)


def from_base_files(error: SpecError, file: Path) -> SpecError:
    """`error` with each problem found in a file that `file` extends saying so: its file:line
    is the base's, which the user may not have open."""
    problems = []
    for p in error.problems:
        loc = p.location
        if loc and Path(loc.file).is_absolute() and Path(loc.file) != file.resolve():
            note = f" (in {Path(loc.file).name}, a base spec that {file.name} extends)"
            p = Problem(p.path, p.message + note, loc, p.written)
        problems.append(p)
    return SpecError(problems)


__all__ = ["from_base_files", "merge", "names_one_kind", "one_kind_paths"]
