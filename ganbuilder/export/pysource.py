"""Writing Python source: the line width, identifiers, wrapped calls and copied definitions
that `eject` (and `eject --with-training`) put in the files they write. Torch-free.

Definitions are copied as they are written in ganbuilder (or a plugin): `definitions` finds
every module-level function or class a copied one calls, by its symbol table, so a file never
references something it lacks; an annotation naming what the file does not import is removed
by its position in the syntax tree, never by string replacement.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import keyword
import re
import symtable
import sys
import textwrap
from collections.abc import Iterable

WIDTH = 100  # the project's line length, so a written file passes its ruff configuration
INDENT = "    "
# What an ejected file imports: `import math, torch`, `from torch import nn`, `functional as F`,
# `from torch.nn.utils import parametrize`.
FILE_NAMES = frozenset({"math", "torch", "nn", "F", "parametrize"})
_BUILTINS = frozenset(dir(builtins))


def call(head: str, args: list[str], indent: str) -> str:
    """`head(a, b)` on one line when it fits WIDTH at `indent`, else one argument per line."""
    one = f"{head}({', '.join(args)})"
    if len(indent) + len(one) + 1 <= WIDTH and "\n" not in one:
        return one
    inner = indent + INDENT
    body = "".join(f"{inner}{arg},\n" for arg in args)
    return f"{head}(\n{body}{indent})"


def mapping(head: str, items: list[str], indent: str) -> str:
    """`head{a, b}` on one line when it fits the file's width, else one item per line."""
    line = f"{indent}{head}{{{', '.join(items)}}}"
    if len(line) <= WIDTH:
        return line
    body = "".join(f"{indent}{INDENT}{item},\n" for item in items)
    return f"{indent}{head}{{\n{body}{indent}}}"


def assign(indent: str, target: str, expr: str) -> str:
    """`target = expr` at `indent`; past the file's width, a call's arguments go on the next
    line (one statement still, so the order of evaluation is the same)."""
    line = f"{indent}{target} = {expr}"
    if len(line) <= WIDTH or "(" not in expr or not expr.endswith(")"):
        return line
    head, args = expr.split("(", 1)
    return f"{indent}{target} = {head}(\n{indent}{INDENT}{args[:-1]}\n{indent})"


def identifier(text: str) -> str:
    """`text` as a Python identifier: other characters become `_`, a leading digit gets `x_`."""
    name = "".join(c if c.isalnum() or c == "_" else "_" for c in text)
    return name if name.isidentifier() else f"x_{name}"


class Names:
    """Python names for the things a file defines (tensors, layers, classes), each the same
    on every call with its key, clear of `taken`, of keywords and of each other."""

    def __init__(self, taken: Iterable[str] = (), suffix: str = "_"):
        self.taken = set(taken)
        self.suffix = suffix
        self.names: dict[str, str] = {}

    def __call__(self, key: str, prefix: str = "", basis: str | None = None) -> str:
        """The name for `key`, made from `prefix` and `basis` (else the key)."""
        if key not in self.names:
            name = identifier(prefix + (key if basis is None else basis))
            while name in self.taken or keyword.iskeyword(name):
                name += self.suffix
            self.taken.add(name)
            self.names[key] = name
        return self.names[key]


def fill(template: str, **values: str) -> str:
    """`template` (the text of a valid .py file, so the linter checks it) with each
    `__NAME__` identifier replaced by values["NAME"]; a placeholder without a value is an
    error, never left in the file."""
    def value(match: re.Match) -> str:
        if match.group(1) not in values:
            raise KeyError(f"template placeholder __{match.group(1)}__ has no value")
        return values[match.group(1)]

    return re.sub(r"\b__([A-Z][A-Z0-9_]*)__\b", value, template)


def _text(obj: object) -> str:
    try:
        text = textwrap.dedent(inspect.getsource(obj)).rstrip()
    except (OSError, TypeError) as error:  # built in C, or defined where no file holds it
        raise RuntimeError(f"{obj.__module__}.{obj.__qualname__}: no source to copy "
                           f"({error})") from None
    if inspect.isclass(obj):
        return text
    start = re.search(rf"^(async\s+)?def {re.escape(obj.__name__)}\b", text, re.MULTILINE)
    if start is None:
        raise RuntimeError(f"{obj.__module__}.{obj.__qualname__} is not a def statement (a "
                           "lambda?): a written file can only copy functions and classes")
    # A function's decorators register it (`@layer`, `@optimizer`); the copy stands alone.
    return text[start.start():]


