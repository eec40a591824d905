"""Where a model's attention divides its logits q.k by sqrt(d) (the standard parametrization) instead of d,
as muP needs (Tensor Programs V: after training q and k are correlated, so q.k grows like d,
not sqrt(d); with 1/sqrt(d) the attention logits grow like sqrt(width)).

How far detection goes (`find_attention_scales`):

- ``nn.MultiheadAttention``: always q.k / sqrt(head_dim) (torch has no option), found by type; it
  cannot be changed in place.
- a module with a float attribute ``scaling`` or ``scale`` equal to head_dim ** -0.5, head_dim being its
  ``head_dim``/``d_head`` attribute (or ``embed_dim``/``hidden_size`` over ``num_heads``/``n_heads``/
  ``heads``): Hugging Face attention modules (``self.scaling``) and hand-written ones that keep their
  scale on the module. These can be changed in place (`fix_attention_scale`), since their forward reads
  the attribute.
- ``torch.nn.functional.scaled_dot_product_attention`` called without ``scale=`` (its default is
  1/sqrt(d)) during one forward pass on an example batch, seen through a ``TorchFunctionMode`` and named
  by the innermost module running (``nn.MultiheadAttention``'s own call is the first case already).

Not found: a scale that lives only in ``forward`` (``q @ k.T / math.sqrt(d)``), and models without an
example whose attention calls scaled_dot_product_attention.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from initlab.torch.discover import forward_once

SCALE_ATTRIBUTES = ("scaling", "scale")


@dataclass(frozen=True)
class AttentionScale:
    """One attention using 1/sqrt(d): the `module`, `how` it was found, the head size `d` (None when
    unknown) and `attribute` (the module attribute holding the scale, or None if it cannot be changed)."""

    module: str
    how: str
    d: int | None = None
    attribute: str | None = None

    def message(self) -> str:
        fix = (f"attention='fix' sets {self.module}.{self.attribute}" if self.attribute
               else "give it scale 1/d (mup's MuReadout README: q @ k.T * 8 / d)")
        return f"{self.module}: attention logits scaled 1/sqrt(d) ({self.how}), muP needs 1/d; {fix}"


def _int_attribute(module: nn.Module, names) -> int | None:
    return next((v for n in names if isinstance(v := getattr(module, n, None), int) and v > 0), None)


def head_size(module: nn.Module) -> int | None:
    """The head dimension d of an attention module, from its attributes (module doc), or None."""
    direct = _int_attribute(module, ("head_dim", "d_head", "head_size"))
    if direct:
        return direct
    width = _int_attribute(module, ("embed_dim", "hidden_size", "d_model", "width"))
    heads = _int_attribute(module, ("num_heads", "n_heads", "heads", "n_head", "num_attention_heads"))
    return width // heads if width and heads and width % heads == 0 else None


def _attribute_scale(name: str, module: nn.Module) -> AttentionScale | None:
    d = head_size(module)
    for attribute in SCALE_ATTRIBUTES:
        value = getattr(module, attribute, None)
        if d and isinstance(value, float) and math.isclose(value, d ** -0.5, rel_tol=1e-6):
            return AttentionScale(name, f"attribute {attribute} = {value:.4g} = 1/sqrt({d})", d, attribute)
    return None


class _SdpaSpy(TorchFunctionMode):
    """Records the innermost running module at every scaled_dot_product_attention call without scale=."""

    def __init__(self, running: list[str]):
        super().__init__()
        self.running, self.found = running, []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is F.scaled_dot_product_attention and kwargs.get("scale", args[6] if len(args) > 6 else None) is None:
            self.found.append((self.running[-1] if self.running else "", args[0].shape[-1]))
        return func(*args, **kwargs)


def _sdpa_calls(model: nn.Module, example) -> list[tuple[str, int]]:
    running: list[str] = []
    handles = []
    for name, module in model.named_modules():
        handles.append(module.register_forward_pre_hook(lambda m, a, name=name: running.append(name) and None))
        handles.append(module.register_forward_hook(lambda m, a, o: running.pop() and None))  # None: output kept
    spy = _SdpaSpy(running)
    try:
        with spy:
            forward_once(model, example)
    finally:
        for handle in handles:
            handle.remove()
    return spy.found


def find_attention_scales(model: nn.Module, example=None) -> list[AttentionScale]:
    """Every attention of `model` found scaling its logits by 1/sqrt(d) (module doc), in module order."""
    found: dict[str, AttentionScale] = {}
    for name, module in model.named_modules():
        if isinstance(module, nn.MultiheadAttention):
            found[name] = AttentionScale(name, "nn.MultiheadAttention", module.head_dim)
        elif (hit := _attribute_scale(name, module)) is not None:
            found[name] = hit
    if example is not None:
        for name, d in _sdpa_calls(model, example):
            inside = any(name == known or name.startswith(known + ".") for known in found)
            if not inside:
                found[name] = AttentionScale(name or type(model).__name__,
                                             "F.scaled_dot_product_attention without scale=", d)
    return list(found.values())


def fix_attention_scale(model: nn.Module, hit: AttentionScale, width_mult: float) -> str:
    """Set `hit`'s scale attribute to sqrt(d / m) / d: 1/sqrt(d) at the base width, proportional to 1/d
    as the width grows (mup's 8/d is this with d = 64 at base). Returns what was set."""
    module = model.get_submodule(hit.module)
    value = math.sqrt(hit.d / width_mult) / hit.d
    setattr(module, hit.attribute, value)
    return f"{hit.module}.{hit.attribute} = sqrt(d / m) / d = {value:.4g} (d = {hit.d}, m = {width_mult:g})"


QUERY_NAMES = ("query", "q_proj", "q", "wq", "q_lin", "to_q")


def query_views(entries) -> list[tuple[str, torch.Tensor]]:
    """(label, view) of every query projection's weight and bias among inventory `entries`: the ``q`` blocks
    initlab's inventory gives nn.MultiheadAttention's ``in_proj_weight``/``q_proj_weight`` and a fused
    Hugging Face ``c_attn``, and the whole parameter of a Linear or Conv1D whose own name is one of
    `QUERY_NAMES` (a hand-written attention's ``self.query``, Hugging Face's ``q_proj``)."""
    found = []
    for e in entries:
        if e.role not in ("weight", "bias"):
            continue
        blocks = [b for b in e.blocks if b.label == "q" and e.kind in ("attention", "hf_conv1d")]
        if blocks:
            found += [(f"{e.name}[{b.label}]", b.view(e.parameter)) for b in blocks]
        elif e.kind in ("linear", "hf_conv1d") and e.module_name.rpartition(".")[2] in QUERY_NAMES:
            found.append((e.name, e.parameter))
    return found
