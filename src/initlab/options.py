"""Parsing of the small text formats used by command-line options (shapes, layer widths)."""

from __future__ import annotations

import re
from initlab._errors import ArgumentError


def parse_int_list(text: str, argument: str) -> tuple[int, ...]:
    """'400,25' -> (400, 25). Every item must be a positive integer.

    >>> parse_int_list("400, 25", "shape")
    (400, 25)
    """
    items = [item.strip() for item in str(text).split(",")]
    try:
        values = tuple(int(item) for item in items)
    except ValueError:
        values = None
    if not values or any(v <= 0 for v in values):
        raise ArgumentError(argument, f"expected comma-separated positive integers like '400,25', got '{text}'")
    return values


def parse_hidden(text: str, argument: str = "hidden") -> tuple[int, ...]:
    """Hidden layer widths: a comma list ('10,5') or WIDTHxDEPTH ('100x30' = 30 layers of 100).

    An empty string means no hidden layer (logistic regression).

    >>> parse_hidden("10,5"), parse_hidden("100x3"), parse_hidden("")
    ((10, 5), (100, 100, 100), ())
    """
    text = str(text).strip()
    if not text:
        return ()
    match = re.fullmatch(r"(\d+)\s*[xX]\s*(\d+)", text)
    if match:
        width, depth = int(match[1]), int(match[2])
        if width > 0 and depth > 0:
            return (width,) * depth
        raise ArgumentError(argument, f"expected WIDTHxDEPTH with positive numbers, got '{text}'")
    try:
        return parse_int_list(text, argument)
    except ValueError:
        raise ArgumentError(argument, f"expected positive integers like '10,5' or WIDTHxDEPTH like '100x30', "
                         f"got '{text}'") from None


def parse_factory(text: str, argument: str = "torch") -> tuple[str, str, dict]:
    """'module.path:factory' or 'module.path:factory(key=literal, ...)' -> (module, factory, kwargs).

    The keyword values are Python literals (numbers, strings, True/False/None, tuples, lists, dicts),
    read with `ast.literal_eval`: the text is never evaluated as code.

    >>> parse_factory("mymodels:build")
    ('mymodels', 'build', {})
    >>> parse_factory("examples.torch_models:mlp(depth=20, width=64, act='gelu')")
    ('examples.torch_models', 'mlp', {'depth': 20, 'width': 64, 'act': 'gelu'})
    >>> parse_factory("m:f(__import__('os').system('x'))")
    Traceback (most recent call last):
    ...
    initlab._errors.ArgumentError: torch: expected 'module.path:factory' or 'module.path:factory(key=value, ...)' with literal values, got "m:f(__import__('os').system('x'))"
    """
    import ast

    from initlab._errors import ArgumentError

    usage = ArgumentError(argument, "expected 'module.path:factory' or 'module.path:factory(key=value, ...)' "
                                    f"with literal values, got {str(text)!r}")
    module, colon, call = str(text).partition(":")
    if not colon or not module or not all(part.isidentifier() for part in module.split(".")):
        raise usage
    try:
        node = ast.parse(call.strip(), mode="eval").body
    except SyntaxError:
        raise usage from None
    if isinstance(node, ast.Name):
        return module, node.id, {}
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.args
            and all(k.arg is not None for k in node.keywords)):
        raise usage
    try:
        kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise usage from None
    return module, node.func.id, kwargs


def parse_tokens(text: str | None, argument: str = "data") -> int | None:
    """The vocabulary size of a token data spec 'tokens:VOCAB' (ids drawn uniformly from 0..VOCAB-1, for
    a torch model's embedding); None for any other spec.

    >>> parse_tokens("tokens:50257"), parse_tokens("circles"), parse_tokens(None)
    (50257, None, None)
    >>> parse_tokens("tokens:0")
    Traceback (most recent call last):
    ...
    initlab._errors.ArgumentError: data: expected 'tokens:VOCAB' with a positive integer VOCAB, got 'tokens:0'
    """
    if text is None or not str(text).startswith("tokens"):
        return None
    name, colon, vocab = str(text).partition(":")
    if name != "tokens" or not vocab.strip().isdigit() or int(vocab) < 1:
        raise ArgumentError(argument, f"expected 'tokens:VOCAB' with a positive integer VOCAB, got '{text}'")
    return int(vocab)
