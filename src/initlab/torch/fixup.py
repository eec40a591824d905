"""Fixup (Zhang, Dauphin & Ma 2019): residual learning without normalisation, as a model-level init."""

from __future__ import annotations

import torch
from torch import nn

from initlab._errors import ArgumentError
from initlab.init import initializer
from initlab.torch import gates
from initlab.torch.apply import apply, generator_from
from initlab.torch.depth_result import DepthResult, found, model_modules
from initlab.torch.kinds import kind_of
from initlab.torch.residual import probe


def fixup(model: nn.Module, example=None, *, scheme: str = "he_normal", zero_head: bool = True,
          scalars: bool = True, targets=None, generator: torch.Generator | None = None,
          seed: int | None = None) -> DepthResult:
    """Fixup (Zhang, Dauphin & Ma 2019, "Fixup initialization: residual learning without normalization"):

    1. the last layer of every residual branch and the classification layer (`zero_head`) are 0;
    2. the branch's other m - 1 weight layers are drawn by `scheme` (He et al.) and multiplied by
       L^(-1/(2m - 2)), L the number of branches (m = 2 for a basic block: L^(-1/2));
    3. (`scalars`) a scalar bias (0) before every branch layer and after it, and a scalar multiplier (1)
       after the last one: the paper's reference basic block, bias1a, conv1, bias1b, relu, bias2a, conv2,
       scale, bias2b, added as parameters with forward hooks (`initlab.torch.gates`).

    Fixup replaces normalisation: a branch holding a norm layer is refused. The classifier is the last
    Linear/Conv called outside every branch. A branch with one weight layer only gets its zero.
    """
    modules = model_modules(model)
    initializer(scheme, layout="torch", argument="scheme")  # a bad spec is refused before anything is written
    probed = probe(model, example, targets=targets)
    branches = found(probed.branches, model, "fixup")
    for b in branches:
        norms = [n for n in b.layers if kind_of(modules[n]) == "norm"]
        if norms:
            raise ArgumentError("model", f"branch '{b.output}' has the norm layer '{norms[0]}': Fixup is for residual "
                                         f"networks without normalisation; use skipinit (zero-init the last norm)")
        odd = [n for n in b.layers if kind_of(modules[n]) not in ("linear", "conv")]
        if odd:
            raise ArgumentError("model", f"branch '{b.output}' has '{odd[0]}' ({type(modules[odd[0]]).__name__}): "
                                         f"Fixup is defined for branches of Linear and Conv layers")
    names = [n for b in branches for n in b.layers]
    if scalars:
        gates.check_free(modules, names, "fixup_bias_in", "fixup")
    head = _head(model, probed.order, branches) if zero_head else None
    g = generator_from(generator, seed)
    count = len(branches)
    changed, hooks = [], []
    for b in branches:
        m = len(b.layers)
        factor = count ** (-1.0 / (2 * m - 2)) if m > 1 else 1.0
        for position, name in enumerate(b.layers):
            layer = modules[name]
            last = position == m - 1
            with torch.no_grad():
                if last:
                    layer.weight.zero_()
                    changed.append((f"{name}.weight", "zeros (last layer of the branch)"))
                else:
                    apply(layer, scheme, "zeros", generator=g)
                    layer.weight.mul_(factor)
                    changed.append((f"{name}.weight", f"{scheme} x L^(-1/(2m-2)) = {factor:.4g} (L = {count}, m = {m})"))
                if layer.bias is not None:
                    layer.bias.zero_()
            if scalars:
                hooks.append(gates.add(layer, "fixup_bias_in", 0.0, "add_to_input", learned=True))
                if last:
                    hooks.append(gates.add(layer, "fixup_scale", 1.0, "multiply_output", learned=True))
                hooks.append(gates.add(layer, "fixup_bias_out", 0.0, "add_to_output", learned=True))
                changed.append((name, "scalars " + ", ".join(s for s in gates.SCALARS if s.startswith("fixup")
                                                             and hasattr(layer, s))))
    left = []
    if head is not None:
        with torch.no_grad():
            modules[head].weight.zero_()
            if modules[head].bias is not None:
                modules[head].bias.zero_()
        changed.append((f"{head}.weight", "zeros (classification layer)"))
    elif zero_head:
        left.append(("classifier", "no Linear/Conv is called after the last branch" if probed.order else
                     "not zeroed: without an example the classifier is not known (it is found on a forward pass)"))
    return DepthResult("fixup", "branch last layer 0, other branch layers x L^(-1/(2m-2)), classifier 0",
                       "Zhang, Dauphin & Ma 2019 (Fixup)", {"L": count}, tuple(branches), tuple(changed),
                       tuple(left), tuple(hooks))


def _head(model, order: list[str], branches) -> str | None:
    """The last Linear/Conv the forward calls after the last branch output, if any."""
    if not order:
        return None
    inside = {n for b in branches for n in b.layers}
    last_branch = max(order.index(b.output) for b in branches)
    after = [n for n in order[last_branch + 1:] if n not in inside and kind_of(model.get_submodule(n)) in ("linear", "conv")]
    return after[-1] if after else None
