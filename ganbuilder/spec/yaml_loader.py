"""YAML text -> plain values that remember where every node came from.

PyYAML implements YAML 1.1, whose float rule needs a dot (`1e-4` becomes a string) and whose
booleans include yes/no/on/off. Specs follow YAML 1.2's core schema instead. Tags other than the
standard ones are refused, so a spec can never build arbitrary objects; duplicate keys, which
PyYAML silently overwrites, are errors.
"""

from __future__ import annotations

import math
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


# YAML 1.2 core schema; an explicitly tagged scalar (`!!int 12`) must match its tag's pattern.
_PATTERNS = {
    _STD + "bool": (re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), "tTfF"),
    _STD + "int": (re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), "-+0123456789"),
    _STD + "float": (
        re.compile(
            r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
        ),
        "-+.0123456789",
    ),
    _STD + "null": (re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]),
    _STD + "merge": (re.compile(r"^(?:<<)$"), "<"),
}
for _tag, (_pattern, _first) in _PATTERNS.items():
    _Resolver.add_implicit_resolver(_tag, _pattern, list(_first))

# Aliases share nodes, so a few lines of text can stand for billions of nodes ("billion
# laughs"); the largest shipped spec has about 1,100 after expansion.
MAX_NODES = 100_000
MAX_DEPTH = 100
INT_BITS = 63


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
    """The value of a scalar whose text matches its tag (checked by the caller)."""
    tag, text = node.tag, node.value
    if tag == _STD + "null":
        return None
    if tag == _STD + "bool":
        return text.lower() == "true"
    if tag == _STD + "int":
        digits = text.lstrip("+-")
        if len(digits) > 4000:  # int() refuses over 4,300 digits; far beyond 64 bits anyway
            raise ValueError("an integer beyond 64 bits")
        if digits.startswith("0o"):
            value = int(digits[2:], 8)
        else:
            value = int(digits, 0) if digits.startswith("0x") else int(digits)
        value = -value if text.startswith("-") else value
        if not -(2**INT_BITS) <= value < 2**INT_BITS:
            raise ValueError("an integer beyond 64 bits")
        return value
    if tag == _STD + "float":
        low = text.lower()
        if low.endswith("inf"):
            return float("-inf") if low.startswith("-") else float("inf")
        if low.endswith("nan"):
            return float("nan")
        value = float(text)
        if math.isinf(value):  # 1e400: only `.inf` spells infinity
            raise ValueError("a number beyond the range of a 64-bit float")
        return value
    return text


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(_STD) if tag.startswith(_STD) else tag


class _TooLarge(Exception):
    """The document expands to more than MAX_NODES nodes; building stops at once."""

    def __init__(self, node: yaml.Node):
        self.node = node


class _Builder:
    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []
        self.count = 0
        self.open: set[int] = set()  # ids of the nodes being built: an alias to one is a loop

    def loc(self, node: yaml.Node) -> Location:
        return Location(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def problem(self, node: yaml.Node, message: str) -> None:
        self.problems.append(Problem("", message, self.loc(node)))

    def build(self, node: yaml.Node, depth: int = 0) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooLarge(node)
        if node.tag not in _ALLOWED_TAGS:
            self.problem(node, f"YAML tag '{node.tag}' is not allowed in a spec")
            return None
        if depth > MAX_DEPTH:
            self.problem(node, f"nested more than {MAX_DEPTH} levels deep")
            return None
        if id(node) in self.open:
            self.problem(node, "an alias refers to a node that contains it (a loop)")
            return None
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        kind = "map" if isinstance(node, yaml.MappingNode) else "seq"
        if node.tag != _STD + kind:
            self.problem(node, f"YAML tag '{_short_tag(node.tag)}' does not fit a "
                         f"{'mapping' if kind == 'map' else 'list'}")
            return None
        self.open.add(id(node))
        try:
            return self.mapping(node, depth) if kind == "map" else self.sequence(node, depth)
        finally:
            self.open.discard(id(node))

    def scalar(self, node: yaml.ScalarNode) -> Any:
        text = node.value if len(node.value) <= 40 else node.value[:40] + "..."
        pattern = _PATTERNS.get(node.tag)
        if node.tag in (_STD + "map", _STD + "seq", _STD + "merge"):
            self.problem(node, f"YAML tag '{_short_tag(node.tag)}' does not fit '{text}'")
            return None
        if pattern and not pattern[0].match(node.value):
            self.problem(node, f"'{text}' is not a valid {_short_tag(node.tag)}")
            return None
        try:
            return _scalar(node)
        except ValueError as exc:
            self.problem(node, f"'{text}' is {exc}")
            return None

    def sequence(self, node: yaml.SequenceNode, depth: int) -> LList:
        out = LList()
        out.loc = self.loc(node)
        for item in node.value:
            out.append(self.build(item, depth + 1))
            out.item_locs.append(self.loc(item))
        return out

    def mapping(self, node: yaml.MappingNode, depth: int) -> LDict:
        out = LDict()
        out.loc = self.loc(node)
        merged: list[LDict] = []
        for key_node, value_node in node.value:
            if key_node.tag == _STD + "merge":
                merged.extend(self.merge_sources(value_node, depth))
                continue
            key = self.build(key_node, depth + 1)
            if not isinstance(key, str):
                key = str(key)
            if key in out:
                first = out.key_locs[key]
                self.problem(key_node, f"duplicate key '{key}' (first defined at line "
                             f"{first.line})")
                continue
            out[key] = self.build(value_node, depth + 1)
            out.key_locs[key] = self.loc(key_node)
            out.val_locs[key] = self.loc(value_node)
        for source in merged:  # explicit keys win over `<<:` merged ones
            for key, value in source.items():
                if key not in out:
                    out[key] = value
                    out.key_locs[key] = source.key_locs[key]
                    out.val_locs[key] = source.val_locs[key]
        return out

    def merge_sources(self, node: yaml.Node, depth: int) -> list[LDict]:
        """The mappings a `<<:` key merges: one mapping or a list of them."""
        reported = len(self.problems)
        value = self.build(node, depth + 1)
        sources = value if isinstance(value, list) else [value]
        wrong = [s for s in sources if not isinstance(s, LDict)]
        if wrong and len(self.problems) == reported:  # else a loop or bad tag said why
            got = "nothing (null)" if wrong[0] is None else repr(wrong[0])[:60]
            self.problem(node, f"'<<' merges a mapping or a list of mappings, got {got}")
        return [s for s in sources if isinstance(s, LDict)]


def load_yaml(text: str, file: str = "<string>") -> Any:
    """Parse one YAML document into LDict/LList/scalars; raise SpecError on any problem."""
    try:
        node = _FastComposer(text).get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(file, mark.line + 1, mark.column + 1) if mark else None
        message = (exc.problem or exc.context or "invalid YAML").strip()
        raise SpecError([Problem("", f"invalid YAML: {message}", loc)]) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow; no mark
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        message = f"invalid YAML: character U+{code:04X} is not allowed"
        raise SpecError([Problem("", message, Location(file, line, col))]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Problem("", f"invalid YAML: {exc}", Location(file, 1, 1))]) from None
    if node is None:
        return None
    builder = _Builder(file)
    try:
        value = builder.build(node)
    except _TooLarge as exc:
        message = (f"the document expands to more than {MAX_NODES:,} YAML nodes (aliases "
                   "counted at every use); a spec needs far fewer, so this is refused as an "
                   "alias bomb")
        raise SpecError([Problem("", message, builder.loc(exc.node))]) from None
    if builder.problems:
        raise SpecError(builder.problems)
    return value
