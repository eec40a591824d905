"""`CompareConfig`: every setting of a comparison, validated on construction, serialisable to JSON."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from initlab import __version__
from initlab.data import DATASETS
from initlab.init import canonical, check_dtype
from initlab.init.checks import number
from initlab.nn import ACTIVATIONS, HEADS, OPTIMIZERS
from initlab._errors import unknown_choice

# The four schemes of the source documents: zeros, randn * 10, He, Xavier.
SOURCE_SCHEMES = ("zeros", "normal(std=10)", "he_normal", "xavier_normal")


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return value


@dataclass(frozen=True)
class CompareConfig:
    """One comparison: the same data and network trained from several schemes x seeds.

    ``output="auto"`` picks sigmoid for 2 classes, softmax for more, linear for real-valued
    targets; ``record_every=0`` records about 300 points per curve.
    """

    data: str = "circles"
    test_data: str | None = None
    n_samples: int = 300
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
    title: str = ""
    labels: tuple[tuple[str, str], ...] = field(default=())  # scheme -> shown label (e.g. the article's "Xavier")

    def __post_init__(self):
        # Canonical spec strings, so that 'glorot_normal' and 'xavier_normal' are the same scheme.
        inits = tuple(str(canonical(spec, "init")) for spec in self.inits)
        if not inits:
            raise ValueError("init: expected at least one scheme, got none")
        if len(set(inits)) != len(inits):
            raise ValueError(f"init: each scheme may appear once, got {list(inits)}")
        object.__setattr__(self, "inits", inits)
        object.__setattr__(self, "bias_init", str(canonical(self.bias_init, "bias_init")))
        object.__setattr__(self, "hidden", tuple(self.hidden))
        if not all(isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in self.hidden):
            raise ValueError(f"hidden: expected positive integers, got {list(self.hidden)}")
        if self.data.split(":", 1)[0] not in DATASETS:
            raise unknown_choice("data", "dataset", self.data, DATASETS)
        if self.activation not in ACTIVATIONS:
            raise unknown_choice("activation", "activation", self.activation, ACTIVATIONS)
        if self.output != "auto" and self.output not in HEADS:
            raise unknown_choice("output", "output", self.output, (*HEADS, "auto"))
        if self.optimizer not in OPTIMIZERS:
            raise unknown_choice("optimizer", "optimizer", self.optimizer, OPTIMIZERS)
        check_dtype(self.dtype)
        for name in ("n_samples", "seeds", "iterations"):
            _positive_int(name, getattr(self, name))
        if isinstance(self.first_seed, bool) or not isinstance(self.first_seed, int) or self.first_seed < 0:
            raise ValueError(f"seed: expected a non-negative integer, got {self.first_seed!r}")
        if self.batch_size is not None:
            _positive_int("batch_size", self.batch_size)
        if not isinstance(self.record_every, int) or self.record_every < 0:
            raise ValueError(f"record_every: expected a non-negative integer, got {self.record_every!r}")
        number("lr", self.lr, positive=True)
        if not 0 <= number("test_fraction", self.test_fraction) < 1:
            raise ValueError(f"test_fraction: expected a number in [0, 1), got {self.test_fraction}")
        if self.record_every == 0:
            object.__setattr__(self, "record_every", max(1, self.iterations // 300))

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
        document["initlab_version"] = __version__
        return document
