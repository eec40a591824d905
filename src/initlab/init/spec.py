"""Spec strings: ``name`` or ``name(key=value, ...)``, parsed once and printed canonically.

A spec names a scheme and its arguments, e.g. ``he_normal``, ``normal(std=10)``,
``variance_scaling(scale=2, mode=fan_in, distribution=truncated_normal)``. Values are numbers
(always stored as float), booleans (``true``/``false``), bare words (``fan_in``) or tuples of
numbers (``out_axis=(1, 2)``). Positional values are allowed (``constant(0.5)``) and are named by
the scheme when it is resolved.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from initlab._errors import ArgumentError, ArgumentTypeError

Value = float | bool | str | tuple[float, ...]


@dataclass(frozen=True)
class Spec:
    """A parsed spec: a name and keyword arguments (positional ones keep ``None`` keys).

    >>> str(parse("normal( std = 10.0 )"))
    'normal(std=10)'
    >>> parse(str(parse("uniform(low=-0.5, high=1e-3)"))) == parse("uniform(low=-0.5, high=0.001)")
    True
    """

    name: str
    args: tuple[tuple[str | None, Value], ...] = ()

    def __str__(self) -> str:
        if not self.args:
            return self.name
        inner = ", ".join(format_value(v) if k is None else f"{k}={format_value(v)}" for k, v in self.args)
        return f"{self.name}({inner})"

    @property
    def kwargs(self) -> dict[str, Value]:
        return {k: v for k, v in self.args if k is not None}


def format_value(value: Value) -> str:
    """Shortest text that parses back to `value` (``10.0`` prints as ``10``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        inner = ", ".join(format_value(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value) and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    return str(value)


def parse(text: str, argument: str = "init") -> Spec:
    """Parse a spec string; syntax errors name `argument` and quote the text."""
    if not isinstance(text, str):
        raise ArgumentTypeError(argument, f"expected a spec string like 'he_normal' or 'normal(std=0.01)', "
                                          f"got {_described(text)}")
    source = text.strip()
    try:
        node = ast.parse(source, mode="eval").body
    except SyntaxError:
        raise _syntax_error(argument, text) from None
    if isinstance(node, ast.Name):
        return Spec(node.id)
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        raise _syntax_error(argument, text)
    args: list[tuple[str | None, Value]] = [(None, _literal(a, argument, text)) for a in node.args]
    for keyword in node.keywords:
        if keyword.arg is None:
            raise _syntax_error(argument, text)
        args.append((keyword.arg, _literal(keyword.value, argument, text)))
    return Spec(node.func.id, tuple(args))


def _described(value: object) -> str:
    """A one-line description of a non-string: its repr if short, else its type (and shape)."""
    text = repr(value)
    if "\n" not in text and len(text) <= 40:
        return text
    shape = getattr(value, "shape", None)
    return f"a value of type {type(value).__name__}" + (f" with shape {tuple(shape)}" if shape is not None else "")


def _literal(node: ast.expr, argument: str, text: str) -> Value:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _literal(node.operand, argument, text)
        if isinstance(inner, float):
            return -inner if isinstance(node.op, ast.USub) else inner
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool):
            return node.value
        if isinstance(node.value, (int, float)):
            try:
                value = float(node.value)
            except OverflowError:  # an integer literal too large for a float
                value = math.inf
            if math.isfinite(value):
                return value
            raise ArgumentError(argument, f"value '{ast.unparse(node)}' in '{text}' is not a finite number")
        if isinstance(node.value, str):
            return node.value
    elif isinstance(node, ast.Name):
        lowered = node.id.lower()
        return {"true": True, "false": False}.get(lowered, node.id)
    elif isinstance(node, ast.Tuple):
        items = tuple(_literal(item, argument, text) for item in node.elts)
        if all(isinstance(item, float) for item in items):
            return items
    raise ArgumentError(argument, f"value '{ast.unparse(node)}' in '{text}' is not a number, true/false, a word "
                                  "or a tuple of numbers")


def _syntax_error(argument: str, text: str) -> ArgumentError:
    return ArgumentError(argument, f"cannot parse '{text}'; expected 'name' or 'name(key=value, ...)', "
                      "e.g. 'he_normal' or 'normal(std=0.01)'")
