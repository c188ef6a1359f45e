"""What a schema fragment accepts, in words: the phrasing of a bad value's error, per field.

JSON Schema reports a bad value once per rule it breaks (`type`, then `minimum`; each branch
of an `anyOf`), in the rule's words; a person wants one sentence saying what the field takes.
"""

from __future__ import annotations

from typing import Any

# Rules about a value itself (not about keys or list items): a field breaking any of them
# gets one message built from its whole fragment.
VALUE_RULES = frozenset({"type", "pattern", "const", "minimum", "maximum", "exclusiveMinimum",
                         "exclusiveMaximum", "multipleOf", "anyOf", "oneOf"})

_ARTICLE = {"integer": "an integer", "number": "a number", "string": "a string",
            "boolean": "true or false", "array": "a list", "object": "a mapping",
            "null": "nothing"}


def accepts(schema: dict, patterns: dict[str, str]) -> str:
    """`schema` in words ("an integer from 0 to 64 or 'auto'"); `patterns` words each regular
    expression the schema uses ("auto, cpu, cuda, cuda:N or mps")."""
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " or ".join(dict.fromkeys(accepts(s, patterns) for s in schema[key]))
    if "const" in schema:
        return repr(schema["const"])
    if "enum" in schema:
        return "one of: " + ", ".join(map(str, schema["enum"]))
    if "pattern" in schema:
        return patterns.get(schema["pattern"], f"text matching {schema['pattern']}")
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else list(types)
    words = " or ".join(_ARTICLE.get(t, t) for t in types) or "a value"
    if "array" in types and isinstance(schema.get("items"), dict):
        least = schema.get("minItems", 0)
        words = f"a {'non-empty ' if least else ''}list of {_plural(schema['items'], patterns)}"
    return words + _bounds(schema)


def _plural(items: dict, patterns: dict[str, str]) -> str:
    word = accepts(items, patterns)
    for one, many in (("a string", "strings"), ("an integer", "integers"),
                      ("a number", "numbers")):
        if word.startswith(one):
            return many + word[len(one):]
    return word


def _bounds(schema: dict) -> str:
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        return f" from {low} to {high}"
    parts = []
    for key, sign in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="),
                      ("exclusiveMaximum", "<")):
        if schema.get(key) is not None:
            parts.append(f"{sign} {schema[key]}")
    return (" " + " and ".join(parts)) if parts else ""


def field_schema(error: Any) -> dict:
    """The fragment of the field a jsonschema error is about: the outermost of its parents at
    the same path (an `anyOf` whose branch failed, not the branch)."""
    while error.parent is not None and list(error.parent.absolute_path) == list(
            error.absolute_path) and error.parent.validator in VALUE_RULES:
        error = error.parent
    return error.schema


__all__ = ["VALUE_RULES", "accepts", "field_schema"]
