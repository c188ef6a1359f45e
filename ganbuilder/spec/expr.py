"""Two tiny safe grammars, parsed with `ast` and a whitelist (never `eval`).

- Parameter arithmetic inside `${...}`: numbers, names, + - * / // % **, parentheses and
  min, max, int, log2.
- Forward expressions: calls of networks or built-ins on tensor names, e.g. `D(concat(a, b))`.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Mapping
from dataclasses import dataclass

_BINOPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}


def _log2(x: float) -> float:
    """log2 that stays an integer for powers of two (layer counts from image sizes)."""
    if isinstance(x, int) and x > 0 and x & (x - 1) == 0:
        return x.bit_length() - 1
    return math.log2(x)


_FUNCS = {"min": min, "max": max, "int": int, "log2": _log2}


class ExprError(ValueError):
    """A malformed or unsafe expression; the message says what is wrong."""


def eval_arith(text: str, names: Mapping[str, object]) -> object:
    """Evaluate a `${...}` body against named values."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise ExprError(f"cannot parse expression '{text}'") from None
    return _arith(tree.body, names, text)


def _arith(node: ast.AST, names: Mapping[str, object], text: str) -> object:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in names:
            from ganbuilder.registry import did_you_mean

            raise ExprError(f"unknown parameter '{node.id}'{did_you_mean(node.id, set(names))}")
        return names[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left, right = _arith(node.left, names, text), _arith(node.right, names, text)
        if isinstance(node.op, ast.Pow) and isinstance(right, int | float) and abs(right) > 64:
            raise ExprError(f"exponent too large in '{text}'")
        try:
            return _BINOPS[type(node.op)](left, right)
        except (TypeError, ZeroDivisionError) as exc:
            raise ExprError(f"cannot evaluate '{text}': {exc}") from None
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_arith(node.operand, names, text))
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCS
        and not node.keywords
    ):
        return _FUNCS[node.func.id](*(_arith(a, names, text) for a in node.args))
    raise ExprError(f"'{text}' is not allowed: only numbers, parameters, + - * / // % ** "
                    "and min, max, int, log2")


@dataclass(frozen=True)
class Call:
    """`fn(args...)` in a forward expression; args are tensor names or nested calls."""

    fn: str
    args: tuple[Call | str, ...]

    def names(self) -> set[str]:
        """Every tensor name read, at any depth."""
        out: set[str] = set()
        for a in self.args:
            out |= a.names() if isinstance(a, Call) else {a}
        return out

    def calls(self) -> list[str]:
        """Every function (network or built-in) called, at any depth."""
        out = [self.fn]
        for a in self.args:
            if isinstance(a, Call):
                out += a.calls()
        return out


def parse_forward(text: str) -> Call | str:
    """Parse `G(z)`, `D(concat(a, b))` or a bare tensor name."""
    try:
        tree = ast.parse(str(text).strip(), mode="eval")
    except SyntaxError:
        raise ExprError(
            f"cannot parse '{text}'; expected e.g. 'G(z)' or 'D(concat(a, b))'"
        ) from None
    return _forward(tree.body, text)


def _forward(node: ast.AST, text: str) -> Call | str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        return Call(node.func.id, tuple(_forward(a, text) for a in node.args))
    raise ExprError(f"'{text}' is not allowed: only calls like 'G(z)' on tensor names")
