"""Hidden-layer activations: each a small object with `forward` and `derivative`, registered by name."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from initlab._errors import unknown_choice


@dataclass(frozen=True)
class Activation:
    name: str

    def forward(self, z: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def derivative(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        """phi'(z), given z and a = phi(z) (whichever is cheaper to use)."""
        raise NotImplementedError


class ReLU(Activation):
    def forward(self, z):
        return np.maximum(z, 0)

    def derivative(self, z, a):
        return (z > 0).astype(z.dtype)


@dataclass(frozen=True)
class LeakyReLU(Activation):
    slope: float = 0.01

    def forward(self, z):
        return np.where(z > 0, z, z * z.dtype.type(self.slope))

    def derivative(self, z, a):
        return np.where(z > 0, z.dtype.type(1), z.dtype.type(self.slope))


class Tanh(Activation):
    def forward(self, z):
        return np.tanh(z)

    def derivative(self, z, a):
        return 1 - a * a


class Sigmoid(Activation):
    def forward(self, z):
        from scipy.special import expit  # imported here: keeps `initlab --help` fast

        return expit(z)

    def derivative(self, z, a):
        return a * (1 - a)


class Linear(Activation):
    def forward(self, z):
        return z

    def derivative(self, z, a):
        return np.ones_like(z)


ACTIVATIONS: dict[str, Activation] = {
    a.name: a for a in (ReLU("relu"), LeakyReLU("leaky_relu"), Tanh("tanh"), Sigmoid("sigmoid"), Linear("linear"))
}


def activation(name: str | Activation, argument: str = "activation") -> Activation:
    """The activation registered under `name`.

    >>> activation("tanh").forward(np.array([0.0]))
    array([0.])
    """
    if isinstance(name, Activation):
        return name
    if name not in ACTIVATIONS:
        raise unknown_choice(argument, "activation", str(name), ACTIVATIONS)
    return ACTIVATIONS[name]
