"""Parameter updates with PyTorch's semantics (torch.optim.SGD with/without momentum, Adam).

Updates are in place, so a training loop allocates nothing per step for the optimizer state.
"""

from __future__ import annotations

import numpy as np

from initlab._errors import unknown_choice

OPTIMIZERS = ("gd", "momentum", "adam")


class GradientDescent:
    """w <- w - lr * g (plain full-batch gradient descent, as in the notes)."""

    def __init__(self, params, lr: float):
        self.lr = lr

    def step(self, params, grads) -> None:
        for (W, b), (dW, db) in zip(params, grads):
            W -= self.lr * dW
            b -= self.lr * db


class Momentum:
    """v <- beta v + g; w <- w - lr v (torch.optim.SGD(momentum=beta), dampening 0)."""

    def __init__(self, params, lr: float, beta: float = 0.9):
        self.lr, self.beta = lr, beta
        self.velocity = [np.zeros_like(p) for pair in params for p in pair]

    def step(self, params, grads) -> None:
        flat = [p for pair in params for p in pair]
        for p, g, v in zip(flat, (g for pair in grads for g in pair), self.velocity):
            v *= self.beta
            v += g
            p -= self.lr * v


class Adam:
    """torch.optim.Adam: bias-corrected first and second moments, eps added outside the sqrt."""

    def __init__(self, params, lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m = [np.zeros_like(p) for pair in params for p in pair]
        self.v = [np.zeros_like(p) for pair in params for p in pair]
        self.t = 0

    def step(self, params, grads) -> None:
        self.t += 1
        correction1 = 1 - self.beta1**self.t
        correction2 = 1 - self.beta2**self.t
        flat = [p for pair in params for p in pair]
        for p, g, m, v in zip(flat, (g for pair in grads for g in pair), self.m, self.v):
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * g * g
            p -= (self.lr / correction1) * m / (np.sqrt(v / correction2) + self.eps)


def optimizer(name: str, params, lr: float):
    """A fresh optimizer for `params`."""
    classes = {"gd": GradientDescent, "momentum": Momentum, "adam": Adam}
    if name not in classes:
        raise unknown_choice("optimizer", "optimizer", str(name), OPTIMIZERS)
    return classes[name](params, lr)
