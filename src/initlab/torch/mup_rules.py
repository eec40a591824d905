"""muP's table: the class of every parameter of a model (by where its layer runs) and, per class, how its
initialisation, learning rate and forward scale change with the width multiplier m = width / base_width.

Classes (`place`): a parameter's class comes from its layer's place in the forward pass, not from
names or shapes, so an unmodified model needs no base-shape files:

    input    the weight of an embedding, or (a model without embeddings) of the first weight layer
             called: fan_in fixed (the data), fan_out grows with the width
    hidden   the weight of every other weight layer (Linear, Conv, nn.MultiheadAttention's projections,
             Hugging Face Conv1D, RNN; an input RNN's hidden-to-hidden and upper-layer weights): both fans grow
    readout  the weight of the last weight layer called: fan_in grows, fan_out fixed (classes, vocabulary)
    vector   a bias whose size grows, a norm's gain and bias, any other parameter of more than one entry
             (a position embedding given as a bare tensor): one dimension grows
    fixed    the readout's bias, scalars, the weight of a layer that is both first and last: nothing grows

The rules, relative to the model at base width (so at m = 1 nothing changes), as the ``mup`` package
implements them (``set_base_shapes`` with ``rescale_params``, ``MuReadout``, ``MuAdam``, ``MuSGD``):

    class     weights rescaled by                      forward            Adam lr x   SGD lr x
    input     1                                        -                  1           m
    hidden    1 (standard 1/fan_in is muP's)           -                  1/m         1
    readout   sqrt(m) (variance 1/base_fan_in)         input x 1/m        1           m
    vector    bias after a growing fan_in: sqrt(m)     -                  1           m
    fixed     readout bias: sqrt(m)                    -                  1           1

Folding the readout's 1/m into its weight gives Tensor Programs V's Table 3 (Yang et al. 2022): output
weights of variance 1/fan_in^2 with Adam and SGD learning rates eta/fan_in; input weights and biases
SGD eta * fan_out; hidden weights Adam eta/fan_in. The rescale assumes the model's weights are in the
standard parametrization (variance proportional to 1/fan_in, as torch's defaults and initlab's fan-in
schemes are); `initlab.torch.mup.mup(scheme=...)` redraws them so first.

>>> [RULES[c].adam(4.0) for c in CLASSES], [RULES[c].sgd(4.0) for c in CLASSES]
([1.0, 0.25, 1.0, 1.0, 1.0], [4.0, 1.0, 4.0, 4.0, 1.0])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from torch import nn

from initlab.torch.kinds import Entry
from initlab.torch.trace import structure

CLASSES = ("input", "hidden", "readout", "vector", "fixed")
WEIGHT_ROLES = ("weight", "recurrent_weight", "embedding")


def _one(m: float) -> float:
    return 1.0


@dataclass(frozen=True)
class Rule:
    """One row of the table: learning-rate factors for Adam and SGD as functions of m."""

    adam: Callable[[float], float]
    sgd: Callable[[float], float]
    why: str


RULES = {
    "input": Rule(_one, lambda m: m, "fan_in fixed, fan_out grows"),
    "hidden": Rule(lambda m: 1.0 / m, _one, "both fans grow"),
    "readout": Rule(_one, lambda m: m, "fan_in grows, fan_out fixed; forward multiplier 1/m on its input"),
    "vector": Rule(_one, lambda m: m, "one dimension grows"),
    "fixed": Rule(_one, _one, "no dimension grows"),
}


@dataclass(frozen=True)
class Placed:
    """A parameter's `name`, the layer that owns it (`module`), its class (`cls`) and what its values are
    multiplied by, as a power of m (`rescale_power`: 0.5 for sqrt(m))."""

    name: str
    module: str
    cls: str
    rescale_power: float = 0.0


def _owners(entry: Entry) -> set[str]:
    """Every layer holding the tensor (a readout tied to an embedding: both)."""
    return {entry.module_name, *(name.rpartition(".")[0] for name in entry.tied_to)}


def place(entry: Entry, inputs: set[str], readout: str) -> Placed:
    """The `Placed` of one inventory entry (module doc); `inputs` and `readout` are layer names. A readout
    tied to an input embedding keeps the embedding's class and values (``MuSharedReadout``)."""
    owners = _owners(entry)
    first, last = bool(owners & inputs), readout in owners
    if entry.kind == "rnn" and (entry.role.startswith("recurrent") or "_l0" not in entry.name.rpartition(".")[2]):
        first = False  # only layer 0's input-to-hidden weights see the data
    if entry.role in WEIGHT_ROLES and entry.kind is not None:
        if first and last and entry.role != "embedding":
            return Placed(entry.name, entry.module_name, "fixed")
        if first:
            return Placed(entry.name, entry.module_name, "input")
        if last:
            return Placed(entry.name, entry.module_name, "readout", 0.5)
        return Placed(entry.name, entry.module_name, "hidden")
    if entry.role in ("bias", "recurrent_bias"):
        power = 0.0 if first else 0.5  # torch's bias init shrinks like 1/sqrt(fan_in): undone where fan_in grows
        return Placed(entry.name, entry.module_name, "fixed" if last else "vector", power)
    return Placed(entry.name, entry.module_name, "fixed" if entry.parameter.numel() == 1 else "vector")


def layer_order(model: nn.Module, example) -> list[str]:
    """Names of the weight layers in the order the forward pass calls them (hooks on `example`, or a
    torch.fx trace without one: `initlab.torch.trace.structure`)."""
    return [layer.name for layer in structure(model, example).layers]
