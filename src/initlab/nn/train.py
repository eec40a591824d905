"""The training loop: read it top to bottom. Full-batch gradient descent by default, as in the
initialization exercises of Andrew Ng's and the deeplearning.ai courses."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from initlab._errors import ArgumentError
from initlab._random import as_generator
from initlab._checks import integer, number
from initlab.nn.mlp import MLP
from initlab.nn.optimizers import optimizer as make_optimizer
from initlab.nn.steps import DirectSteps, SampleSpaceSteps
from initlab.nn.target import NO_TARGET, Target


@dataclass
class TrainResult:
    """What one training run produced. Costs are floats; a non-finite cost ends the run."""

    cost_history: list[tuple[int, float]] = field(default_factory=list)
    final_cost: float | None = None
    train_accuracy: float | None = None
    test_accuracy: float | None = None
    diverged: bool = False
    diverged_at: int | None = None
    sample_space: bool = False  # whether the first layer was trained in sample space (see steps.py)
    target_reached_at: int | None = None  # the recorded iteration where the run's Target was met (it stopped there)


def train(net: MLP, X: np.ndarray, y: np.ndarray, *, lr: float = 0.01, iterations: int = 1000,
          optimizer: str = "gd", batch_size: int | None = None, record_every: int = 10,
          X_test: np.ndarray | None = None, y_test: np.ndarray | None = None, seed: int = 0,
          on_record: Callable[[int, float], None] | None = None,
          sample_space: bool | None = None, target: Target | None = None) -> TrainResult:
    """Train `net` in place and return its cost history and accuracies.

    The cost is recorded before the update of every `record_every`-th iteration and once more
    after the last one (at ``iterations``). With `batch_size`, each iteration is one minibatch
    update (batches reshuffled every epoch from `seed`) and recorded costs are full-data costs.
    A non-finite cost stops training and marks the run ``diverged`` at that iteration. A `target`
    (`initlab.nn.target`) stops it at the first recorded iteration where it is met
    (``target_reached_at``; None if never).

    `sample_space` (None = automatic) carries the first layer's full-batch gd/momentum updates
    in sample space when the input is at least twice as wide as the batch (see `SampleSpaceSteps`).

    >>> from initlab.nn import MLP
    >>> X = np.array([[0., 0], [0, 1], [1, 0], [1, 1]]); y = np.array([0, 1, 1, 0])
    >>> result = train(MLP([2, 8, 1], "tanh", init="zeros"), X, y, lr=0.5, iterations=100)
    >>> bool(result.final_cost == np.log(2)), result.train_accuracy
    (True, 0.5)
    """
    lr = number("lr", lr, positive=True)
    iterations = integer("iterations", iterations)
    record_every = integer("record_every", record_every)
    batch_size = None if batch_size is None else integer("batch_size", batch_size)
    X, y, X_test, y_test = net.check_data(X, y, X_test, y_test)
    make_optimizer(optimizer, [], lr)  # validates the name before any work
    target = NO_TARGET if target is None else target
    target.check_head(net.head.name)
    if sample_space is None:
        sample_space = SampleSpaceSteps.applies(net, len(X), optimizer, batch_size)
    if sample_space:
        if not SampleSpaceSteps.supports(len(X), optimizer, batch_size):
            raise ArgumentError("sample_space", f"needs full-batch gd or momentum, got optimizer={optimizer!r}, "
                             f"batch_size={batch_size}")
        steps = SampleSpaceSteps(net, X, y, optimizer, lr)
    else:
        steps = DirectSteps(net, X, y, optimizer, lr, _batches(len(X), batch_size, as_generator(seed, "seed")))
    result = TrainResult(sample_space=bool(sample_space))

    def record(iteration: int, cost: float) -> None:
        result.cost_history.append((iteration, cost))
        if on_record is not None:
            on_record(iteration, cost)

    # Overflow is expected from bad inits: it is detected below and reported as divergence.
    with np.errstate(over="ignore", invalid="ignore"):
        diverged_at, reached_at = _loop(steps, iterations, record_every, record, target)
        steps.finish()
        if diverged_at is not None:
            result.diverged, result.diverged_at = True, diverged_at
            return result
        result.target_reached_at = reached_at
        finish(net, X, y, X_test, y_test, iterations if reached_at is None else reached_at, result, record, target)
    return result


def finish(net: MLP, X, y, X_test, y_test, iterations: int, result: TrainResult, record,
           target: Target = NO_TARGET) -> None:
    """After the last update: the final cost (recorded at `iterations`, unless the run stopped there at its
    target: `result.target_reached_at` set, that cost already recorded) and the accuracies; a target
    first met by the final cost is reached at `iterations`."""
    z = net.logits(X)
    result.final_cost = net.head.loss(z, y)
    if result.target_reached_at is None:
        record(iterations, result.final_cost)
    if not math.isfinite(result.final_cost):
        result.diverged, result.diverged_at, result.final_cost = True, iterations, None
        return
    result.train_accuracy = net.head.accuracy(z, y)
    if result.target_reached_at is None and target.reached(result.final_cost, result.train_accuracy):
        result.target_reached_at = iterations
    if X_test is not None and y_test is not None and len(y_test):
        result.test_accuracy = net.head.accuracy(net.logits(X_test), np.asarray(y_test))


def _loop(steps, iterations: int, record_every: int, record, target: Target) -> tuple[int | None, int | None]:
    """Run the iterations; return the iteration whose cost was non-finite and the one where `target` was
    met (before its update: the run stops there), each None if none."""
    for iteration in range(iterations):
        recording = iteration % record_every == 0
        cost = steps.evaluate(full_cost=recording)
        if not math.isfinite(cost):
            record(iteration, cost)
            return iteration, None
        if recording:
            record(iteration, cost)
            if target.active and target.reached(cost, steps.accuracy() if target.accuracy is not None else None):
                return None, iteration
        steps.update()
    return None, None


def _batches(n: int, batch_size: int | None, rng: np.random.Generator):
    """Row indices per iteration: None (all rows) for full batch, else shuffled minibatches."""
    if batch_size is None or batch_size >= n:
        while True:
            yield None
    while True:
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            yield order[start:start + batch_size]
