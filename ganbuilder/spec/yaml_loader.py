"""YAML text -> plain values that remember where every node came from.

PyYAML implements YAML 1.1, whose float rule needs a dot (`1e-4` becomes a string) and whose
booleans include yes/no/on/off. Specs follow YAML 1.2's core schema instead. Tags other than the
standard ones are refused, so a spec can never build arbitrary objects; duplicate keys, which
PyYAML silently overwrites, are errors.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from ganbuilder.errors import Location, Problem, SpecError

_STD = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {_STD + t for t in ("str", "int", "float", "bool", "null", "map", "seq", "merge")}


class LDict(dict):
    """A dict that knows its own location and the locations of its keys and values."""

    loc: Location | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.key_locs: dict[str, Location] = {}
        self.val_locs: dict[str, Location] = {}


class LList(list):
    """A list that knows its own location and the locations of its items."""

    loc: Location | None = None

    def __init__(self, *args):
        super().__init__(*args)
        self.item_locs: list[Location | None] = []


class _Resolver(yaml.resolver.BaseResolver):
    pass


_Resolver.add_implicit_resolver(
    _STD + "bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Resolver.add_implicit_resolver(
    _STD + "int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789")
)
_Resolver.add_implicit_resolver(
    _STD + "float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+.0123456789"),
)
_Resolver.add_implicit_resolver(
    _STD + "null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)
_Resolver.add_implicit_resolver(_STD + "merge", re.compile(r"^(?:<<)$"), ["<"])


class _Composer(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    yaml.composer.Composer,
    _Resolver,
):
    def __init__(self, stream: str):
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _Resolver.__init__(self)


try:
    from yaml.cyaml import CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _FastComposer: type = _Composer
else:
    # libyaml's parser and composer in C (10x faster on big specs), our resolver in Python.
    class _FastComposer(CParser, _Resolver):  # type: ignore[no-redef]
        def __init__(self, stream: str):
            CParser.__init__(self, stream)
            _Resolver.__init__(self)


def _scalar(node: yaml.ScalarNode) -> Any:
    tag, text = node.tag, node.value
    if tag == _STD + "null":
        return None
    if tag == _STD + "bool":
        return text.lower() == "true"
    if tag == _STD + "int":
        if text.startswith("0o"):
            return int(text[2:], 8)
        return int(text, 0) if text.startswith("0x") else int(text)
    if tag == _STD + "float":
        low = text.lower()
        if low.endswith("inf"):
            return float("-inf") if low.startswith("-") else float("inf")
        return float("nan") if low.endswith("nan") else float(text)
    return text


class _Builder:
    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def loc(self, node: yaml.Node) -> Location:
        return Location(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def build(self, node: yaml.Node) -> Any:
        if node.tag not in _ALLOWED_TAGS:
            self.problems.append(
                Problem("", f"YAML tag '{node.tag}' is not allowed in a spec", self.loc(node))
            )
            return None
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node)
        if isinstance(node, yaml.SequenceNode):
            out = LList()
            out.loc = self.loc(node)
            for item in node.value:
                out.append(self.build(item))
                out.item_locs.append(self.loc(item))
            return out
        return _scalar(node)

    def mapping(self, node: yaml.MappingNode) -> LDict:
        out = LDict()
        out.loc = self.loc(node)
        merged: list[LDict] = []
        for key_node, value_node in node.value:
            if key_node.tag == _STD + "merge":
                value = self.build(value_node)
                sources = value if isinstance(value, list) else [value]
                merged.extend(s for s in sources if isinstance(s, LDict))
                continue
            key = self.build(key_node)
            if not isinstance(key, str):
                key = str(key)
            if key in out:
                first = out.key_locs[key]
                self.problems.append(
                    Problem("", f"duplicate key '{key}' (first defined at line {first.line})",
                            self.loc(key_node))
                )
                continue
            out[key] = self.build(value_node)
            out.key_locs[key] = self.loc(key_node)
            out.val_locs[key] = self.loc(value_node)
        for source in merged:  # explicit keys win over `<<:` merged ones
            for key, value in source.items():
                if key not in out:
                    out[key] = value
                    out.key_locs[key] = source.key_locs[key]
                    out.val_locs[key] = source.val_locs[key]
        return out


def load_yaml(text: str, file: str = "<string>") -> Any:
    """Parse one YAML document into LDict/LList/scalars; raise SpecError on any problem."""
    try:
        node = _FastComposer(text).get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(file, mark.line + 1, mark.column + 1) if mark else None
        message = (exc.problem or exc.context or "invalid YAML").strip()
        raise SpecError([Problem("", f"invalid YAML: {message}", loc)]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Problem("", f"invalid YAML: {exc}", Location(file, 1, 1))]) from None
    if node is None:
        return None
    builder = _Builder(file)
    value = builder.build(node)
    if builder.problems:
        raise SpecError(builder.problems)
    return value
