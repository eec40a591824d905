"""`CompareConfig`: every setting of a comparison, validated on construction, serialisable to JSON."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from initlab import __version__
from initlab._checks import MAX_COUNT, choice, integer, number, seed as check_seed
from initlab._errors import ArgumentError, unknown_choice
from initlab.data import DATASETS
from initlab.init import canonical, check_dtype, initializer
from initlab.nn import ACTIVATIONS, HEADS, OPTIMIZERS
from initlab.nn.data_init import DATA_INITS

# The four schemes compared in Imad Dabbura's article (2018) and the deeplearning.ai Deep Learning
# Specialization (course 2 week 1): zeros, randn * 10, He, Xavier.
SOURCE_SCHEMES = ("zeros", "normal(std=10)", "he_normal", "xavier_normal")
CURVE_POINTS = 300  # recorded costs per curve when record_every is 0 (automatic)
MAX_SEEDS = 100_000  # seeds per scheme: each is a network trained and kept in memory with the others


def _dataset(argument: str, spec: str) -> str:
    name = spec.split(":", 1)[0].strip().lower()
    if name not in DATASETS:
        raise unknown_choice(argument, "dataset", spec, DATASETS)
    return spec


def _scheme(argument: str, spec: str, shape: tuple[int, ...]) -> str:
    """The canonical spec string, after building the scheme once (so bad arguments fail now)."""
    init = initializer(spec, argument=argument)
    try:
        init.geometry(shape)
    except ValueError as error:
        raise ArgumentError(argument, f"{error}") from None
    return str(init)


def _init(spec: str) -> str:
    """A weight scheme's canonical spec, or one of the NumPy engine's data inits ('lsuv', 'auto')."""
    if spec in DATA_INITS:
        return spec
    name = spec.split("(")[0].strip() if isinstance(spec, str) else None
    if name in DATA_INITS:
        raise ArgumentError("init", f"'{spec}': {name} takes no parameters here (lsuv stops at Mishkin & Matas's "
                            "|Var - 1| < 0.1; auto has nothing to set), got some")
    return _scheme("init", str(canonical(spec, "init")), (2, 2))


@dataclass(frozen=True)
class CompareConfig:
    """One comparison: the same data and network trained from several schemes x seeds.

    ``output="auto"`` picks sigmoid for 2 classes, softmax for more, linear for real-valued
    targets; ``record_every=0`` records about 300 points per curve. `note` is shown with the
    results (a preset uses it to say its data is a synthetic stand-in). The defaults are the
    experiment of ``--preset demo``: 400 circles points split 300 / 100, [2, 10, 5, 1] relu.

    >>> CompareConfig().n_samples, CompareConfig().test_fraction
    (400, 0.25)
    """

    data: str = "circles"
    test_data: str | None = None
    n_samples: int = 400
    noise: float | None = None
    image_size: int | None = None
    test_fraction: float = 0.25
    standardize: bool = False
    data_seed: int = 0
    hidden: tuple[int, ...] = (10, 5)
    activation: str = "relu"
    output: str = "auto"
    inits: tuple[str, ...] = SOURCE_SCHEMES
    bias_init: str = "zeros"
    seeds: int = 5
    first_seed: int = 0
    lr: float = 0.01
    iterations: int = 15000
    optimizer: str = "gd"
    batch_size: int | None = None
    dtype: str = "float64"
    record_every: int = 0
    note: str = ""
    labels: tuple[tuple[str, str], ...] = ()  # scheme -> shown label (e.g. the article's "Xavier")

    def __post_init__(self):
        # Canonical spec strings, so that 'glorot_normal' and 'xavier_normal' are the same scheme.
        inits = tuple(_init(spec) for spec in self.inits)
        if not inits:
            raise ArgumentError("init", "expected at least one scheme, got none")
        if len(set(inits)) != len(inits):
            raise ArgumentError("init", f"each scheme may appear once, got {list(inits)}")
        object.__setattr__(self, "inits", inits)
        object.__setattr__(self, "bias_init", _scheme("bias_init", self.bias_init, (2,)))
        object.__setattr__(self, "hidden", tuple(self.hidden))
        if not all(isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in self.hidden):
            raise ArgumentError("hidden", f"expected positive integers, got {list(self.hidden)}")
        if any(h > MAX_COUNT for h in self.hidden):
            raise ArgumentError("hidden", f"expected widths <= {MAX_COUNT}, got {list(self.hidden)}")
        _dataset("data", self.data)
        if self.test_data is not None:
            _dataset("test_data", self.test_data)
        choice("activation", self.activation, tuple(ACTIVATIONS))
        choice("output", self.output, (*HEADS, "auto"))
        choice("optimizer", self.optimizer, OPTIMIZERS)
        check_dtype(self.dtype)
        for name in ("n_samples", "seeds", "iterations"):
            integer(name, getattr(self, name))
        if self.seeds > MAX_SEEDS:
            raise ArgumentError("seeds", f"expected at most {MAX_SEEDS} seeds per scheme, got {self.seeds}")
        for name in ("first_seed", "data_seed"):
            check_seed(name, getattr(self, name))
        check_seed("first_seed", self.first_seed + self.seeds - 1)  # the last seed fits as well
        integer("record_every", self.record_every, minimum=0)
        for name in ("batch_size", "image_size"):
            if getattr(self, name) is not None:
                integer(name, getattr(self, name))
        if self.noise is not None:
            number("noise", self.noise, non_negative=True)
        if not isinstance(self.standardize, bool):
            raise ArgumentError("standardize", f"expected true or false, got {self.standardize!r}")
        number("lr", self.lr, positive=True)
        if not 0 <= number("test_fraction", self.test_fraction) < 1:
            raise ArgumentError("test_fraction", f"expected a number in [0, 1), got {self.test_fraction}")

    @property
    def record_interval(self) -> int:
        """Iterations between recorded costs (record_every, or about 300 points per curve)."""
        return self.record_every or max(1, self.iterations // CURVE_POINTS)

    @property
    def seed_list(self) -> range:
        return range(self.first_seed, self.first_seed + self.seeds)

    def label(self, init: str) -> str:
        return dict(self.labels).get(init, init)

    def replace(self, **changes) -> CompareConfig:
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict:
        document = dataclasses.asdict(self)
        document["hidden"] = list(self.hidden)
        document["inits"] = list(self.inits)
        document["labels"] = dict(self.labels)
        document["record_interval"] = self.record_interval
        document["initlab_version"] = __version__
        return document
