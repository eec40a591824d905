"""The scheme registry: one table maps names and aliases to scheme factories.

A scheme factory takes keyword arguments (the spec's ``key=value``) and returns a `Law`.
`initializer(spec)` looks the name up, binds and validates the arguments, and wraps the
law in an `Initializer`, the callable ``init(shape, rng, dtype=np.float64)``.

A scheme registered with ``fan_axes=True`` (every scheme whose formula reads the fans) also takes
``in_axis``, ``out_axis`` and ``batch_axis`` (`initlab.init.fans.FanAxes`, as JAX): an axis or a
tuple of axes, e.g. ``variance_scaling(in_axis=0, out_axis=(1, 2))``. They go to the `Initializer`,
not to the factory.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

from initlab._errors import ArgumentError, unknown_choice
from initlab.init.fans import AXIS_ARGUMENTS, FanAxes
from initlab.init.initializer import Initializer
from initlab.init.laws import Law
from initlab.init.spec import Spec, parse


@dataclass(frozen=True)
class Scheme:
    name: str
    factory: Callable[..., Law]
    aliases: tuple[str, ...]
    formula: str
    distribution: str
    source: str
    fan_axes: bool = False  # takes in_axis, out_axis, batch_axis (module doc)

    @property
    def parameters(self) -> tuple[inspect.Parameter, ...]:
        own = tuple(inspect.signature(self.factory).parameters.values())
        return own + (_AXIS_PARAMETERS if self.fan_axes else ())


_AXIS_PARAMETERS = tuple(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None)
                         for name in AXIS_ARGUMENTS)


SCHEMES: dict[str, Scheme] = {}
_BY_ALIAS: dict[str, str] = {}


def scheme(name: str, *, formula: str, distribution: str, source: str, aliases: tuple[str, ...] = (),
           fan_axes: bool = False):
    """Register the decorated factory under `name` and `aliases`."""
    def register(factory: Callable[..., Law]) -> Callable[..., Law]:
        # The table entry heads the docstring, so help(he_normal) shows formula and source.
        notes = inspect.cleandoc(factory.__doc__ or "")
        factory.__doc__ = (f"{formula}  ({distribution})\n\nSource: {source}."
                           + (f"\n\n{notes}" if notes else ""))
        for key in (name, *aliases):
            assert key not in _BY_ALIAS, f"scheme name registered twice: {key}"
            _BY_ALIAS[key] = name
        SCHEMES[name] = Scheme(name, factory, aliases, formula, distribution, source, fan_axes)
        return factory
    return register


def lookup(name: str, argument: str = "init") -> Scheme:
    """The scheme registered under `name` or one of its aliases."""
    if name not in _BY_ALIAS:
        raise unknown_choice(argument, "scheme", name, _BY_ALIAS, hint="see 'initlab schemes'")
    return SCHEMES[_BY_ALIAS[name]]


def canonical(spec: str | Spec, argument: str = "init") -> Spec:
    """Resolve aliases, name positional values, drop values equal to defaults, order as declared.

    >>> str(canonical("glorot_normal(gain=1)"))
    'xavier_normal'
    >>> str(canonical("kaiming_uniform(mode=fan_out, a=0.1)"))
    'he_uniform(a=0.1, mode=fan_out)'
    """
    parsed = spec if isinstance(spec, Spec) else parse(spec, argument)  # parse refuses non-strings
    found = lookup(parsed.name, argument)
    names = [p.name for p in found.parameters]
    given: dict[str, object] = {}
    positional = [v for k, v in parsed.args if k is None]
    if len(positional) > len(names):
        raise ArgumentError(argument, f"'{parsed}' gives {len(positional)} positional values; "
                         f"'{found.name}' takes at most {len(names)} ({', '.join(names) or 'none'})")
    given.update(zip(names, positional))
    for key, value in parsed.args:
        if key is None:
            continue
        if key not in names:
            expected = f"parameters: {', '.join(names)}" if names else "it takes no parameters"
            raise ArgumentError(argument, f"'{found.name}' has no parameter '{key}' ({expected})")
        if key in given:
            raise ArgumentError(argument, f"parameter '{key}' given twice in '{parsed}'")
        given[key] = value
    defaults = {p.name: p.default for p in found.parameters}
    args = tuple((k, given[k]) for k in names if k in given and not _same(given[k], defaults[k]))
    return Spec(found.name, args)


def initializer(spec: str | Spec | Initializer, layout: str = "numpy", argument: str = "init") -> Initializer:
    """The initializer for a spec: a callable ``init(shape, rng, dtype=np.float64) -> ndarray``.

    >>> init = initializer("he_normal")
    >>> init((400, 25), rng=0).shape
    (400, 25)
    >>> bool((init((400, 25), rng=0) == init((400, 25), rng=0)).all())
    True
    """
    if isinstance(spec, Initializer):
        return spec if spec.layout == layout else Initializer(spec.spec, spec.law, layout, spec.axes)
    resolved = canonical(spec, argument)
    kwargs = resolved.kwargs
    axes = {name: kwargs.pop(name) for name in AXIS_ARGUMENTS if name in kwargs}
    try:
        law = SCHEMES[resolved.name].factory(**kwargs)
        fan_axes = FanAxes.from_values(**axes) if axes else None
    except ValueError as error:
        raise ArgumentError(argument, f"'{str(spec).strip()}': {error}") from None
    return Initializer(resolved, law, layout, fan_axes)


def _same(value: object, default: object) -> bool:
    # Spec numbers are floats, so factories declare float defaults (0.0, not 0).
    return default is not inspect.Parameter.empty and type(value) is type(default) and value == default
