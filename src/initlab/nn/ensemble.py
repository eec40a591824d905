"""Train many networks of one architecture together: seeds x schemes as one batched computation.

`train_many(nets, X, y, ...)` trains full-batch, in place, and returns one `TrainResult` per
network with the same meaning as `train` (recorded costs, divergence at its iteration, final cost
and accuracies). Two backends compute the same updates:

- ``"numba"`` (default): `ensemble_kernel.train_chunk`, compiled, parallel over models, no
  allocation per iteration.
- ``"numpy"``: the reference, weights stacked as (models, fan_in, fan_out) and batched `matmul`.

Both equal training each network alone with `train` up to rounding (tests check this).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from scipy.special import expit, log_softmax, softmax

from initlab._errors import ArgumentError
from initlab._checks import choice, integer, number
from initlab.nn.activations import ACTIVATIONS
from initlab.nn.mlp import MLP
from initlab.nn.optimizers import ADAM_BETA1, ADAM_BETA2, ADAM_EPS, MOMENTUM, OPTIMIZERS
from initlab.nn.target import NO_TARGET, Target
from initlab.nn.train import TrainResult, finish

ACTIVATION_CODES = {a.name: a.kernel for a in ACTIVATIONS.values()}  # initlab.activations' kernel column
HEAD_CODES = {"sigmoid": 0, "softmax": 1, "linear": 2}
BACKENDS = ("numba", "numpy")
CHUNK = 500  # iterations per compiled call, so progress can be reported between calls


def check_same_architecture(nets: Sequence[MLP]) -> None:
    first = nets[0]
    for net in nets[1:]:
        same = (net.layer_sizes == first.layer_sizes and net.head is first.head and net.dtype == first.dtype
                and [a.name for a in net.activations] == [a.name for a in first.activations])
        if not same:
            raise ArgumentError("nets", "train_many needs networks of one architecture, output and dtype")


def train_many(nets: Sequence[MLP], X: np.ndarray, y: np.ndarray, *, lr: float = 0.01, iterations: int = 1000,
               optimizer: str = "gd", record_every: int = 10, X_test: np.ndarray | None = None,
               y_test: np.ndarray | None = None, backend: str = "numba",
               on_iterations: Callable[[int], None] | None = None, target: Target | None = None) -> list[TrainResult]:
    """Full-batch training of every net in `nets` (in place); `on_iterations(k)` reports progress.

    With a `target` (`initlab.nn.target`) each network stops on its own at its first recorded iteration
    that meets it (``target_reached_at``), the others training on, exactly as `train` stops one network.

    >>> from initlab.nn import MLP
    >>> X = np.array([[0., 0], [0, 1], [1, 0], [1, 1]]); y = np.array([0, 1, 1, 0])
    >>> nets = [MLP([2, 8, 1], "tanh", init=init, seed=0) for init in ("zeros", "he_normal")]
    >>> zeros, he = train_many(nets, X, y, lr=0.5, iterations=200, backend="numpy")
    >>> bool(zeros.final_cost == np.log(2)), he.final_cost < 0.1
    (True, True)
    """
    if not nets:
        return []
    check_same_architecture(nets)
    lr = number("lr", lr, positive=True)
    iterations, record_every = integer("iterations", iterations), integer("record_every", record_every)
    choice("optimizer", optimizer, OPTIMIZERS)
    choice("backend", backend, BACKENDS)
    net = nets[0]
    X, y, X_test, y_test = net.check_data(X, y, X_test, y_test)
    target = NO_TARGET if target is None else target
    target.check_head(net.head.name)
    run = _numba_backend if backend == "numba" else _numpy_backend
    with np.errstate(over="ignore", invalid="ignore"):
        costs, diverged_at, diverged_cost, reached_at = run(nets, X, y, lr, iterations, optimizer, record_every,
                                                            on_iterations, target)
        results = []
        for m, trained in enumerate(nets):
            result = TrainResult()
            reached = int(reached_at[m]) if reached_at[m] >= 0 else None
            stop = int(diverged_at[m]) if diverged_at[m] >= 0 else iterations if reached is None else reached + 1
            result.cost_history = [(it, float(costs[m, it // record_every])) for it in range(0, stop, record_every)]
            if diverged_at[m] >= 0:
                result.cost_history.append((stop, float(diverged_cost[m])))
                result.diverged, result.diverged_at = True, stop
            else:
                result.target_reached_at = reached
                finish(trained, X, y, X_test, y_test, iterations if reached is None else reached, result,
                       lambda i, c: result.cost_history.append((i, c)), target)
            results.append(result)
    return results


def _numba_backend(nets, X, y, lr, iterations, optimizer, record_every, on_iterations, target):
    run = KernelRun(nets, X, y, optimizer, target)
    costs = np.full((len(nets), math.ceil(iterations / record_every)), np.nan)
    for start in range(0, iterations, CHUNK):
        stop = min(start + CHUNK, iterations)
        run.advance(start, stop, lr, record_every, costs)
        if on_iterations is not None:
            on_iterations(stop - start)
    run.write_back()
    return costs, run.diverged_at, run.diverged_cost, run.reached_at


class KernelRun:
    """The compiled kernel's training state for `nets` on (X, y): parameters, optimizer moments and
    divergence, flat per model. `advance` may be called again from where the last call stopped (the
    playground steps a run this way); `write_back` copies the parameters into the networks.
    X and y must already be checked (`MLP.check_data`)."""

    def __init__(self, nets: Sequence[MLP], X: np.ndarray, y: np.ndarray, optimizer: str, target: Target = NO_TARGET):
        net = self.net = nets[0]
        self.nets = nets
        self.flat = np.stack([np.concatenate([p.ravel() for p in n.flat_params()]) for n in nets])
        self.state1, self.state2 = np.zeros_like(self.flat), np.zeros_like(self.flat)
        self.targets = _targets(net, y).astype(net.dtype)
        self.diverged_at = np.full(len(nets), -1, dtype=np.int64)
        self.diverged_cost = np.full(len(nets), np.nan)
        self.target = target
        self.reached_at = np.full(len(nets), -1, dtype=np.int64)  # iteration each model met `target` at (-1: not yet)
        self.sizes = np.array(net.layer_sizes, dtype=np.int64)
        self.acts = np.array([ACTIVATION_CODES[a.name] for a in net.activations] or [ACTIVATION_CODES["linear"]],
                             dtype=np.int64)
        self.optimizer_code = OPTIMIZERS.index(optimizer)
        self.XT = np.ascontiguousarray(X.T)

    def advance(self, start: int, stop: int, lr: float, record_every: int, costs: np.ndarray) -> None:
        """Iterations start..stop-1; costs[m, it // record_every] receives each recorded cost."""
        from initlab.nn.ensemble_kernel import train_chunk
        train_chunk(self.XT, self.targets, self.flat, self.state1, self.state2, self.sizes, self.acts,
                    HEAD_CODES[self.net.head.name], self.optimizer_code, self.net.dtype.type(lr), start, stop,
                    record_every, costs, self.diverged_at, self.diverged_cost, MOMENTUM, ADAM_BETA1, ADAM_BETA2,
                    ADAM_EPS, self.target.active, *self.target.kernel_bounds, self.reached_at)

    def write_back(self) -> None:
        for row, trained in zip(self.flat, self.nets):
            offset = 0
            for p in trained.flat_params():
                p[...] = row[offset:offset + p.size].reshape(p.shape)
                offset += p.size


def _targets(net: MLP, y: np.ndarray) -> np.ndarray:
    """Targets as (rows, samples): labels in one row for sigmoid/softmax, one row per output for linear."""
    if net.head.name == "linear":
        return np.ascontiguousarray(y.reshape(len(y), -1).T)
    return y.reshape(1, -1)


# ----- NumPy reference: weights stacked as (models, fan_in, fan_out) -----

def _numpy_backend(nets, X, y, lr, iterations, optimizer, record_every, on_iterations, target):
    net = nets[0]
    Ws = [np.stack([n.params[l][0] for n in nets]) for l in range(len(net.params))]
    bs = [np.stack([n.params[l][1] for n in nets])[:, None, :] for l in range(len(net.params))]
    params = [p for pair in zip(Ws, bs) for p in pair]
    state1 = [np.zeros_like(p) for p in params]
    state2 = [np.zeros_like(p) for p in params]
    n_models = len(nets)
    costs = np.full((n_models, math.ceil(iterations / record_every)), np.nan)
    diverged_at = np.full(n_models, -1, dtype=np.int64)
    diverged_cost = np.full(n_models, np.nan)
    reached_at = np.full(n_models, -1, dtype=np.int64)
    scale = net.dtype.type(1.0 / len(X))
    for it in range(iterations):
        inputs, pre = [X], []
        z = np.matmul(X, Ws[0]) + bs[0]
        for l, act in enumerate(net.activations):
            pre.append(z)
            inputs.append(act.forward(z))
            z = np.matmul(inputs[-1], Ws[l + 1]) + bs[l + 1]
        cost, delta = _batched_head(net.head.name, z, y)
        alive = (diverged_at < 0) & (reached_at < 0)
        newly = alive & ~np.isfinite(cost)
        diverged_at[newly], diverged_cost[newly] = it, cost[newly]
        alive &= ~newly
        if it % record_every == 0:
            costs[alive, it // record_every] = cost[alive]
            if target.active:
                accuracy = [net.head.accuracy(z[m], y) if target.accuracy is not None else None
                            for m in range(n_models)]
                met = alive & np.array([target.reached(float(cost[m]), accuracy[m]) for m in range(n_models)])
                reached_at[met] = it
                alive &= ~met
        grads = []
        for l in range(len(Ws) - 1, -1, -1):
            previous = inputs[l] if l else X
            grads[:0] = [np.matmul(np.swapaxes(previous, -1, -2), delta) * scale,
                         delta.sum(axis=1, keepdims=True) * scale]
            if l:
                delta = np.matmul(delta, np.swapaxes(Ws[l], 1, 2)) * net.activations[l - 1].derivative(pre[l - 1],
                                                                                                     inputs[l])
        mask = alive.reshape(-1, 1, 1)
        _step(optimizer, params, grads, state1, state2, lr, it + 1, mask)
        if on_iterations is not None:
            on_iterations(1)
    for m, trained in enumerate(nets):
        for l, (W, b) in enumerate(trained.params):
            W[...], b[...] = Ws[l][m], bs[l][m, 0]
    return costs, diverged_at, diverged_cost, reached_at


def _batched_head(name, z, y):
    """Per-model mean loss (shifted by the first sample, like `heads.mean_loss`) and unscaled delta."""
    if name == "sigmoid":
        v = z[..., 0]
        losses = np.maximum(v, 0) - y * v + np.log1p(np.exp(-np.abs(v)))
        delta = expit(z) - y.reshape(1, -1, 1).astype(z.dtype)
    elif name == "softmax":
        rows = np.arange(len(y))
        losses = -log_softmax(z, axis=2)[:, rows, y]
        delta = softmax(z, axis=2)
        delta[:, rows, y] -= 1
    else:
        target = y.reshape(1, len(y), -1)
        losses = ((z - target) ** 2).reshape(len(z), -1)
        delta = (2.0 / z.shape[2]) * (z - target.astype(z.dtype))
    first = losses[:, :1]
    return first[:, 0] + np.mean(losses - first, axis=1), delta


def _step(optimizer, params, grads, state1, state2, lr, t, mask):
    """One optimizer step for every model where `mask` is true (diverged models stay as they were)."""
    for p, g, s1, s2 in zip(params, grads, state1, state2):
        if optimizer == "gd":
            update = lr * g
        elif optimizer == "momentum":
            s1[...] = np.where(mask, MOMENTUM * s1 + g, s1)
            update = lr * s1
        else:
            s1[...] = np.where(mask, ADAM_BETA1 * s1 + (1 - ADAM_BETA1) * g, s1)
            s2[...] = np.where(mask, ADAM_BETA2 * s2 + (1 - ADAM_BETA2) * g * g, s2)
            update = (lr / (1 - ADAM_BETA1**t)) * s1 / (np.sqrt(s2 / (1 - ADAM_BETA2**t)) + ADAM_EPS)
        p[...] = np.where(mask, p - update, p)
