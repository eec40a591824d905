"""The forward hooks of the coordinate check: the rms of every module's output at every step of a run,
kept on the model's device until the run ends (one transfer, no synchronisation per step).

Every named module but the root (the root only when it has no children) gets a forward hook reading
its first output tensor (`initlab.torch.discover.first_tensor_of`) when it is floating: its 2-norm,
in float32, divided by sqrt(numel) at the end. A module called several times in one forward pass
counts its first call. Attention logits get entries of their own, named ``<module>.logits``
unless the module is itself the logits:

- ``nn.MultiheadAttention``: a pre-hook recomputes q.k / sqrt(head_dim) from its inputs and its
  in-projection weights (`initlab.torch.attention`), on the first `SAMPLES` samples;
- a Hugging Face style self-attention module (``query``/``key``, ``q_proj``/``k_proj`` or GPT-2's
  ``c_attn`` children and a head count): from its projections' outputs and its ``scaling``;
- plain attention written out: an ``nn.Identity`` (or any parameter-free module) whose name ends in
  ``logits`` or ``scores``, through which the model passes its softmax input; its output *is* the
  logits.

Masks are not applied to recomputed logits: the check is about their scale.

Each entry's *update* is recorded too: the rms of (output at step t - output at step 0), on the same
batch (0 at step 0). The step-0 outputs are kept (a copy each) until the run ends; an output whose
shape changed (it cannot, on one batch) gives nan.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from initlab.torch.attention import hf_projections, hf_query_key, hf_scaling, mha_query_key, mha_scaling
from initlab.torch.discover import first_tensor_of

SAMPLES = 64  # samples the recomputed attention logits are measured on
LOGIT_NAMES = ("logits", "scores")


def is_logits_module(name: str, module: nn.Module) -> bool:
    """A parameter-free module the model passes its attention logits through (module doc)."""
    last = name.rpartition(".")[2].lower()
    return last.endswith(LOGIT_NAMES) and next(module.parameters(), None) is None and name != ""


def _norm(x: torch.Tensor) -> torch.Tensor:
    return torch.linalg.vector_norm(x.detach(), dtype=torch.float32)


class Recorder:
    """Hooks on `model` recording, per forward pass (call `step()` after each), each module's output norm,
    size and update norm. `attention` holds the names of the logits entries; `order` numbers the modules
    by first call; `inputs` gives the size of each module's first input."""

    def __init__(self, model: nn.Module):
        self.current: dict[str, torch.Tensor] = {}
        self.norms: dict[str, list[torch.Tensor]] = {}
        self.first: dict[str, torch.Tensor] = {}  # each entry's output at the first pass
        self.current_delta: dict[str, torch.Tensor] = {}
        self.buffer: torch.Tensor | None = None  # see _scratch
        self.deltas: dict[str, list[torch.Tensor]] = {}
        self.numel: dict[str, int] = {}
        self.inputs: dict[str, int] = {}  # numel of each module's first input tensor
        self.order: dict[str, int] = {}  # first-call order (when each module's call started)
        self.attention: dict[str, bool] = {}
        self.handles = []
        modules = list(model.named_modules())
        for name, module in modules:
            if name or len(modules) == 1:
                self.handles.append(module.register_forward_pre_hook(self._before(name)))
                self.handles.append(module.register_forward_hook(self._after(name)))
                if is_logits_module(name, module):
                    self.attention[name] = True
            if isinstance(module, nn.MultiheadAttention):
                self.handles.append(module.register_forward_pre_hook(self._mha(name), with_kwargs=True))
            elif (projections := hf_projections(module)) is not None:
                self.handles += self._hf(name, module, projections)

    def step(self) -> None:
        """End the pass recorded so far and start the next."""
        for name, norm in self.current.items():
            self.norms.setdefault(name, []).append(norm)
        for name, norm in self.current_delta.items():
            self.deltas.setdefault(name, []).append(norm)
        self.current, self.current_delta = {}, {}

    def _keep(self, name: str, value: torch.Tensor) -> None:
        if name in self.current:
            return
        self.current[name] = _norm(value)
        self.numel.setdefault(name, value.numel())
        start = self.first.get(name)
        if start is None:
            self.first[name] = value.detach().clone()  # a copy: an in-place op (ReLU(inplace)) may change it
            self.current_delta[name] = torch.zeros((), dtype=torch.float32, device=value.device)
        elif start.shape == value.shape:
            self.current_delta[name] = _norm(torch.sub(value.detach(), start, out=self._scratch(start)))
        else:
            self.current_delta[name] = torch.full((), float("nan"), device=value.device)

    def _scratch(self, like: torch.Tensor) -> torch.Tensor:
        """A buffer shaped like `like`, a view of one kept for the whole run: a difference is taken into it
        instead of a new tensor per module and step (allocating large tensors costs page faults on CPU)."""
        if self.buffer is None or self.buffer.numel() < like.numel() or self.buffer.dtype != like.dtype \
                or self.buffer.device != like.device:
            self.buffer = torch.empty(like.numel(), dtype=like.dtype, device=like.device)
        return self.buffer[:like.numel()].view(like.shape)

    def _before(self, name: str):
        def hook(module, args):
            self.order.setdefault(name, len(self.order))
            x = first_tensor_of(tuple(args))
            if x is not None and name not in self.inputs:
                self.inputs[name] = x.numel()
        return hook

    def _after(self, name: str):
        def hook(module, args, output):
            out = first_tensor_of(output)
            if out is not None and out.is_floating_point():
                self._keep(name, out)
        return hook

    def _logits(self, name: str, q: torch.Tensor, k: torch.Tensor, scaling: float) -> None:
        with torch.no_grad():
            q, k = q[:SAMPLES], k[:SAMPLES]
            self._keep(name + ".logits", (q @ k.transpose(-1, -2)) * scaling)
        self.attention[name + ".logits"] = True
        self.order.setdefault(name + ".logits", self.order.get(name, len(self.order)))

    def _mha(self, name: str):
        def hook(m, args, kwargs):
            query = args[0] if args else kwargs.get("query")
            key = args[1] if len(args) > 1 else kwargs.get("key", query)
            if isinstance(query, torch.Tensor) and name + ".logits" not in self.current:
                with torch.no_grad():
                    q, k = mha_query_key(m, query, key)
                self._logits(name, q, k, mha_scaling(m))
        return hook

    def _hf(self, name: str, module: nn.Module, projections: dict) -> list:
        outputs: dict[str, torch.Tensor] = {}

        def keep(role):
            def hook(m, args, output):
                outputs.setdefault(role, output)
            return hook

        def hook(m, args, output):
            if "c_attn" in outputs or {"q", "k"} <= outputs.keys():
                q, k = hf_query_key(m, outputs)
                self._logits(name, q, k, hf_scaling(m))
            outputs.clear()
        return [child.register_forward_hook(keep(role)) for role, child in projections.items()] + \
            [module.register_forward_hook(hook)]

    def remove(self) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
        """Remove the hooks; ({name: rms per recorded pass}, {name: rms of the update per pass}) for the
        entries recorded in every pass."""
        for handle in self.handles:
            handle.remove()
        self.first, self.buffer = {}, None
        passes = max((len(v) for v in self.norms.values()), default=0)
        names = [name for name, values in self.norms.items() if len(values) == passes]
        if not names:
            return {}, {}
        both = torch.stack([torch.stack(self.norms[name] + self.deltas[name]) for name in names])
        both = both.cpu().double().numpy()  # one transfer for the whole run
        scale = [math.sqrt(max(self.numel[name], 1)) for name in names]
        rms = {name: (row[:passes] / s).tolist() for name, row, s in zip(names, both, scale)}
        delta = {name: (row[passes:] / s).tolist() for name, row, s in zip(names, both, scale)}
        return rms, delta
