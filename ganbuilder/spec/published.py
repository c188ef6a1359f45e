"""The schema of spec files as people write them: what `ganbuilder schema` prints and editors use.

`spec_schema()` checks a *resolved* tree (extends merged, `${...}` substituted, blocks expanded).
A file in an editor is not resolved yet, so the published schema derives from it:

- wherever a value may be computed, a `${...}` expression is accepted too;
- `extends` is a key, and a file that extends another need not repeat what its base holds
  (no key is required in it, and a partial `data:` section is not checked key by key), and may
  remove an inherited key with `null` (spec/overlay.py);
- `blocks:` are described, and a layer item may use one (`{block: name, <args>}`), as may
  `repeat: {times, block, <args>}`.

Nothing the loader accepts is rejected here; what this schema calls unknown, the loader refuses.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from ganbuilder.spec.schema import IDENT, spec_schema

EXPRESSION = {"type": "string", "pattern": r"\$\{[^}]*\}",
              "description": "a ${...} expression over params (see docs/spec.md, Values)"}
_NAME = {"type": "string", "pattern": IDENT}
_SCALAR = {"type": ["number", "string", "boolean"]}
# Params are scalars, so a ${...} can stand for a scalar value, never a mapping or a list.
_COMPUTABLE = {"integer", "number", "boolean"}
# Keys whose value is a sub-schema to transform; `if` conditions are left as they are.
_SUBSCHEMA_KEYS = ("then", "else", "items", "additionalProperties", "not")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")


def _computable(node: dict) -> bool:
    """Whether a `${...}` string would fail this node although it may resolve to a fit value."""
    types = node.get("type", [])
    types = {types} if isinstance(types, str) else set(types)
    if types & {"object", "array"}:
        return False
    if types & _COMPUTABLE or "enum" in node or "const" in node:
        return True
    return "string" in types and "pattern" in node


def _with_expressions(node: Any) -> Any:
    """A copy of a schema node where every computable value also accepts `${...}`."""
    if not isinstance(node, dict):
        return node
    out = dict(node)
    if isinstance(out.get("properties"), dict):
        out["properties"] = {k: _with_expressions(v) for k, v in out["properties"].items()}
    if isinstance(out.get("$defs"), dict):
        out["$defs"] = {k: _with_expressions(v) for k, v in out["$defs"].items()}
    for key in _SUBSCHEMA_KEYS:
        if isinstance(out.get(key), dict):
            out[key] = _with_expressions(out[key])
    for key in _SCHEMA_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [_with_expressions(v) for v in out[key]]
    if _computable(node):
        described = {k: out.pop(k) for k in ("description", "default") if k in out}
        return {"anyOf": [out, EXPRESSION], **described}
    return out


def _without_required(node: Any) -> Any:
    """A copy with no `required` outside `if` conditions and `$ref`'d definitions."""
    if not isinstance(node, dict):
        return node
    out = {k: v for k, v in node.items() if k != "required"}
    if isinstance(out.get("properties"), dict):
        out["properties"] = {k: _without_required(v) for k, v in out["properties"].items()}
    for key in ("then", "else", "additionalProperties"):
        if isinstance(out.get(key), dict):
            out[key] = _without_required(out[key])
    for key in _SCHEMA_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [_without_required(v) for v in out[key]]
    return out


def _removable(node: Any) -> Any:
    """A copy where each key of a mapping may also be null: in a file that extends another,
    a null removes the inherited key."""
    if not isinstance(node, dict):
        return node
    out = dict(node)
    if isinstance(out.get("properties"), dict):
        out["properties"] = {k: _or_null(_removable(v)) for k, v in out["properties"].items()}
    if isinstance(out.get("additionalProperties"), dict):
        out["additionalProperties"] = _or_null(_removable(out["additionalProperties"]))
    return out


def _or_null(node: dict) -> dict:
    described = {k: node[k] for k in ("description",) if k in node}
    return {"anyOf": [node, {"type": "null", "description": "removes the inherited key"}],
            **described}


def _block_use(extra: dict) -> dict:
    return {"type": "object", "required": ["block"],
            "properties": {"block": {**_NAME, "description": "a block of this spec's `blocks`"},
                           **extra},
            "additionalProperties": {"anyOf": [_SCALAR, EXPRESSION],
                                     "description": "an argument of the block"}}


@cache
def published_schema() -> dict:
    """The JSON Schema (draft 2020-12) of spec files as written, for editors and validators."""
    schema = copy.deepcopy(spec_schema())
    defs = schema["$defs"]
    item = defs["layer"]["else"]
    repeat = item["properties"]["repeat"]
    item["properties"]["repeat"] = {
        "anyOf": [repeat, _block_use({"times": {"type": "integer", "minimum": 0,
                                                "description": "repetitions; `i` counts them"}})],
        "description": repeat.get("description", "") + "; or a block `times` times, with "
                       "its arguments evaluated per repetition (`i` = 0, 1, ...)"}
    defs["layer"]["else"] = {"anyOf": [item, _block_use({})]}
    defs["block"] = {
        "type": "object",
        "properties": {
            "args": {"anyOf": [{"type": "array", "items": _NAME},
                               {"type": "object", "propertyNames": {"pattern": IDENT},
                                "additionalProperties": _SCALAR}],
                     "description": "argument names, or names with default values"},
            "layers": {"$ref": "#/$defs/layers"},
        },
        "required": ["layers"],
        "additionalProperties": False,
        "description": "a named, parameterised list of layers",
    }
    props = schema["properties"]
    props["blocks"] = {"type": "object", "propertyNames": {"pattern": IDENT},
                       "additionalProperties": {"$ref": "#/$defs/block"},
                       "description": "named layer lists, used as {block: name, <args>}"}
    props["extends"] = {"anyOf": [{"type": "string"},
                                  {"type": "array", "items": {"type": "string"}, "minItems": 1}],
                        "description": "a base spec file, relative to this one, or a list of "
                                       "them (spec parts such as parts/vgg19.yaml) merged in "
                                       "order; this file's keys merge over it"}
    schema = _with_expressions(schema)
    # Properties move into the two branches (a file with `extends` or a whole spec), so the
    # root closes the mapping with unevaluatedProperties rather than additionalProperties.
    properties, required = schema.pop("properties"), schema.pop("required")
    del schema["additionalProperties"]
    partial = _removable(_without_required({"properties": properties}))
    partial["properties"]["data"] = {"type": "object",
                                     "description": "merged over the base spec's data"}
    schema["if"] = {"required": ["extends"]}
    schema["then"] = partial
    schema["else"] = {"properties": properties, "required": required}
    schema["unevaluatedProperties"] = False
    return schema


__all__ = ["EXPRESSION", "published_schema"]
