"""`DepthResult`, what a depth scheme (`initlab.torch.depth`) did, and the checks the schemes share."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from initlab._errors import ArgumentError, ArgumentTypeError
from initlab.torch.kinds import kind_of
from initlab.torch.residual import Branch


@dataclass(frozen=True)
class DepthResult:
    """What a depth scheme did: its name, formula and source, the numbers it used (`values`), the
    branches it found, every parameter or scalar it `changed` (name, what) and what it `left` alone
    (name, why); `hooks` holds the handles of the forward hooks it added (``handle.remove()`` undoes one)."""

    scheme: str
    formula: str
    source: str
    values: dict
    branches: tuple[Branch, ...]
    changed: tuple[tuple[str, str], ...]
    left: tuple[tuple[str, str], ...] = ()
    hooks: tuple = field(default=(), repr=False)

    def __str__(self) -> str:
        values = ", ".join(f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}" for k, v in self.values.items())
        lines = [f"{self.scheme}: {self.formula} ({self.source})", f"  {values}",
                 f"  {len(self.branches)} residual branches; changed {len(self.changed)}:"]
        lines += [f"    {name}: {what}" for name, what in self.changed]
        if self.left:
            lines.append(f"  left alone {len(self.left)}:")
            lines += [f"    {name}: {why}" for name, why in self.left]
        return "\n".join(lines)


def model_modules(model) -> dict[str, nn.Module]:
    if not isinstance(model, nn.Module):
        raise ArgumentTypeError("model", f"expected a torch.nn.Module, got {type(model).__name__}")
    return dict(model.named_modules())


def found(branches: list[Branch], model, scheme: str) -> list[Branch]:
    if not branches:
        raise ArgumentError("model", f"found no residual branch (a layer output added to the tensor its branch "
                                     f"started from) in {type(model).__name__}, so {scheme} has nothing to scale; "
                                     f"give targets=[names of the branch output layers] if the sum is hidden")
    return branches


def output_weight(modules, branch: Branch) -> tuple[str, torch.Tensor]:
    """(name, tensor) of the weight that writes the branch into the stream (MHA: out_proj.weight)."""
    module = modules[branch.output]
    if kind_of(module) == "attention":
        return f"{branch.output}.out_proj.weight", module.out_proj.weight
    return f"{branch.output}.weight", module.weight


def no_norm_output(modules, branches, scheme: str, instead: str) -> None:
    for b in branches:
        if kind_of(modules[b.output]) == "norm":
            raise ArgumentError("model", f"branch '{b.output}' ends in a norm ({type(modules[b.output]).__name__}), "
                                         f"which undoes any scale of the weights before it, so {scheme} has no "
                                         f"effect there; use {instead}")
