"""Two tiny safe grammars, parsed with `ast` and a whitelist (never `eval`).

- Parameter arithmetic inside `${...}`: numbers, names, + - * / // % **, parentheses and
  min, max, int, log2.
- Forward expressions: calls of networks or built-ins on tensor names, e.g. `D(concat(a, b))`,
  arithmetic on tensors (`a + b`, `a - b`, `a * b`, `0.5 * a`, `a / 2`, `-a`, written as the
  built-ins add, mul and scale) and taps `fake.w` (the layer `w` of the call that made `fake`).
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
_SYMBOLS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
            ast.Mod: "%", ast.Pow: "**"}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}

# Every value a spec computes ends up in a tensor size, a count or a hyperparameter, all of
# which torch keeps in 64 bits; bounding each intermediate value (not only the result) also
# keeps `2**(2**30)` from taking seconds and gigabytes before failing.
INT_BITS = 63
MAX_TEXT = 1000


def _log2(x: float) -> float:
    """log2 that stays an integer for powers of two (layer counts from image sizes)."""
    if x <= 0:
        raise ValueError(f"log2 needs a number > 0, got {x}")
    if isinstance(x, int) and x & (x - 1) == 0:
        return x.bit_length() - 1
    return math.log2(x)


def _int(x: float) -> int:
    if math.isnan(x) or math.isinf(x):
        raise ValueError(f"int needs a finite number, got {x}")
    return int(x)


# name -> (function, fewest arguments, most arguments or None for any number)
_FUNCS = {"min": (lambda *a: min(a), 1, None), "max": (lambda *a: max(a), 1, None),
          "int": (_int, 1, 1), "log2": (_log2, 1, 1)}


class ExprError(ValueError):
    """A malformed or unsafe expression; the message says what is wrong."""


class FollowOnError(ExprError):
    """The expression reads a name whose own `${...}` failed (and was reported) and so still
    holds its text; callers leave the value as it is and say nothing more."""


def check_number(value: object, text: str) -> object:
    """`value` unchanged if it is a number a spec may hold: an int within 64 bits, a finite
    float. Raise ExprError otherwise."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and not -(2**INT_BITS) <= value < 2**INT_BITS:
        raise ExprError(f"'{text}' makes an integer beyond 64 bits ({value.bit_length()} bits)")
    if isinstance(value, float) and not math.isfinite(value):
        raise ExprError(f"'{text}' makes {value}, not a finite number")
    if isinstance(value, complex):
        raise ExprError(f"'{text}' makes a complex number")
    return value


