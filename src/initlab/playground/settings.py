"""`Settings`: what the playground page can set, validated (pydantic) with the playground's limits.

Defaults are those of `initlab train` (weights `he_normal`, seed 0) on the data, network, optimizer
and number of seeds of `initlab compare`'s defaults (`CompareConfig`, read here, so they cannot
drift). Limits keep a shared machine usable.
Construct with `Settings.create(...)` to get a one-line `ArgumentError` naming the field:

>>> Settings.create(init="normal(std=-1)")
Traceback (most recent call last):
...
initlab._errors.ArgumentError: init: 'normal(std=-1)': std: expected a positive number, got -1
>>> Settings.create(n_seeds=17)
Traceback (most recent call last):
...
initlab._errors.ArgumentError: n_seeds: expected at most 16, got 17
"""

from __future__ import annotations

import json
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from initlab._errors import ArgumentError
from initlab.experiments.config import CompareConfig

MAX_LAYERS, MAX_WIDTH, MAX_SAMPLES, MAX_SEEDS, MAX_SCHEMES = 8, 256, 2_000, 16, 4
MAX_SPEED = 1_000  # iterations per view update while playing
# Networks x points x weights per iteration: one iteration at this size takes ~0.1 s on 2 cores, so a pause
# or a change waits that long at most (an iteration cannot be interrupted). 16 seeds x 4 schemes of 8 layers of
# 256 on 2,000 points would be 588 times more: 30 s per iteration.
MAX_WORK = 100_000_000
MIN_SAMPLES = 20  # a 25% test split keeps at least 5 points
MAX_NOISE, MAX_LR = 2.0, 10.0  # blobs' default noise (cluster std) is 1.0; lr above 10 only diverges
DATASETS = ("circles", "moons", "xor", "spirals", "blobs", "gaussian")
NOISELESS = ("gaussian",)  # datasets without a noise setting
ECHO_CHARS = 80  # a value echoed in an error is cut to this many characters (a body may hold 64 KB of it)
_DEFAULT = CompareConfig()


def _spec(argument: str, spec: str, shape: tuple[int, ...]) -> str:
    """The canonical spec, after building the scheme once (initlab's own parser and checks)."""
    from initlab.init import initializer
    init = initializer(spec, argument=argument)
    init.geometry(shape)
    return str(init)


class Settings(BaseModel):
    """One playground setting (immutable; `replace` returns a new one)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    dataset: Literal[DATASETS] = _DEFAULT.data
    noise: float | None = Field(None, ge=0, le=MAX_NOISE)  # None: the dataset's own default
    n_samples: int = Field(_DEFAULT.n_samples, ge=MIN_SAMPLES, le=MAX_SAMPLES)
    hidden: tuple[int, ...] = Field(_DEFAULT.hidden, max_length=MAX_LAYERS)
    activation: str = _DEFAULT.activation
    init: str = "he_normal"  # `initlab train --init`'s default
    bias_init: str = _DEFAULT.bias_init
    compare: tuple[str, ...] = Field((), max_length=MAX_SCHEMES - 1)  # further schemes, side by side with `init`
    optimizer: Literal["gd", "momentum", "adam"] = _DEFAULT.optimizer
    lr: float = Field(_DEFAULT.lr, gt=0, le=MAX_LR)
    seed: int = Field(_DEFAULT.first_seed, ge=0, le=2**31 - MAX_SEEDS)
    n_seeds: int = Field(_DEFAULT.seeds, ge=1, le=MAX_SEEDS)
    speed: int = Field(10, ge=1, le=MAX_SPEED)  # iterations per view update while playing (no effect on numbers)

    @field_validator("hidden", mode="before")
    @classmethod
    def _widths(cls, value):
        value = tuple(value) if isinstance(value, list) else value
        if isinstance(value, tuple) and not all(type(w) is int and 1 <= w <= MAX_WIDTH for w in value):
            raise ValueError(f"expected widths from 1 to {MAX_WIDTH}, got {shown(value)}")
        return value

    @field_validator("activation")
    @classmethod
    def _activation(cls, value: str) -> str:
        from initlab.nn.activations import activation
        return activation(value).name

    @field_validator("init")
    @classmethod
    def _init(cls, value: str) -> str:
        return _spec("init", value, (2, 2))

    @field_validator("compare", mode="before")
    @classmethod
    def _compare_list(cls, value):
        return tuple(value) if isinstance(value, list) else value

    @field_validator("compare")
    @classmethod
    def _compare(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_spec("compare", spec, (2, 2)) for spec in value)

    @field_validator("bias_init")
    @classmethod
    def _bias_init(cls, value: str) -> str:
        return _spec("bias_init", value, (2,))

    @model_validator(mode="after")
    def _combinations(self):
        if self.noise is not None and self.dataset in NOISELESS:
            raise ArgumentError("noise", f"dataset '{self.dataset}' has no noise setting; leave it unset, "
                                         f"got {shown(self.noise)}")
        if len(set(self.inits)) != len(self.inits):  # as `initlab compare`: each scheme once
            raise ArgumentError("compare", f"expected schemes other than init and each other, got "
                                           f"{shown(self.compare)} with init {shown(self.init)}")
        if self.work > MAX_WORK:
            raise ArgumentError("work", f"expected at most {MAX_WORK:,} multiply-adds per iteration (networks x "
                                        f"points x weights); use fewer seeds, schemes, points or units, got "
                                        f"{len(self.inits) * self.n_seeds} x {self.n_samples} x {self.weights:,} = "
                                        f"{self.work:,}")
        return self

    @property
    def weights(self) -> int:
        """Weights of one network (every playground dataset has 2 features and 2 classes: one output)."""
        sizes = (2, *self.hidden, 1)
        return sum(a * b for a, b in zip(sizes, sizes[1:]))

    @property
    def work(self) -> int:
        """Networks x points x weights: the multiply-adds of one forward pass of every network (`MAX_WORK`)."""
        return len(self.inits) * self.n_seeds * self.n_samples * self.weights

    @property
    def inits(self) -> tuple[str, ...]:
        """Every scheme trained: `init` first, then `compare`'s."""
        return (self.init, *self.compare)

    @classmethod
    def create(cls, **values) -> Settings:
        """`Settings(**values)`, a refusal raised as a one-line `ArgumentError` naming the field."""
        try:
            return cls(**values)
        except ValidationError as error:
            raise as_argument_error(error) from None

    def replace(self, **changes) -> Settings:
        return Settings.create(**{**self.model_dump(), **changes})

    def config(self, iterations: int = 1) -> CompareConfig:
        """The `initlab compare` config of these settings (data, network, schemes and seeds)."""
        return CompareConfig(data=self.dataset, n_samples=self.n_samples, noise=self.noise, hidden=self.hidden,
                             activation=self.activation, inits=self.inits, bias_init=self.bias_init,
                             seeds=self.n_seeds, first_seed=self.seed, lr=self.lr, iterations=iterations,
                             optimizer=self.optimizer)


