"""The NumPy engine's hidden-layer activations: the rows of `initlab.activations` that the compiled
ensemble kernel implements too (each an object with `forward` and `derivative`), registered by name."""

from __future__ import annotations

from initlab._errors import unknown_choice
from initlab.activations import ACTIVATIONS as TABLE, Activation

ACTIVATIONS: dict[str, Activation] = {a.name: a for a in TABLE if a.kernel is not None}


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
