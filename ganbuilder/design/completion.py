"""Editor completion: the words the spec format knows, and the word being typed."""

from __future__ import annotations

import re

_WORD = re.compile(r"[A-Za-z_]\w*$")


def schema_words(schema: dict) -> list[str]:
    """Every property name in a JSON Schema (keys, layer and loss names), sorted."""
    words: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            props = node.get("properties")
            if isinstance(props, dict):
                words.update(props)
            for value in node.values():
                walk(value)
            enum = node.get("enum")
            if isinstance(enum, list):
                words.update(e for e in enum if isinstance(e, str) and e.isidentifier())
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return sorted(words)


def word_before(text: str) -> str:
    """The identifier that `text` (a line up to the cursor) ends with, or ""."""
    match = _WORD.search(text)
    return match.group(0) if match else ""
