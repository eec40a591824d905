"""Recommended gains per nonlinearity, with PyTorch's values (`torch.nn.init.calculate_gain`)."""

from __future__ import annotations

import math
import numbers

from initlab._errors import ArgumentError, unknown_choice

_UNIT_GAIN = ("linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d",
              "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")


def gain(activation: str, param: float | None = None) -> float:
    """The factor by which a scheme's std is multiplied for `activation` (PyTorch's table).

    linear/conv/sigmoid: 1; tanh: 5/3; relu: sqrt(2); selu: 3/4;
    leaky_relu: sqrt(2 / (1 + s^2)) with negative slope s = `param` (0.01 when None, as in torch).

    >>> round(gain("relu"), 6), round(gain("tanh"), 6), gain("leaky_relu", 0)
    (1.414214, 1.666667, 1.4142135623730951)
    """
    if activation in _UNIT_GAIN:
        return 1.0
    if activation == "tanh":
        return 5.0 / 3.0
    if activation == "relu":
        return math.sqrt(2.0)
    if activation == "selu":
        return 3.0 / 4.0
    if activation == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, numbers.Real) or not math.isfinite(slope):
            raise ArgumentError("param", f"expected a finite negative slope for leaky_relu, got {slope!r}")
        return math.sqrt(2.0 / (1.0 + slope**2))
    raise unknown_choice("nonlinearity", "nonlinearity", str(activation),
                         (*_UNIT_GAIN, "tanh", "relu", "selu", "leaky_relu"))
