"""Editor completion: the words the spec format knows, the word being typed, and the words
that fit where the cursor is (the schema walked along the keys that enclose it)."""

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


# -- words that fit where the cursor is ------------------------------------------------------
_KEY = re.compile(r"^(\s*)((?:-\s+)*)([^\s#:{}\[\],'\"][^:#{}\[\],]*?)\s*:(?:\s+(.*))?$")
_VALUE_AT_END = re.compile(r"([A-Za-z_][\w.-]*)\s*:\s+([\w.-]*)$")
_FLOW_KEY = re.compile(r"([A-Za-z_][\w.-]*)\s*:\s*$")
Chain = list[str]  # mapping keys from the top, "-" for a list item


def _parse_key(line: str) -> tuple[int, int, str, bool] | None:
    """(dash column or -1, key column, key, opens a block) of a `key:` line, else None."""
    body = line.split(" #", 1)[0].rstrip()
    match = _KEY.match(body)
    if match is None:
        return None
    indent, dashes, key, value = match.groups()
    dash = len(indent) if dashes else -1
    return dash, len(indent) + len(dashes), key.strip(), not value


def key_chain(lines: list[str], line: int, col: int) -> Chain:
    """The keys enclosing 0-based column `col` of 1-based `line` (block keys above it by
    indentation, then any flow mappings `{...}` open on the line before the cursor)."""
    text = lines[line - 1]
    prefix = text[:col]
    stripped = prefix.lstrip(" ")
    chain: Chain = []
    threshold = len(prefix) - len(stripped)
    if stripped.startswith("- ") or stripped == "-":
        chain.append("-")
    # Flow collections opened on this line and not yet closed.
    stack: list[str | None] = []
    for i, ch in enumerate(prefix):
        if ch == "{":
            found = _FLOW_KEY.search(prefix[:i])
            stack.append(found.group(1) if found else None)
        elif ch == "[":
            stack.append("-")
        elif ch in "}]" and stack:
            stack.pop()
    chain += [key for key in stack if key is not None]
    above: Chain = []
    for number in range(line - 1, 0, -1):
        if threshold == 0:
            break
        parsed = _parse_key(lines[number - 1])
        if parsed is None:
            continue
        dash, key_col, key, opens = parsed
        if key_col < threshold and opens:
            above.append(key)
            if dash >= 0:
                above.append("-")
            threshold = dash if dash >= 0 else key_col
        elif 0 <= dash < threshold <= key_col:  # a sibling key in the same list item
            above.append("-")
            threshold = dash
    return list(reversed(above)) + chain


def _resolve(node: object, root: dict) -> object:
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        target: object = root
        for part in ref.removeprefix("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        node = target
    return node


def _branches(node: object, root: dict) -> list[dict]:
    """`node` and every schema it may also be (if/then/else, allOf/anyOf/oneOf), resolved."""
    out: list[dict] = []
    todo = [node]
    while todo:
        current = _resolve(todo.pop(), root)
        if not isinstance(current, dict) or any(current is seen for seen in out):
            continue
        out.append(current)
        todo += [current[k] for k in ("then", "else") if k in current]
        for k in ("allOf", "anyOf", "oneOf"):
            todo += current.get(k, [])
    return out


def _step(nodes: list[object], key: str, root: dict) -> list[object]:
    out: list[object] = []
    for node in nodes:
        for branch in _branches(node, root):
            if key == "-":
                if isinstance(branch.get("items"), dict):
                    out.append(branch["items"])
                continue
            props = branch.get("properties")
            if isinstance(props, dict) and key in props:
                out.append(props[key])
            elif isinstance(branch.get("additionalProperties"), dict):
                out.append(branch["additionalProperties"])
    return out


def _offers(nodes: list[object], root: dict, values: bool) -> list[str]:
    words: set[str] = set()
    for node in nodes:
        for branch in _branches(node, root):
            if not values and isinstance(branch.get("properties"), dict):
                words.update(branch["properties"])
            enum = branch.get("enum")
            if isinstance(enum, list):
                words.update(e for e in enum if isinstance(e, str) and e.isidentifier())
    return sorted(words)


def context_words(schema: dict, lines: list[str], line: int, col: int) -> list[str] | None:
    """The names that fit at 0-based column `col` of 1-based `line`: a key's possible keys
    (after `conv:`, conv's parameters), or after `key: ` the values the key allows; None when
    the schema does not say (the caller offers every word)."""
    prefix = lines[line - 1][:col]
    value = _VALUE_AT_END.search(prefix)
    chain = key_chain(lines, line, col - len(value.group(2)) if value else col)
    nodes: list[object] = [schema]
    if value and "{" not in prefix[value.start():]:
        chain = [*chain, value.group(1)] if chain[-1:] != [value.group(1)] else chain
    for key in chain:
        nodes = _step(nodes, key, schema)
        if not nodes:
            return None
    words = _offers(nodes, schema, values=bool(value))
    return words or None


__all__ = ["Chain", "context_words", "key_chain", "schema_words", "word_before"]
