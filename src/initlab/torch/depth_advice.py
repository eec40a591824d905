"""The depth scheme `initlab.torch.auto` and `initlab diagnose` name next to their own results.

`initlab.torch.depth.recommend_depth_scheme` reads the residual branches off one recorded forward pass.
Both callers have run the model already and know from torch.fx whether its forward adds tensors at all
(`merges`): for a chain (0) nothing more runs, as there is no residual branch to find. Otherwise the
branches are found by `initlab.torch.residual.probe` on the first sample of the batch only: the probe
clones every module's inputs and outputs and compares their values, and which layers feed which sums
does not depend on the batch size, so one sample costs a small fraction of the caller's own pass
(``python benchmarks/depth_advice.py`` measures it). The probe cannot share the caller's pass: it
perturbs every layer's output so that zero outputs cannot match by accident.

>>> import torch
>>> from torch import nn
>>> class Block(nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.norm, self.fc = nn.LayerNorm(8), nn.Linear(8, 8)
...     def forward(self, x):
...         return x + self.fc(self.norm(x))
>>> advice = depth_advice(nn.Sequential(Block(), Block()), torch.randn(4, 8), merges=None)
>>> advice.scheme, advice.python
('scaled_residual', 'initlab.torch.depth.scaled_residual(model, example, seed=0)')
>>> depth_advice(nn.Sequential(nn.Linear(8, 8), nn.ReLU()), torch.randn(4, 8), merges=0) is None
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

import torch
from torch import nn

from initlab._errors import ArgumentError
from initlab.torch.depth import recommend_for_branches
from initlab.torch.residual import probe

BRANCH_SCHEMES = ("scaled_residual", "fixup", "skipinit", "deepnorm", "depth_mup")  # need residual branches


@dataclass(frozen=True)
class DepthAdvice:
    """A named depth scheme: `scheme`, `why` in one line, and the `python` call (`example`: a batch of inputs)."""

    scheme: str
    why: str
    python: str

    def to_json(self) -> dict:
        return asdict(self)

    def line(self) -> str:
        return f"{self.scheme} - {self.why}; in Python: {self.python}"


def first_sample(batch):
    """The batch cut to its first sample (every tensor of a dict batch with the same first dimension)."""
    if isinstance(batch, torch.Tensor):
        return batch[:1] if batch.dim() else batch
    n = next(v for v in batch.values() if isinstance(v, torch.Tensor)).shape[:1]
    return {k: v[:1] if isinstance(v, torch.Tensor) and v.dim() and v.shape[:1] == n else v
            for k, v in batch.items()} if isinstance(batch, Mapping) else batch


def depth_advice(model: nn.Module, batch, merges: int | None, *, residual_only: bool = False) -> DepthAdvice | None:
    """The depth scheme `model`'s structure calls for (`initlab.torch.depth.recommend_depth_scheme`), or None
    when it calls for none. `merges`: torch.fx's count of additions and concatenations in the forward (None:
    fx did not trace); `residual_only`: name only schemes for residual branches (not delta-orthogonal
    kernels for a deep convolution chain)."""
    if merges == 0:
        if residual_only:
            return None
        branches = []
    else:
        try:
            branches = probe(model, first_sample(batch)).branches
        except ArgumentError:  # a forward that refuses one sample: name nothing rather than fail the caller
            return None
    found = recommend_for_branches(model, branches)
    if found.scheme == "none" or (residual_only and found.scheme not in BRANCH_SCHEMES):
        return None
    return DepthAdvice(found.scheme, found.why, f"initlab.torch.depth.{found.call}")
