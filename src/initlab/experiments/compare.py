"""Run a comparison: load the data once, train every scheme x seed, summarise.

spec -> plan -> run -> results: `run_compare(config)` returns a `CompareResult` whose
`to_json()` is the document `initlab compare --json` prints and `results.json` holds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from initlab._checks import features, targets
from initlab._errors import ArgumentError
from initlab.data import GENERATED, load, load_labelled, standardize, train_test_split
from initlab.experiments import footprint
from initlab.experiments.boundary import decision_surface, extent
from initlab.experiments.config import CompareConfig
from initlab._random import as_generator
from initlab.nn import MLP, TrainResult, train, data_init
from initlab.nn.ensemble import train_many
from initlab.nn.steps import SampleSpaceSteps
from initlab.summary import summary_row


@dataclass(frozen=True)
class Dataset:
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    def __post_init__(self):
        """Finite real inputs, one label or target per row, a test set as wide as the training set
        (it may be empty): checked here, so `run_compare(config, data)` refuses bad arrays up front."""
        X_train = features("X_train", self.X_train)
        targets("y_train", self.y_train, len(X_train))
        X_test = np.asarray(self.X_test)
        if not (X_test.ndim == 2 and X_test.shape == (0, X_train.shape[1])):
            X_test = features("X_test", X_test, X_train.shape[1])
        targets("y_test", self.y_test, len(X_test))

    @property
    def n_features(self) -> int:
        return self.X_train.shape[1]


@dataclass
class Run:
    init: str
    seed: int
    result: TrainResult
    wall_time: float
    net: MLP | None = field(default=None, repr=False, compare=False)  # the trained network

    def to_json(self) -> dict:
        r = self.result
        return {"init": self.init, "seed": self.seed, "final_cost": finite_or_none(r.final_cost),
                "train_accuracy": r.train_accuracy, "test_accuracy": r.test_accuracy,
                "diverged": r.diverged, "diverged_at": r.diverged_at, "sample_space": r.sample_space,
                "wall_time": round(self.wall_time, 4),
                "cost_history": [[i, finite_or_none(c)] for i, c in r.cost_history],
                **({"head": self.net.head.name} if self.net is not None else {})}


@dataclass
class CompareResult:
    config: CompareConfig
    data: Dataset
    runs: list[Run] = field(default_factory=list)
    models: dict[str, MLP] = field(default_factory=dict)  # the first seed's trained network per scheme

    @property
    def shows_boundaries(self) -> bool:
        """Decision boundaries are drawn for 2-D inputs with a classification output."""
        net = next(iter(self.models.values()))
        return self.data.n_features == 2 and net.head.name != "linear"

    @property
    def title(self) -> str:
        config, net = self.config, next(iter(self.models.values()))
        sizes = net.layer_sizes
        layers = str(sizes) if len(sizes) <= 8 else f"[{sizes[0]}, {sizes[1]} x {len(sizes) - 2}, {sizes[-1]}]"
        return (f"{config.data}: {len(self.data.y_train)} train / {len(self.data.y_test)} test, layers "
                f"{layers} {config.activation} -> {net.head.name}, {config.optimizer} lr {config.lr:g}, "
                f"{config.iterations} iterations, {config.dtype}")

    def summary(self) -> list[dict]:
        """One row per scheme: mean ± std and median [min, max] over the seeds (`initlab.summary`)."""
        records = [run.to_json() for run in self.runs]
        return [summary_row([r for r in records if r["init"] == init], label=self.config.label(init), init=init)
                for init in self.config.inits]

    def to_json(self) -> dict:
        """The result document. With 2-D inputs and a classification output it also holds the training
        points ("train_points": X and y) and each run's decision surface ("boundary", see
        `initlab.experiments.boundary`; not for diverged runs), so a report can draw every seed."""
        runs = [run.to_json() for run in self.runs]
        document = {"config": self.config.to_json(), "title": self.title if self.runs else "", "runs": runs,
                    "summary": self.summary()}
        if self.runs and self.shows_boundaries:
            box = extent(self.data.X_train)
            for record, run in zip(runs, self.runs):
                if run.net is not None and not run.result.diverged:
                    record["boundary"] = decision_surface(run.net, box)
            document["train_points"] = {"X": np.round(self.data.X_train, 6).tolist(),
                                        "y": self.data.y_train.tolist()}
        return document


def load_dataset(config: CompareConfig, max_memory=None) -> Dataset:
    """The training and test data of `config`, with labels checked against the output layer.

    The test set is, in order of preference: for a generated `test_data` equal to `data`, more
    points drawn together with the training set (so they share e.g. the blob centres) and split
    off; another `test_data` spec, its labels expressed in the training set's classes; else a
    stratified `test_fraction` split of the training data.
    """
    footprint.check_data(config, max_memory)
    data_seed, split_seed, test_seed = np.random.SeedSequence(config.data_seed).spawn(3)
    options = dict(noise=config.noise, image_size=config.image_size, max_memory=max_memory)
    generated = config.data.split(":", 1)[0].strip().lower() in GENERATED
    if config.test_data and config.test_data == config.data and generated:
        X, y = load(config.data, n_samples=2 * config.n_samples, seed=np.random.default_rng(data_seed), **options)
        X_train, y_train, X_test, y_test = train_test_split(X, y, 0.5, seed=np.random.default_rng(split_seed))
    elif config.test_data:
        X_train, y_train, classes = load_labelled(config.data, n_samples=config.n_samples,
                                                  seed=np.random.default_rng(data_seed), **options)
        X_test, y_test, _ = load_labelled(config.test_data, n_samples=config.n_samples,
                                          seed=np.random.default_rng(test_seed), classes=classes, **options)
        if X_test.shape[1] != X_train.shape[1]:
            raise ArgumentError("test_data", f"expected {X_train.shape[1]} features like the training data, "
                             f"got {X_test.shape[1]} in '{config.test_data}'")
    else:
        X, y = load(config.data, n_samples=config.n_samples, seed=np.random.default_rng(data_seed), **options)
        X_train, y_train, X_test, y_test = train_test_split(X, y, config.test_fraction,
                                                            seed=np.random.default_rng(split_seed))
    if config.standardize:
        X_train, X_test = standardize(X_train, X_test)
    data = Dataset(X_train, y_train, X_test, y_test)
    check_targets(config, data)
    return data


def output_layer(config: CompareConfig, y: np.ndarray) -> tuple[str, int]:
    """The output head and width: from the config, or inferred from the targets ('auto')."""
    is_classes = np.issubdtype(y.dtype, np.integer)
    n_classes = int(y.max()) + 1 if is_classes and len(y) else 0
    output = config.output
    if output == "auto":
        output = "linear" if not is_classes else "sigmoid" if n_classes <= 2 else "softmax"
    if output == "sigmoid":
        return output, 1
    if output == "softmax":
        return output, max(n_classes, 2)
    return output, 1 if y.ndim == 1 else y.shape[1]


def build_model(config: CompareConfig, data: Dataset, init: str, seed: int | np.random.Generator) -> MLP:
    """The network of `config` initialised with `init`: a scheme, or 'lsuv' (calibrated on the training
    inputs) or 'auto' (`initlab.nn.data_init`)."""
    output, width = output_layer(config, data.y_train)
    rng = as_generator(seed, "seed")  # a Generator passes through unchanged: one stream for weights and biases
    net = MLP([data.n_features, *config.hidden, width], activation=config.activation, output=output,
              init=data_init.BASE.get(init, init), bias_init=config.bias_init, seed=rng, dtype=config.dtype)
    return data_init.initialise(net, init, data.X_train, rng) if init in data_init.DATA_INITS else net


def check_targets(config: CompareConfig, data: Dataset) -> None:
    """Raise ValueError if the labels do not fit the output layer (before any training). The probe
    has no hidden layer: only its output head and width matter, and it allocates nothing large."""
    output, width = output_layer(config, data.y_train)
    probe = MLP([data.n_features, width], output=output, init="zeros", dtype=config.dtype)
    if np.issubdtype(data.y_train.dtype, np.integer):
        n_classes = len(np.unique(data.y_train))
        if n_classes < 2:
            raise ArgumentError("data", f"'{config.data}' has a single class in its training labels; need at least 2")
        if probe.head.name == "sigmoid" and n_classes > 2:
            raise ArgumentError("output", f"sigmoid separates 2 classes, but '{config.data}' has {n_classes}; "
                             "use softmax (or auto)")
    probe.check_targets(data.y_train, "data")
    if len(data.y_test):
        probe.check_targets(data.y_test, "test_data")


def run_compare(config: CompareConfig, data: Dataset | None = None,
                on_run: Callable[[Run], None] | None = None,
                on_iterations: Callable[[int], None] | None = None,
                seeds: Sequence[int] | None = None, ensemble: bool | None = None,
                max_memory: str | int | None = None) -> CompareResult:
    """Train every scheme in `config.inits` with every seed of `config.seed_list` on the same data.

    Full-batch runs are trained together as one ensemble (`initlab.nn.ensemble.train_many`)
    unless `ensemble=False` or the first layer is trained in sample space (wide inputs, see
    `initlab.nn.steps`); each run's `wall_time` is then its share of the ensemble's time.
    `seeds` replaces `config.seed_list` (a resumed sweep runs only the missing ones); a run's
    numbers depend only on its config and seed, not on which other runs are trained with it.
    `on_run` receives each finished run; `on_iterations` the number of iterations just done (progress).
    A comparison whose memory estimate (`initlab.experiments.footprint`) is above `max_memory`
    (`initlab.memory.budget`: half the RAM by default) is refused before any network is built.
    """
    data = load_dataset(config, max_memory) if data is None else data
    seed_list = config.seed_list if seeds is None else seeds
    output, width = output_layer(config, data.y_train)
    footprint.check_runs(config, [data.n_features, *config.hidden, width], len(data.X_train), len(data.X_test),
                         len(config.inits) * len(seed_list), max_memory)
    result = CompareResult(config, data)
    jobs, nets, batch_seeds = [], [], []
    for init in config.inits:
        for seed in seed_list:
            # Independent streams for the weights and the minibatch order of this seed.
            weights_seed, batches_seed = np.random.SeedSequence(seed).spawn(2)
            jobs.append((init, seed))
            nets.append(build_model(config, data, init, np.random.default_rng(weights_seed)))
            batch_seeds.append(batches_seed)
    if not jobs:
        return result
    if ensemble is None:
        ensemble = _ensemble_applies(config, data, nets[0])
    if ensemble:
        start = time.perf_counter()
        trained = train_many(nets, data.X_train, data.y_train, lr=config.lr, iterations=config.iterations,
                             optimizer=config.optimizer, record_every=config.record_interval,
                             X_test=data.X_test, y_test=data.y_test,
                             on_iterations=None if on_iterations is None else lambda k: on_iterations(k * len(nets)))
        share = (time.perf_counter() - start) / len(nets)
        runs = [Run(init, seed, outcome, share, net) for (init, seed), outcome, net in zip(jobs, trained, nets)]
    else:
        runs = (_train_one(config, data, net, init, seed, batches_seed, on_iterations)
                for (init, seed), net, batches_seed in zip(jobs, nets, batch_seeds))
    for run, net in zip(runs, nets):
        result.runs.append(run)
        result.models.setdefault(run.init, net)
        if on_run is not None:
            on_run(run)
    return result


def _ensemble_applies(config: CompareConfig, data: Dataset, net: MLP) -> bool:
    n_samples = len(data.X_train)
    full_batch = config.batch_size is None or config.batch_size >= n_samples
    return full_batch and not SampleSpaceSteps.applies(net, n_samples, config.optimizer, config.batch_size)


def _train_one(config: CompareConfig, data: Dataset, net: MLP, init: str, seed: int,
               batches_seed: np.random.SeedSequence, on_iterations: Callable[[int], None] | None) -> Run:
    start = time.perf_counter()
    done = [0]

    def advance(iteration: int, cost: float) -> None:
        if on_iterations is not None:
            on_iterations(iteration - done[0])
        done[0] = iteration

    trained = train(net, data.X_train, data.y_train, lr=config.lr, iterations=config.iterations,
                    optimizer=config.optimizer, batch_size=config.batch_size,
                    record_every=config.record_interval, X_test=data.X_test, y_test=data.y_test,
                    seed=np.random.default_rng(batches_seed), on_record=advance)
    if on_iterations is not None:
        on_iterations(config.iterations - done[0])  # a diverged run skips its remaining iterations
    return Run(init, seed, trained, time.perf_counter() - start, net)


def finite_or_none(value: float | None) -> float | None:
    """JSON has no NaN or infinity: non-finite numbers become null."""
    return value if value is not None and math.isfinite(value) else None
