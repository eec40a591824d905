"""One training iteration, two ways: `DirectSteps` (the textbook loop) and `SampleSpaceSteps`.

A stepper's `evaluate()` returns the cost at the current parameters and keeps the gradient;
`update()` applies it; `finish()` leaves the network's parameters final.
"""

from __future__ import annotations

import numpy as np

from initlab.nn.mlp import MLP
from initlab.nn.optimizers import MOMENTUM
from initlab.nn.optimizers import optimizer as make_optimizer

# G = X X^T is n x n: above this many samples it costs more memory than it saves time.
MAX_SAMPLE_SPACE_ROWS = 4096


class DirectSteps:
    """Forward, backward, optimizer step; minibatches when `batches` yields row indices."""

    def __init__(self, net: MLP, X: np.ndarray, y: np.ndarray, optimizer: str, lr: float, batches):
        self.net, self.X, self.y, self.batches = net, X, y, batches
        self.opt = make_optimizer(optimizer, net.flat_params(), lr)
        self.grads: list[np.ndarray] = []

    def evaluate(self, full_cost: bool) -> float:
        """Cost at the current parameters; the full-data cost when `full_cost` (a minibatch's otherwise)."""
        rows = next(self.batches)
        X, y = (self.X, self.y) if rows is None else (self.X[rows], self.y[rows])
        cost, grads = self.net.loss_and_grads(X, y)
        self.grads = [g for pair in grads for g in pair]
        return self.net.loss(self.X, self.y) if rows is not None and full_cost else cost

    def update(self) -> None:
        self.opt.step(self.net.flat_params(), self.grads)

    def accuracy(self) -> float | None:
        """Training accuracy on all rows at the current parameters (before `update`)."""
        return self.net.head.accuracy(self.net.logits(self.X), self.y)

    def finish(self) -> None:
        pass


class SampleSpaceSteps:
    """Full-batch gd or momentum when the input is much wider than the batch (the article's 100 x 67,500).

    Gradient descent changes W1 only by X^T D (D: n_samples x width), so W1 = W1_start - X^T C and
    the first pre-activation Z1 = X W1 + b1 follows Z1 <- Z1 - G S with G = X X^T, computed once,
    and S the step in sample space. An iteration then never reads X, where the direct loop reads
    it twice; W1 is formed once at the end. Equal to `DirectSteps` up to rounding (tested).
    Momentum is linear, so its velocity lives in sample space too (v_W1 = X^T V).
    """

    def __init__(self, net: MLP, X: np.ndarray, y: np.ndarray, optimizer: str, lr: float):
        self.net, self.X, self.y, self.lr = net, X, y, net.dtype.type(lr)
        self.beta = MOMENTUM if optimizer == "momentum" else 0.0
        W1, b1 = net.params[0]
        self.gram = X @ X.T
        self.W1_start = W1.copy()
        self.coefficients = np.zeros((len(X), W1.shape[1]), dtype=W1.dtype)
        self.velocity = np.zeros_like(self.coefficients)
        self.Z1 = X @ W1 + b1
        self.rest = net.flat_params()[1:]  # b1, W2, b2, ...: updated by the usual optimizer
        self.opt = make_optimizer(optimizer, self.rest, lr)
        self.grads: list[np.ndarray] = []
        self.first_delta = np.zeros_like(self.coefficients)

    @staticmethod
    def supports(n_samples: int, optimizer: str, batch_size: int | None) -> bool:
        """Possible: full-batch updates by a linear optimizer (gd or momentum)."""
        full_batch = batch_size is None or batch_size >= n_samples
        return full_batch and optimizer in ("gd", "momentum")

    @staticmethod
    def applies(net: MLP, n_samples: int, optimizer: str, batch_size: int | None) -> bool:
        """Whether `train` uses it by default: possible, and cheaper than the direct loop."""
        wide = 2 * n_samples <= net.layer_sizes[0] and n_samples <= MAX_SAMPLE_SPACE_ROWS
        return wide and SampleSpaceSteps.supports(n_samples, optimizer, batch_size)

    def evaluate(self, full_cost: bool) -> float:
        net = self.net
        inputs, pre, z = net.forward_from(None, self.Z1)
        scale = net.dtype.type(1.0 / len(z))
        grads: dict[int, tuple[np.ndarray, ...]] = {}
        for layer, d in net.deltas(inputs, pre, net.head.delta(z, self.y)):
            if layer:
                grads[layer] = ((inputs[layer].T @ d) * scale, d.sum(axis=0) * scale)
            else:
                self.first_delta = d * scale
                grads[0] = (d.sum(axis=0) * scale,)
        self.grads = [g for layer in sorted(grads) for g in grads[layer]]
        return net.head.loss(z, self.y)

    def accuracy(self) -> float | None:
        """Training accuracy at the current parameters, from Z1 (W1 is formed only at the end)."""
        return self.net.head.accuracy(self.net.forward_from(None, self.Z1)[2], self.y)

    def update(self) -> None:
        b1 = self.rest[0]
        b1_before = b1.copy()
        self.opt.step(self.rest, self.grads)
        self.velocity *= self.net.dtype.type(self.beta)
        self.velocity += self.first_delta
        step = self.lr * self.velocity
        self.coefficients += step
        self.Z1 -= self.gram @ step
        self.Z1 += b1 - b1_before

    def finish(self) -> None:
        W1 = self.net.params[0][0]
        W1[...] = self.W1_start - self.X.T @ self.coefficients
