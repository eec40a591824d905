"""The one list of activations that every part of initlab reads: adding an activation is one row here.

Each row (`Activation`) says what initlab knows about one activation phi:

- ``forward(z)`` and ``derivative(z, a)``: phi and phi' on NumPy arrays; ``a`` is ``forward(z)`` when the
  caller has it (the engine keeps it from the forward pass; tanh' = 1 - a^2 is cheaper from it), else None. Rows that have them are initlab's own activations: theory computes their Gaussian
  moments, and a torch layer with one of them is called by this name.
- ``slope``: set for the piecewise-linear family phi(x) = max(x, 0) + slope min(x, 0) (relu 0,
  leaky_relu its default 0.01, linear 1): theory uses closed forms (arc-cosine kernel) for it and
  quadrature (`initlab.theory.quadrature`) for every other row with a ``forward``.
- ``kernel``: the activation's code in the compiled ensemble kernel (`initlab.nn.ensemble_kernel`,
  whose branches implement the same phi and phi'); rows with a code are the NumPy engine's hidden
  activations (`initlab.nn.ACTIVATIONS`, `initlab train --activation`).
- ``torch``: where torch spells it, as ``"nn.ReLU"`` (a module class, subclasses included),
  ``"F.relu"`` / ``"torch.relu"`` (functions of ``torch.nn.functional`` / ``torch``) and
  ``"Tensor.relu"`` (a tensor method); `initlab.torch.trace` resolves them. Rows with only ``torch``
  are torch activations initlab has no formula for: a traced layer keeps torch's class name
  (``ReLU6``) and theory integrates the torch callable itself (`initlab.torch.activations`).
- ``flat``: the values where phi' vanishes (asymptotes or flat parts; None: that side has none),
  for the diagnosis's saturated fraction; ``dies``: phi' is exactly 0 for every negative input, so
  a unit can die (`initlab.diagnose.stats`).

Nothing heavy is imported here: SciPy's special functions are imported when first evaluated, torch
and Numba only by the modules that use the ``torch`` and ``kernel`` columns.

>>> [a.name for a in ACTIVATIONS if a.kernel is not None]
['relu', 'leaky_relu', 'tanh', 'sigmoid', 'linear']
>>> find("ReLU6").dies, find("tanh").flat, find("gelu").slope
(True, (-1.0, 1.0), None)
>>> find("sigmoid").forward(np.array([0.0])), find("relu").derivative(np.array([-1.0, 2.0]), None)
(array([0.5]), array([0., 1.]))
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Forward = Callable[[np.ndarray], np.ndarray]
Derivative = Callable[[np.ndarray, np.ndarray], np.ndarray]
SQRT_2PI = math.sqrt(2.0 * math.pi)


@dataclass(frozen=True)
class Activation:
    """One activation: its name, phi and phi' on NumPy arrays, and what each layer of initlab needs (module doc)."""

    name: str
    forward: Forward | None = None
    derivative: Derivative | None = None
    slope: float | None = None
    kernel: int | None = None
    torch: tuple[str, ...] = ()
    flat: tuple[float | None, float | None] | None = None
    dies: bool = False


def _special():
    import scipy.special  # imported on first use: ~0.1-0.8 s, not needed to list names

    return scipy.special


def _sigmoid(z):
    return _special().expit(z)


def _sigmoid_derivative(z):
    y = _special().expit(z)
    return y * (1.0 - y)


def _gelu(z):
    return z * _special().ndtr(z)


def _gelu_derivative(z, a):
    return _special().ndtr(z) + z * np.exp(-z * z / 2.0) / SQRT_2PI


def _silu(z):
    return z * _special().expit(z)


def _silu_derivative(z, a):
    return _special().expit(z) + z * _sigmoid_derivative(z)


def _erf(z):
    return _special().erf(z)


def _erf_derivative(z, a):
    return 2.0 / math.sqrt(math.pi) * np.exp(-z * z)


