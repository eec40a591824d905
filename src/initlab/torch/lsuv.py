"""Layer-sequential unit-variance (LSUV) initialization (Mishkin & Matas 2016, "All you need is a good init").

1. Every Linear/Conv weight W becomes a (semi-)orthogonal matrix (``torch.nn.init.orthogonal_``, a
   conv kernel flattened to (out, in * prod(kernel))) and every bias 0.
2. Layer by layer in execution order: run `batch` through the model, measure the standard deviation
   s of the layer's output (all entries: batch, channels, positions), and set W <- W * target / s,
   until |s - target| <= tol * target or `max_iter` rescalings were made.

The paper's loop tests the variance against 1; here it tests the std against `target_std`. With zero
biases a layer's output is linear in its own weight, so one rescaling is usually enough. The layer's
input and output are read by a forward hook that stops the pass at that layer (later layers need not
run); a rescaled layer is rerun alone on that input (its ``forward``: the user's hooks do not fire
again). Every hook is removed afterwards, also on error. Batch statistics are data-dependent: the stds hold
for inputs like `batch` (the tests check a fresh batch).

The passes run as in training, whatever mode the model is in: in training mode (batch norm normalises
by the batch's own statistics, dropout is active), so the stds are those training starts from. Nothing
else is left changed: the modules' train/eval flags and every buffer (batch norm's running mean and
variance, num_batches_tracked) are restored afterwards, also on error, and dropout draws from a fork
of torch's global CPU RNG (``torch.random.fork_rng``) seeded by one draw of `generator` after the
orthogonal weights: the global RNG state is unchanged and the same seed gives the same result.

>>> import torch
>>> net = torch.nn.Sequential(torch.nn.Linear(20, 50), torch.nn.ReLU(), torch.nn.Linear(50, 5))
>>> x = torch.randn(256, 20, generator=torch.Generator().manual_seed(0))
>>> result = lsuv(net, x, seed=0)
>>> [round(layer.std, 2) for layer in result.layers], result.converged
([1.0, 1.0], True)
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

import torch
from torch import nn

from initlab._errors import ArgumentError, ArgumentTypeError
from initlab._checks import integer, number
from initlab.torch.apply import generator_from
from initlab.torch.trace import layers, run


@dataclass(frozen=True)
class LsuvLayer:
    name: str
    std: float          # the layer's output std on `batch` after the last rescaling
    iterations: int     # rescalings made (0: already within tolerance)
    converged: bool


@dataclass(frozen=True)
class LsuvResult:
    layers: tuple[LsuvLayer, ...]
    target_std: float
    tol: float
    max_iter: int

    @property
    def converged(self) -> bool:
        return all(layer.converged for layer in self.layers)

    def to_json(self) -> dict:
        return {"target_std": self.target_std, "tol": self.tol, "max_iter": self.max_iter,
                "converged": self.converged, "layers": [asdict(layer) for layer in self.layers]}

    def __str__(self) -> str:
        rows = [f"{'layer':<16} {'std':>8} {'iter':>5}  converged"]
        rows += [f"{layer.name:<16} {layer.std:8.4f} {layer.iterations:5d}  {'yes' if layer.converged else 'NO'}"
                 for layer in self.layers]
        return "\n".join(rows)


class _Stop(Exception):
    """Raised by the hook once the layer's output is read: the rest of the forward pass is skipped."""


def _layer_io(model: nn.Module, name: str, module: nn.Module, batch: torch.Tensor) -> tuple[tuple, torch.Tensor]:
    """The inputs and output of `module`'s (layer `name`'s) first call when `model` runs `batch`; the pass stops
    there."""
    seen: list[tuple[tuple, torch.Tensor]] = []

    def hook(_module, inputs, output):
        seen.append((inputs, output))
        raise _Stop

    handle = module.register_forward_hook(hook)
    try:
        with torch.no_grad():
            model(batch)
    except _Stop:
        pass
    finally:
        handle.remove()
    if not seen:
        raise ArgumentError("model", f"the forward pass on the batch never called layer '{name}' (it was called when "
                         "the model was traced; lsuv needs a forward that calls the same layers every time)")
    return seen[0]


def _std(output: torch.Tensor) -> float:
    return float(output.detach().double().std())


def _calibrate(model: nn.Module, batch: torch.Tensor, target_std: float, tol: float, max_iter: int,
               g: torch.Generator) -> list[LsuvLayer]:
    """Steps 1 and 2 of the module doc, in the mode and RNG fork `lsuv` sets up."""
    run(model, batch, "batch")
    found = layers(model)  # traced in training mode, as the passes below run
    for layer in found:
        nn.init.orthogonal_(layer.module.weight, generator=g)
        if layer.module.bias is not None:
            nn.init.zeros_(layer.module.bias)
    torch.default_generator.manual_seed(int(torch.randint(2**63 - 1, (1,), generator=g)))  # dropout's draws
    report = []
    for layer in found:
        weight, iterations = layer.module.weight, 0
        inputs, output = _layer_io(model, layer.name, layer.module, batch)
        while True:
            std = _std(output)
            converged = abs(std - target_std) <= tol * target_std
            if converged or iterations == max_iter or not (math.isfinite(std) and std > 0):
                break
            with torch.no_grad():
                weight.mul_(target_std / std)
                output = layer.module.forward(*inputs)  # the layer's input does not depend on its own weight
            iterations += 1
        report.append(LsuvLayer(layer.name, std, iterations, converged))
    return report


def lsuv(model: nn.Module, batch: torch.Tensor, target_std: float = 1.0, tol: float = 0.1, max_iter: int = 10, *,
         generator: torch.Generator | None = None, seed: int | None = None) -> LsuvResult:
    """LSUV-initialise `model` in place on `batch` (see the module doc); returns per-layer stds.

    A layer still outside ``target_std * (1 +- tol)`` after `max_iter` rescalings (or whose output
    std is 0 or not finite, which no scaling fixes) is reported with ``converged=False`` and a
    warning; nothing is raised.
    """
    if not isinstance(model, nn.Module):
        raise ArgumentTypeError("model", f"expected a torch.nn.Module, got {type(model).__name__}")
    target_std = number("target_std", target_std, positive=True)
    tol = number("tol", tol, positive=True)
    max_iter = integer("max_iter", max_iter, minimum=1)
    g = generator_from(generator, seed)
    modes = {m: m.training for m in model.modules()}
    buffers = [(b, b.detach().clone()) for b in model.buffers()]
    try:
        with torch.random.fork_rng(devices=[]):
            model.train()
            report = _calibrate(model, batch, target_std, tol, max_iter, g)
    finally:
        with torch.no_grad():
            for buffer, saved in buffers:
                buffer.copy_(saved)
        for m, training in modes.items():
            m.train(training)
    missed = [f"{r.name} (std {r.std:.4g})" for r in report if not r.converged]
    if missed:
        warnings.warn(f"lsuv: {len(missed)} layer(s) did not reach std {target_std:g} +- {tol * target_std:g} "
                      f"within max_iter={max_iter}: {', '.join(missed)}", stacklevel=2)
    return LsuvResult(tuple(report), target_std, tol, max_iter)
