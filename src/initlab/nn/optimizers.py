"""Parameter updates with PyTorch's semantics (torch.optim.SGD with/without momentum, Adam).

Optimizers work on flat lists of arrays (weights and biases alike) and update them in place,
so a training loop allocates nothing per step for the optimizer state.
"""

from __future__ import annotations

import numpy as np

from initlab._errors import unknown_choice

OPTIMIZERS = ("gd", "momentum", "adam")
MOMENTUM = 0.9  # torch.optim.SGD(momentum=0.9), the usual choice
ADAM_BETA1, ADAM_BETA2, ADAM_EPS = 0.9, 0.999, 1e-8  # torch.optim.Adam's defaults


class GradientDescent:
    """w <- w - lr * g (plain full-batch gradient descent, as in the courses' exercises)."""

    def __init__(self, params, lr: float):
        self.lr = lr

    def step(self, params, grads) -> None:
        for p, g in zip(params, grads):
            p -= self.lr * g


class Momentum:
    """v <- beta v + g; w <- w - lr v (torch.optim.SGD(momentum=beta), dampening 0)."""

    def __init__(self, params, lr: float, beta: float = MOMENTUM):
        self.lr, self.beta = lr, beta
        self.velocity = [np.zeros_like(p) for p in params]

    def step(self, params, grads) -> None:
        for p, g, v in zip(params, grads, self.velocity):
            v *= self.beta
            v += g
            p -= self.lr * v


class Adam:
    """torch.optim.Adam: bias-corrected first and second moments, eps added outside the sqrt."""

    def __init__(self, params, lr: float, beta1: float = ADAM_BETA1, beta2: float = ADAM_BETA2,
                 eps: float = ADAM_EPS):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, params, grads) -> None:
        self.t += 1
        correction1 = 1 - self.beta1**self.t
        correction2 = 1 - self.beta2**self.t
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * g * g
            p -= (self.lr / correction1) * m / (np.sqrt(v / correction2) + self.eps)


def optimizer(name: str, params: list[np.ndarray], lr: float):
    """A fresh optimizer for the arrays in `params`."""
    classes = {"gd": GradientDescent, "momentum": Momentum, "adam": Adam}
    if name not in classes:
        raise unknown_choice("optimizer", "optimizer", str(name), OPTIMIZERS)
    return classes[name](params, lr)
