"""What a probe records for one layer in one forward and one backward pass at initialization.

Probes (`initlab.diagnose.mlp_probe`, `initlab.diagnose.torch_probe`) turn a model into a list of
`Capture`, one per weight-bearing layer in forward order, the last one the output layer.
Everything downstream (statistics, theory, verdict) reads only captures, so it is the same for
the NumPy engine and for PyTorch models.

`kind` is one of `KINDS`: ``"dense"`` (nn.Linear, Hugging Face Conv1D, the NumPy engine's layers),
``"conv"`` (nn.Conv*d and nn.ConvTranspose*d), ``"attention"`` (nn.MultiheadAttention: z is the
attention output, after ``out_proj``), ``"rnn"`` (nn.RNN/LSTM/GRU: z is the output sequence of the
last layer) and ``"embedding"`` (nn.Embedding: z is the looked-up vectors). `module_type` is the
torch class name (``"Linear"``, ``"Conv1D"``, ``"MultiheadAttention"``, ``"LSTM"``...; ``"Dense"``
for the NumPy engine).

Layouts: ``z``, ``a`` and ``dz`` are ``(n, units)`` for dense layers and ``(n, C, *spatial)`` for
convolutions; a layer on sequences (features last in torch) is ``(n, units, *positions)`` with the
positions (sequence, patches) after the units; ``weight`` is ``(units, fan_in)``, one row per unit's
incoming weights (the NumPy engine's ``W.T``, torch's ``W.reshape(out, -1)``; attention: ``out_proj``'s
weight; rnn: the last layer's recurrent weights, the gate rows of each unit side by side,
``(units, gates * hidden)``; embedding: the table's transpose ``(dim, vocabulary)``, fan_in 1: one
row is looked up per position). Torch arrays may be float32 and read-only views of the model's
parameters (diagnose reads them at once; nothing writes to them).

``fan_out`` is the layer's fan as initializers count it (dense: units; conv: out * prod(kernel), as
torch). The backward pass needs something else: how many output entries each *input* entry feeds,
on average (`outputs_per_input`, default ``fan_out``). For a dense layer that is the fan_out; a
convolution with stride s reads each input position only about prod(kernel) / prod(s) times, and
fewer at the borders (see `initlab.diagnose.torch_probe.conv_outputs_per_input`).

>>> import numpy as np
>>> c = Capture("layer 1", "dense", z=np.ones((4, 3)), a=np.ones((4, 3)), dz=np.zeros((4, 3)),
...             weight=np.ones((3, 2)), bias=None, weight_grad=np.zeros((3, 2)), activation=None,
...             fan_in=2, fan_out=3)
>>> c.units, c.activation_name
(3, 'identity')
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from initlab._errors import ArgumentError
from initlab.theory import Activation

KINDS = ("dense", "conv", "attention", "rnn", "embedding")


@dataclass(frozen=True)
class Capture:
    """One layer's pre-activation `z`, activation `a`, gradient `dz` = dL/dz of the mean loss, its
    weights, bias and weight gradient, and the activation that follows it (None: identity)."""

    name: str
    kind: str
    z: np.ndarray
    a: np.ndarray
    dz: np.ndarray
    weight: np.ndarray
    bias: np.ndarray | None
    weight_grad: np.ndarray
    activation: Activation | None
    fan_in: int
    fan_out: int
    outputs_per_input: float | None = None
    module_type: str = "Dense"

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ArgumentError("kind", f"expected one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.z.ndim < 2 or self.z.shape != self.a.shape or self.z.shape != self.dz.shape:
            raise ArgumentError(self.name, f"z, a and dz must share one shape (n, units, ...), got "
                             f"{self.z.shape}, {self.a.shape}, {self.dz.shape}")
        if self.weight.ndim != 2 or self.weight.shape[0] != self.z.shape[1] or \
                self.weight_grad.shape != self.weight.shape:
            raise ArgumentError(self.name, f"weight and weight_grad must be (units={self.z.shape[1]}, fan_in), got "
                             f"{self.weight.shape} and {self.weight_grad.shape}")
        if self.bias is not None and self.bias.shape != (self.z.shape[1],):
            raise ArgumentError(self.name, f"bias must be ({self.z.shape[1]},), got {self.bias.shape}")

    @property
    def units(self) -> int:
        """Output units (dense) or channels (conv)."""
        return int(self.z.shape[1])

    @property
    def backward_fan(self) -> float:
        """Mean number of output entries an input entry feeds: `outputs_per_input`, else `fan_out`.
        Backward, E[d input^2] = mean(W^2) * backward_fan * E[dz^2] for weights independent of dz."""
        return float(self.fan_out if self.outputs_per_input is None else self.outputs_per_input)

    @property
    def activation_name(self) -> str:
        return "identity" if self.activation is None else self.activation.name

    def per_unit(self, x: np.ndarray) -> np.ndarray:
        """`x` (shaped like `z`) as (units, samples * positions): row j is everything unit j produced."""
        return np.moveaxis(x, 1, 0).reshape(self.units, -1)