def _names_in(node: ast.expr) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _strip_annotations(text: str, known: frozenset[str]) -> str:
    """`text` without the parameter and return annotations that name anything outside
    `known`, cut at their positions in the syntax tree."""
    lines = text.split("\n")
    cuts: list[tuple[int, int, int, int]] = []  # (line, col) to (end line, end col), 1-based
    allowed = known | _BUILTINS
    for fn in ast.walk(ast.parse(text)):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        args = fn.args
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
            if arg is not None and arg.annotation is not None and not (
                    _names_in(arg.annotation) <= allowed):
                cuts.append((arg.lineno, arg.col_offset + len(arg.arg),
                             arg.annotation.end_lineno, arg.annotation.end_col_offset))
        if fn.returns is not None and not _names_in(fn.returns) <= allowed:
            line = lines[fn.returns.lineno - 1]
            arrow = line.rindex("->", 0, fn.returns.col_offset)
            start = len(line[:arrow].rstrip())
            cuts.append((fn.returns.lineno, start, fn.returns.end_lineno,
                         fn.returns.end_col_offset))
    # Positions count UTF-8 bytes; cut from the last so earlier positions stay valid.
    for line, col, end_line, end_col in sorted(cuts, reverse=True):
        first = lines[line - 1].encode()
        last = lines[end_line - 1].encode()
        joined = (first[:col] + last[end_col:]).decode()
        lines[line - 1:end_line] = [joined]
    return "\n".join(lines)


def definition(obj: object, name: str | None = None,
               known: Iterable[str] = FILE_NAMES) -> str:
    """The source of a function or class as written in its file, dedented, a function's
    decorators dropped, renamed to `name` when given, and every annotation naming something
    outside `known` (and builtins) removed."""
    text = _strip_annotations(_text(obj), frozenset(known))
    own = obj.__name__
    if name is not None and name != own:
        text = re.sub(rf"^((?:async\s+)?(?:def|class)\s+){re.escape(own)}\b", rf"\g<1>{name}",
                      text, count=1, flags=re.MULTILINE)
    return text


def _globals_read(text: str) -> set[str]:
    """The global names the definition in `text` reads (its symbol table's, every scope)."""
    out: set[str] = set()

    def visit(table: symtable.SymbolTable, top: bool) -> None:
        for sym in table.get_symbols():
            # At the top: a base class, a default value (the defined name is no read).
            if sym.is_referenced() and (top or sym.is_global()):
                out.add(sym.get_name())
        for child in table.get_children():
            visit(child, False)

    visit(symtable.symtable(text, "<copied>", "exec"), True)
    return out


def _module_globals(obj: object) -> dict:
    module = sys.modules.get(obj.__module__)
    return vars(module) if module is not None else {}


def definitions(objs: Iterable[object], known: Iterable[str] = FILE_NAMES
                ) -> dict[str, str]:
    """Name -> source (see `definition`) of `objs` and of every module-level function or class
    they reference, each before the definitions that read it; raises RuntimeError for a
    global that is neither defined so nor in `known` (a module, a constant), and for two
    different definitions of one name."""
    known = frozenset(known)
    order: dict[str, str] = {}
    chosen: dict[str, object] = {}

    def visit(obj: object, reader: str) -> None:
        name = obj.__name__
        if name in chosen:
            if chosen[name] is not obj:
                raise RuntimeError(f"{reader} needs two different definitions named {name!r}")
            return
        chosen[name] = obj
        text = definition(obj, known=known | {name})
        scope = _module_globals(obj)
        for used in sorted(_globals_read(text)):
            if used in known or used == name:
                continue
            value = scope.get(used, getattr(builtins, used, None))
            if value is getattr(builtins, used, object()):
                continue
            if inspect.isfunction(value) or inspect.isclass(value):
                visit(value, name)
            else:
                raise RuntimeError(f"{name} ({obj.__module__}) reads {used!r}, which a written "
                                   "file can neither copy nor import")
        order[name] = text

    for obj in objs:
        visit(obj, "the file")
    return order


__all__ = ["FILE_NAMES", "INDENT", "WIDTH", "Names", "assign", "call", "definition",
           "definitions", "fill", "identifier", "mapping"]