def shown(value) -> str:
    """A value as an error echoes it: a collection as JSON (the API's own form, whatever Python type it
    was converted to), anything else as its repr, cut to `ECHO_CHARS` with an ellipsis.

    >>> shown((10, 10)), shown(["zeros"]), shown("x" * 100)[-4:], len(shown("x" * 100)), shown([1] * 100)[-3:]
    ('[10, 10]', '["zeros"]', "xx…'", 80, ', …')
    """
    text = json.dumps(value, default=repr) if isinstance(value, (list, tuple, dict)) else repr(value)
    if len(text) <= ECHO_CHARS:
        return text
    return text[:ECHO_CHARS - 2] + "…" + text[0] if isinstance(value, str) else text[:ECHO_CHARS - 1] + "…"


def shortened(detail: str) -> str:
    """`detail` with every quoted value longer than `ECHO_CHARS` cut (initlab's parsers quote what they
    refuse, e.g. `unknown scheme 'xxx…'`), so a refusal stays one short line.

    >>> shortened("unknown scheme '" + "x" * 200 + "'; see 'initlab schemes'")[-28:]
    "xxx…'; see 'initlab schemes'"
    """
    return re.sub("'[^'\n]{%d,}'" % ECHO_CHARS, lambda m: m.group(0)[:ECHO_CHARS - 2] + "…'", detail)


def as_argument_error(error: ValidationError) -> ArgumentError:
    """The first problem of a pydantic error as initlab's one-line error: `field: message`, the value
    echoed at most `ECHO_CHARS` long."""
    problem = error.errors()[0]
    cause = problem.get("ctx", {}).get("error")
    if isinstance(cause, ArgumentError):  # initlab's own check, already one line with the value
        return ArgumentError(str(problem["loc"][0]) if problem["loc"] else cause.argument, shortened(cause.detail))
    field = str(problem["loc"][0]) if problem["loc"] else "settings"
    message = problem["msg"].removeprefix("Value error, ")
    if problem["type"] == "value_error":  # the widths check above: its message holds the value
        return ArgumentError(field, message)
    message = message[:1].lower() + message[1:]
    bound = {"less_than_equal": "le", "greater_than_equal": "ge", "greater_than": "gt"}.get(problem["type"])
    if bound:
        word = {"le": "at most", "ge": "at least", "gt": "more than"}[bound]
        message = f"expected {word} {problem['ctx'][bound]}"
    elif problem["type"] == "too_long":
        what = "hidden layers" if field == "hidden" else f"further schemes ({MAX_SCHEMES} in all)"
        message = f"expected at most {problem['ctx']['max_length']} {what}"
    return ArgumentError(field, shortened(f"{message}, got {shown(problem['input'])}"))