def _from_output(derivative: Forward, forward: Forward) -> Derivative:
    """phi'(z) written in a = phi(z), which is computed when the caller passes None."""
    return lambda z, a: derivative(forward(z) if a is None else a)


def _leaky(slope: float) -> tuple[Forward, Derivative]:
    def forward(z):
        return np.where(z > 0, z, z * z.dtype.type(slope))

    def derivative(z, a):
        return np.where(z > 0, z.dtype.type(1), z.dtype.type(slope))
    return forward, derivative


def _torch_only(name: str, module: str, flat=None, dies: bool = False) -> Activation:
    return Activation(name, torch=(f"nn.{module}",), flat=flat, dies=dies)


ACTIVATIONS: tuple[Activation, ...] = (
    Activation("relu", lambda z: np.maximum(z, 0), lambda z, a: (z > 0).astype(z.dtype), slope=0.0, kernel=0,
               torch=("nn.ReLU", "F.relu", "F.relu_", "torch.relu", "torch.relu_", "Tensor.relu", "Tensor.relu_"),
               dies=True),
    Activation("leaky_relu", *_leaky(0.01), slope=0.01, kernel=1,
               torch=("nn.LeakyReLU", "F.leaky_relu", "F.leaky_relu_")),
    Activation("tanh", np.tanh, _from_output(lambda a: 1 - a * a, np.tanh), kernel=2,
               torch=("nn.Tanh", "torch.tanh", "F.tanh", "Tensor.tanh", "Tensor.tanh_"), flat=(-1.0, 1.0)),
    Activation("sigmoid", _sigmoid, _from_output(lambda a: a * (1 - a), _sigmoid), kernel=3,
               torch=("nn.Sigmoid", "torch.sigmoid", "F.sigmoid", "Tensor.sigmoid", "Tensor.sigmoid_"),
               flat=(0.0, 1.0)),
    Activation("linear", lambda z: z, lambda z, a: np.ones_like(z), slope=1.0, kernel=4),
    Activation("erf", _erf, _erf_derivative, flat=(-1.0, 1.0)),
    Activation("gelu", _gelu, _gelu_derivative, torch=("nn.GELU", "F.gelu")),
    Activation("silu", _silu, _silu_derivative, torch=("nn.SiLU", "F.silu")),
    _torch_only("relu6", "ReLU6", flat=(None, 6.0), dies=True),
    _torch_only("elu", "ELU"),
    _torch_only("selu", "SELU"),
    _torch_only("celu", "CELU"),
    _torch_only("softplus", "Softplus"),
    _torch_only("mish", "Mish"),
    _torch_only("hardtanh", "Hardtanh", flat=(-1.0, 1.0)),
    _torch_only("hardswish", "Hardswish"),
    _torch_only("hardsigmoid", "Hardsigmoid", flat=(0.0, 1.0)),
    _torch_only("softsign", "Softsign", flat=(-1.0, 1.0)),
    _torch_only("tanhshrink", "Tanhshrink"),
    _torch_only("logsigmoid", "LogSigmoid"),
    _torch_only("softshrink", "Softshrink"),
    _torch_only("hardshrink", "Hardshrink"),
    _torch_only("threshold", "Threshold"),
)
BY_NAME = {a.name: a for a in ACTIVATIONS}


def find(name: str) -> Activation | None:
    """The row called `name`, compared in lower case (so torch's class names find theirs: ``ReLU6``);
    None for an activation the list does not know."""
    return BY_NAME.get(str(name).lower())


def names(column: str) -> tuple[str, ...]:
    """The names of the rows that fill `column` (``"forward"``, ``"kernel"``, ``"torch"``, ...), in list order.

    >>> names("kernel")
    ('relu', 'leaky_relu', 'tanh', 'sigmoid', 'linear')
    """
    return tuple(a.name for a in ACTIVATIONS if getattr(a, column) is not False and getattr(a, column) not in (None, ()))
