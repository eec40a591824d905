"""Scalars on a residual branch (SkipInit's alpha, Fixup's biases and multiplier, DeepNorm's and depth-muP's
fixed branch scales; muP's readout multiplier), added to an existing model without editing its ``forward``.

A scalar is registered on the branch's output layer (a parameter when it is learned, a buffer when it
is fixed), under a name that says which scheme added it (``skipinit_alpha``, ``fixup_scale``, ...), and
a forward hook applies it to the layer's output (the first element of a tuple output, as
``nn.MultiheadAttention``'s) or a forward pre-hook to its input. So ``model.parameters()`` (and an
optimizer built from it) includes the learned ones, and ``state_dict()`` keeps every old key and adds
the new ones. The hooks are module-level functions (``functools.partial``), so ``torch.save(model)``
pickles them; a fresh model built from its class has neither the scalars nor the hooks: call the same
scheme on it before ``load_state_dict``.
"""

from __future__ import annotations

import functools

import torch
from torch import nn

from initlab._errors import ArgumentError

SCALARS = ("skipinit_alpha", "fixup_bias_in", "fixup_bias_out", "fixup_scale", "deepnorm_scale", "depth_mup_scale",
           "mup_readout_scale")


def _first(value):
    if isinstance(value, torch.Tensor):
        return value, lambda t: t
    if isinstance(value, (tuple, list)) and value and isinstance(value[0], torch.Tensor):
        return value[0], lambda t: type(value)((t, *value[1:]))
    raise TypeError(f"cannot apply a branch scalar to an output of type {type(value).__name__}")


def _multiply_output(module, args, output, *, name):
    tensor, rebuild = _first(output)
    return rebuild(tensor * getattr(module, name))


def _add_to_output(module, args, output, *, name):
    tensor, rebuild = _first(output)
    return rebuild(tensor + getattr(module, name))


def _add_to_input(module, args, *, name):
    return (args[0] + getattr(module, name), *args[1:])


def _multiply_input(module, args, *, name):
    return (args[0] * getattr(module, name), *args[1:])


HOOKS = {"multiply_output": _multiply_output, "add_to_output": _add_to_output, "add_to_input": _add_to_input,
         "multiply_input": _multiply_input}
PRE_HOOKS = ("add_to_input", "multiply_input")


def check_free(modules: dict[str, nn.Module], names: list[str], scalar: str, scheme: str) -> None:
    """Refuse to add `scalar` twice (the scheme was already applied to these layers)."""
    taken = [n for n in names if hasattr(modules[n], scalar)]
    if taken:
        raise ArgumentError("model", f"'{taken[0]}' already has '{scalar}': {scheme} was applied to this model "
                                     f"already (its scalars and hooks stay; build a fresh model to start again)")


def add(module: nn.Module, scalar: str, value: float, how: str, *, learned: bool):
    """Register `scalar` (a 0-d parameter if `learned`, else a buffer) on `module` and the hook `how`
    ("multiply_output", "add_to_output", "add_to_input", "multiply_input") that applies it; returns the hook handle."""
    assert scalar in SCALARS and how in HOOKS, (scalar, how)
    reference = next(module.parameters(), None)
    kwargs = {"dtype": reference.dtype, "device": reference.device} if reference is not None else {}
    tensor = torch.tensor(float(value), **kwargs)
    if learned:
        module.register_parameter(scalar, nn.Parameter(tensor))
    else:
        module.register_buffer(scalar, tensor)
    hook = functools.partial(HOOKS[how], name=scalar)
    if how in PRE_HOOKS:
        return module.register_forward_pre_hook(hook)
    return module.register_forward_hook(hook)