def eval_arith(text: str, names: Mapping[str, object]) -> object:
    """Evaluate a `${...}` body against named values."""
    if len(text) > MAX_TEXT:
        raise ExprError(f"expression longer than {MAX_TEXT} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError):  # ValueError: a NUL character in the text
        raise ExprError(f"cannot parse expression '{text}'") from None
    except (RecursionError, MemoryError):
        raise ExprError(f"expression '{text}' is nested too deeply") from None
    try:
        return _arith(tree.body, names, text)
    except RecursionError:
        raise ExprError(f"expression '{text}' is nested too deeply") from None


def _operand(value: object, symbol: str, text: str) -> int | float:
    """Operators and functions take numbers only: `'ab' * 10**9` must not build a string."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ExprError(f"cannot evaluate '{text}': {symbol} needs numbers, got {value!r}")
    return value


def _power(base: int | float, exp: int | float, text: str) -> int | float:
    # Estimate the size before computing: the result has about exp * log2|base| bits.
    if isinstance(base, int) and isinstance(exp, int) and exp > 0 and abs(base) > 1 and (
            exp * (abs(base).bit_length() - 1) > INT_BITS):
        raise ExprError(f"'{text}' makes an integer beyond 64 bits")
    result = base ** exp
    if isinstance(result, complex):
        raise ExprError(f"cannot evaluate '{text}': a negative number to a fractional power")
    return result


def _arith(node: ast.AST, names: Mapping[str, object], text: str) -> object:
    try:
        return check_number(_node(node, names, text), text)
    except ExprError:
        raise
    except OverflowError:
        raise ExprError(f"cannot evaluate '{text}': the result is too large") from None
    except (ArithmeticError, ValueError, TypeError) as exc:  # 1/0, 0 ** -1
        raise ExprError(f"cannot evaluate '{text}': {exc}") from None


def _node(node: ast.AST, names: Mapping[str, object], text: str) -> object:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(
            node.value, bool):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in names:
            from ganbuilder.registry import did_you_mean

            raise ExprError(f"unknown parameter '{node.id}'{did_you_mean(node.id, set(names))}")
        value = names[node.id]
        if isinstance(value, str) and "${" in value:
            raise FollowOnError(f"'{node.id}' did not evaluate")
        return value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        symbol = _SYMBOLS[type(node.op)]
        left = _operand(_arith(node.left, names, text), symbol, text)
        right = _operand(_arith(node.right, names, text), symbol, text)
        if isinstance(node.op, ast.Pow):
            return _power(left, right, text)
        return _BINOPS[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        operand = _operand(_arith(node.operand, names, text), "unary -/+", text)
        return _UNARY[type(node.op)](operand)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCS
        and not node.keywords
    ):
        fn, fewest, most = _FUNCS[node.func.id]
        if len(node.args) < fewest or (most is not None and len(node.args) > most):
            count = f"{fewest}" if fewest == most else f"at least {fewest}"
            raise ExprError(f"cannot evaluate '{text}': {node.func.id} takes {count} "
                            f"argument{'s' if fewest != 1 else ''}, got {len(node.args)}")
        args = [_operand(_arith(a, names, text), node.func.id, text) for a in node.args]
        return fn(*args)
    raise ExprError(f"'{text}' is not allowed: only numbers, parameters, + - * / // % ** "
                    "and min, max, int, log2")




@dataclass(frozen=True)
class Tap:
    """`fake.w` in a forward expression: the output of the layer with id `layer` in the network
    call that computed the forward tensor `tensor`, from the same pass."""

    tensor: str
    layer: str

    def names(self) -> set[str]:
        return {self.tensor}

    def calls(self) -> list[str]:
        return []

    def __str__(self) -> str:
        return f"{self.tensor}.{self.layer}"


@dataclass(frozen=True)
class Call:
    """`fn(args...)` in a forward expression; args are tensor names, taps, nested calls or (for
    `scale` and `affine`) numbers."""

    fn: str
    args: tuple[Call | Tap | str | float, ...]

    def names(self) -> set[str]:
        """Every tensor name read, at any depth."""
        out: set[str] = set()
        for a in self.args:
            if isinstance(a, str):
                out.add(a)
            elif isinstance(a, Call | Tap):
                out |= a.names()
        return out

    def calls(self) -> list[str]:
        """Every function (network or built-in) called, at any depth."""
        out = [self.fn]
        for a in self.args:
            if isinstance(a, Call):
                out += a.calls()
        return out

    def taps(self) -> list[Tap]:
        """Every tap read, at any depth."""
        out: list[Tap] = []
        for a in self.args:
            if isinstance(a, Tap):
                out.append(a)
            elif isinstance(a, Call):
                out += a.taps()
        return out


Forward = Call | Tap | str


def parse_forward(text: str) -> Forward:
    """Parse `G(z)`, `D(concat(a, b))`, `(a + b) * 0.5`, `fake.w` or a bare tensor name."""
    if len(str(text)) > MAX_TEXT:
        raise ExprError(f"expression longer than {MAX_TEXT} characters")
    try:
        out = _forward(ast.parse(str(text).strip(), mode="eval").body, text)
    except (SyntaxError, ValueError) as exc:  # ValueError: a NUL character in the text
        if isinstance(exc, ExprError):
            raise
        raise ExprError(
            f"cannot parse '{text}'; expected e.g. 'G(z)' or 'D(concat(a, b))'"
        ) from None
    except (RecursionError, MemoryError):
        raise ExprError(f"expression '{text}' is nested too deeply") from None
    if isinstance(out, float):
        raise ExprError(f"'{text}' is a number; a forward tensor is computed from tensors")
    return out


def _number(node: ast.AST) -> float | None:
    """The value of a constant number (bools are not numbers here)."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return float(node.value)
    return None


def _forward(node: ast.AST, text: str) -> Forward | float:
    if isinstance(node, ast.Name):
        return node.id
    number = _number(node)
    if number is not None:
        return number
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return Tap(node.value.id, node.attr)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        return Call(node.func.id, tuple(_forward(a, text) for a in node.args))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _forward(node.operand, text)
        sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
        return sign * value if isinstance(value, float) else Call("scale", (value, sign))
    if isinstance(node, ast.BinOp) and type(node.op) in (ast.Add, ast.Sub, ast.Mult, ast.Div):
        return _tensor_op(node.op, _forward(node.left, text), _forward(node.right, text), text)
    raise ExprError(f"'{text}' is not allowed: only calls like 'G(z)' on tensor names, "
                    "+ - * / and taps like 'fake.w'")


def _tensor_op(op: ast.operator, left: Forward | float, right: Forward | float,
               text: str) -> Forward | float:
    """A binary operation as the built-ins add, mul and scale (numbers fold)."""
    numbers = isinstance(left, float), isinstance(right, float)
    if all(numbers):
        if isinstance(op, ast.Div) and right == 0:
            raise ExprError(f"cannot evaluate '{text}': division by zero")
        return _BINOPS[type(op)](left, right)
    if isinstance(op, ast.Add | ast.Sub):
        if any(numbers):
            raise ExprError(f"'{text}': a number cannot be added to a tensor; add a tensor, or "
                            "scale one")
        if isinstance(op, ast.Sub):
            right = Call("scale", (right, -1.0))
        return Call("add", (left, right))
    if isinstance(op, ast.Div):
        if not numbers[1]:
            raise ExprError(f"'{text}': a tensor can be divided by a number only")
        if right == 0:
            raise ExprError(f"cannot evaluate '{text}': division by zero")
        return Call("scale", (left, 1.0 / right))
    if numbers[0]:
        return Call("scale", (right, left))
    if numbers[1]:
        return Call("scale", (left, right))
    return Call("mul", (left, right))
