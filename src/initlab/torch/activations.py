"""A traced layer's activation as an `initlab.theory.Activation`, so theory can compute its moments.

An activation that `initlab.activations` lists with a NumPy phi (relu, tanh, sigmoid, silu, exact (erf)
gelu, leaky_relu with the layer's own negative slope, read off the callable: phi(-1) = -slope) maps to
initlab's closed form or quadrature when the torch callable equals that phi on a probe grid (to 1e-12);
a tanh-approximated gelu (``nn.GELU(approximate="tanh")``) does not, and is treated like every other
activation, including a user's own module: an `Activation` whose phi runs the torch callable on
float64 tensors built from the quadrature nodes and whose phi' comes from ``torch.autograd`` (for an
elementwise phi, the gradient of sum(phi(x)) is phi'(x) entrywise). Its Gaussian moments E[phi(u)^2],
E[phi'(u)^2] are then computed by quadrature (`initlab.theory.quadrature`), without any lookup table.

>>> import torch
>>> from initlab.torch.trace import layers
>>> (layer,) = layers(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Softplus()))
>>> act = theory_activation(layer)
>>> act.name, round(act.second_moment(1.0), 6)  # E[softplus(z)^2], z ~ N(0, 1); scipy.integrate.quad agrees
('Softplus', 0.921246)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from initlab import activations as table
from initlab.theory import Activation, activation
from initlab.torch.trace import TracedLayer

_PROBE = np.linspace(-6.0, 6.0, 97)


def as_numpy(act: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[np.ndarray], np.ndarray]:
    """phi on NumPy arrays: the torch callable applied to a float64 tensor of the same values."""
    def phi(x):
        with torch.no_grad():
            return act(torch.as_tensor(np.asarray(x, dtype=np.float64)).clone()).double().numpy()
    return phi


def derivative(act: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[np.ndarray], np.ndarray]:
    """phi' on NumPy arrays by autograd: grad of sum(phi(x)) with respect to x."""
    def dphi(x):
        with torch.enable_grad():
            t = torch.as_tensor(np.asarray(x, dtype=np.float64)).clone().requires_grad_(True)
            (grad,) = torch.autograd.grad(act(t.clone()).sum(), t, allow_unused=True)
        return np.zeros(t.shape) if grad is None else grad.detach().numpy()
    return dphi


def generic(name: str, act: Callable[[torch.Tensor], torch.Tensor]) -> Activation:
    """Any elementwise torch callable as an `Activation` (moments by quadrature)."""
    return Activation(name, as_numpy(act), derivative(act))


def theory_activation(layer: TracedLayer) -> Activation | None:
    """The `Activation` applied to `layer`'s output; None when there is none (identity)."""
    if layer.activation is None:
        return None
    name, act = layer.activation_name, layer.activation
    row = table.BY_NAME.get(name)
    if row is not None and row.forward is not None:
        known = activation(name, slope=-float(as_numpy(act)(-1.0))) if name == "leaky_relu" else activation(name)
        if np.allclose(as_numpy(act)(_PROBE), known.phi(_PROBE), rtol=0.0, atol=1e-12):
            return known
    return generic(name, act)
