"""Layer-sequential unit-variance (LSUV) initialization (Mishkin & Matas 2016, "All you need is a good init").

The layers are those `initlab.torch.discover` finds on `batch` (forward hooks; any control flow,
transformers, RNNs, Hugging Face models), in first-call order.

1. Every weight block becomes a (semi-)orthogonal matrix (``torch.nn.init.orthogonal_``; a conv
   kernel flattened to (out, in * prod(kernel)); a Hugging Face Conv1D and a ConvTranspose read in
   torch layout (out, in, ...); ``nn.MultiheadAttention``'s q, k and v blocks of ``in_proj_weight``
   (or ``q/k/v_proj_weight``) and ``out_proj`` one by one; an RNN's input and recurrent weights one
   gate block (LSTM i, f, g, o; GRU r, z, n) at a time) and every bias of those layers 0.
2. Layer by layer in first-call order, measure the standard deviation s of what the weight produces
   on `batch` (all entries: batch, channels, positions), and set W <- W * target / s, until the
   layer meets the criterion or `max_iter` rescalings were made. The criterion is the paper's, on the
   variance: |s^2 - target^2| < var_tol * target^2 (``var_tol=0.1`` by default: Mishkin & Matas'
   |Var - 1| < 0.1, so s within 0.9487-1.0488 for target 1); or, with ``std_tol``, on the std:
   |s - target| <= std_tol * target (``std_tol=0.05`` accepts a variance of 0.9025-1.1025, just
   outside the paper's). ``tol`` is the old name of ``std_tol`` (deprecated: a DeprecationWarning;
   it was the std tolerance, so ``tol=0.1`` accepted a variance of 0.81):

   - Linear, Conv, ConvTranspose, Conv1D: the layer's output;
   - ``nn.MultiheadAttention``: q, k and v (``F.linear`` of the layer's query, key and value inputs
     with that block), each scaled on its own, then the attention output (its ``out_proj``), the
     layer rerun with its calibrated q, k, v;
   - RNN/LSTM/GRU: the recurrent weights stay orthogonal (gain 1: the hidden state is neither
     amplified nor damped by them alone); each input-weight gate block is scaled so that its
     contribution to the gate pre-activations, ``x_t @ W_ih_gate.T`` over every step and sample, has
     std `target_std` (layer l > 0 reads layer l - 1's output sequence, recomputed with its
     calibrated weights). An LSTM projection (``weight_hr``) is left orthogonal, not scaled.

   Embeddings are left as they are (their table is looked up, not multiplied: scaling it would only
   move the scale to the next layer, and a Hugging Face model's LayerNorm resets it anyway); so are
   normalization layers (their weight and bias), parameters of no layer (``cls_token``, position
   embeddings, LayerScale gammas) and a layer whose weight is tied to a module called before it
   (GPT-2's ``lm_head`` is its token embedding: rewriting it would change the embedding).
   `LsuvResult.left_alone` lists each such parameter with the reason.

The paper's loop tests the variance against 1; here the variance against `target_std`^2. With zero
biases a layer's output is linear in its own weight, so one rescaling is usually enough. The paper
runs the batch through the model once per layer; here one pass does it all: a forward hook on each
layer calibrates it on its first call, on the inputs that call received (produced by the layers
before it, already calibrated), rerunning the layer alone after each rescaling (its ``forward``: the
user's hooks do not fire again), and hands the calibrated output on to the rest of the pass. That
is the same computation as a fresh pass per layer (without dropout, the same numbers), at the cost
of one forward pass plus the reruns. Every hook is removed afterwards, also on error. Batch statistics are data-dependent: the stds hold
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
from initlab.torch.discover import discover
from initlab.torch.kept import kept
from initlab.torch.inputs import call, check_finite
from initlab.torch.lsuv_blocks import Scaled, blocks, join, orthogonalise
from initlab.torch.trace import TracedLayer


@dataclass(frozen=True)
class Criterion:
    """When a layer's output std s is close enough to the target t: on the variance (the paper's,
    |s^2 - t^2| < var_tol t^2) or on the std (|s - t| <= std_tol t); exactly one of the two is set.

    >>> c = Criterion(1.0, var_tol=0.1)
    >>> c.met(1.048), c.met(1.05), c.met(0.95), c.met(0.948), str(c)
    (True, False, True, False, 'variance 1 +- 0.1')
    >>> Criterion(1.0, std_tol=0.1).met(0.9), str(Criterion(2.0, std_tol=0.05))
    (True, 'std 2 +- 0.1')
    """

    target_std: float
    var_tol: float | None = None
    std_tol: float | None = None

    def met(self, std: float) -> bool:
        t = self.target_std
        if self.var_tol is not None:
            return abs(std * std - t * t) < self.var_tol * t * t
        return abs(std - t) <= self.std_tol * t

    def __str__(self) -> str:
        t = self.target_std
        if self.var_tol is not None:
            return f"variance {t * t:g} +- {self.var_tol * t * t:g}"
        return f"std {t:g} +- {self.std_tol * t:g}"


def criterion(target_std: float, tol, var_tol, std_tol) -> Criterion:
    """The criterion lsuv's arguments ask for (module doc): var_tol=0.1 unless std_tol (or the deprecated
    tol, its old name) is given; both at once is an error."""
    if tol is not None:
        if std_tol is not None:
            raise ArgumentError("tol, std_tol", f"tol is the old name of std_tol; give one, got {tol!r} and {std_tol!r}")
        std_tol = number("tol", tol, positive=True)  # a bad value is an error, without the warning
        warnings.warn("lsuv: 'tol' is deprecated; it is the tolerance on the std, now called std_tol (the default "
                      "is the paper's var_tol=0.1 on the variance)", DeprecationWarning, stacklevel=3)
    if var_tol is not None and std_tol is not None:
        raise ArgumentError("var_tol, std_tol", f"give at most one tolerance (on the variance or on the std), got "
                            f"var_tol={var_tol!r} and std_tol={std_tol!r}")
    if std_tol is not None:
        return Criterion(target_std, std_tol=number("std_tol", std_tol, positive=True))
    return Criterion(target_std, var_tol=number("var_tol", 0.1 if var_tol is None else var_tol, positive=True))


@dataclass(frozen=True)
class LsuvLayer:
    name: str           # the layer; ".q", ".k", ".v", ".out_proj" for attention blocks, ".weight_ih_l0.i" for RNN gates
    std: float          # the output std on `batch` after the last rescaling
    iterations: int     # rescalings made (0: already within tolerance)
    converged: bool


@dataclass(frozen=True)
class LsuvResult:
    layers: tuple[LsuvLayer, ...]
    target_std: float
    criterion: Criterion
    max_iter: int
    left_alone: tuple[tuple[str, str], ...] = ()  # (parameter name, reason) for each parameter lsuv did not set
    discovery: str = ""  # how the layers were found: "hooks" or "hooks+fx" (`initlab.torch.discover`)

    @property
    def var_tol(self) -> float | None:
        return self.criterion.var_tol

    @property
    def std_tol(self) -> float | None:
        return self.criterion.std_tol

    @property
    def tol(self) -> float | None:
        """Deprecated: the old name of `std_tol` (None when the criterion is on the variance, the default)."""
        warnings.warn("LsuvResult.tol is deprecated; read std_tol or var_tol", DeprecationWarning, stacklevel=2)
        return self.std_tol

    @property
    def converged(self) -> bool:
        return all(layer.converged for layer in self.layers)

    def to_json(self) -> dict:
        return {"target_std": self.target_std, "var_tol": self.var_tol, "std_tol": self.std_tol,
                "max_iter": self.max_iter, "discovery": self.discovery,
                "converged": self.converged, "layers": [asdict(layer) for layer in self.layers],
                "left_alone": [{"name": name, "reason": reason} for name, reason in self.left_alone]}

    def __str__(self) -> str:
        width = max([16, *(len(layer.name) for layer in self.layers)])
        rows = [f"{'layer':<{width}} {'std':>8} {'iter':>5}  converged"]
        rows += [f"{layer.name:<{width}} {layer.std:8.4f} {layer.iterations:5d}  {'yes' if layer.converged else 'NO'}"
                 for layer in self.layers]
        rows += [f"left alone: {name} ({reason})" for name, reason in self.left_alone]
        return "\n".join(rows)


def _std(output: torch.Tensor) -> float:
    return float(output.detach().double().std())


def _rescale(block: Scaled, target_std: float, close: Criterion, max_iter: int) -> LsuvLayer:
    iterations = 0
    with torch.no_grad():
        output = block.measure()
        while True:
            std = _std(output)
            converged = close.met(std)
            if converged or iterations == max_iter or not (math.isfinite(std) and std > 0):
                break
            block.view.mul_(target_std / std)
            output = block.measure()  # the block's input does not depend on its own weight
            iterations += 1
    return LsuvLayer(block.name, std, iterations, converged)


def _calibrate(model: nn.Module, batch, target_std: float, close: Criterion, max_iter: int,
               g: torch.Generator) -> tuple[list[LsuvLayer], list[tuple[str, str]]]:
    """Steps 1 and 2 of the module doc, in the mode and RNG fork `lsuv` sets up."""
    structure = discover(model, batch, "batch")  # in training mode, as the pass below runs
    found = structure.layers
    claimed: dict[int, str] = {}  # parameter id -> the layer that owns it (first called)
    active, skipped = [], {}
    for layer in found:
        own = list(layer.module.parameters())
        tied = [claimed[id(p)] for p in own if id(p) in claimed]
        for p in own:
            claimed.setdefault(id(p), layer.name)
        if layer.kind == "embedding":
            skipped[layer.name] = "embedding: looked up, not multiplied; lsuv leaves it as it is"
        elif tied:
            skipped[layer.name] = f"tied to layer '{tied[0]}' (called first); lsuv does not rewrite a shared tensor"
        else:
            active.append(layer)
    for layer in active:  # step 1 for every layer before any measurement
        orthogonalise(layer, g)
    torch.default_generator.manual_seed(int(torch.randint(2**63 - 1, (1,), generator=g)))  # dropout's draws
    report: dict[str, list[LsuvLayer]] = {}

    def calibrate_on_first_call(layer: TracedLayer):
        def hook(module, args, kwargs, output):
            if layer.name in report:
                return None
            report[layer.name] = [_rescale(block, target_std, close, max_iter) for block in blocks(layer, args, kwargs)]
            return module.forward(*args, **kwargs)  # later layers read the calibrated output
        return hook

    handles = [layer.module.register_forward_hook(calibrate_on_first_call(layer), with_kwargs=True)
               for layer in active]
    try:
        with torch.no_grad():
            call(model, batch)
    finally:
        for handle in handles:
            handle.remove()
    missed = [layer.name for layer in active if layer.name not in report]
    if missed:
        raise ArgumentError("model", f"the forward pass on the batch never called layer '{missed[0]}' (it was called "
                            "when the layers were discovered; lsuv needs a forward that calls the same layers "
                            "every time)")
    return [row for layer in active for row in report[layer.name]], _left_alone(model, active, skipped), \
        structure.source


def _left_alone(model: nn.Module, active: list[TracedLayer], skipped: dict[str, str]) -> list[tuple[str, str]]:
    """(parameter name, reason) for every parameter lsuv did not set, in ``named_parameters()`` order,
    then the layers skipped because their weight is another layer's."""
    from initlab.torch.kinds import inventory
    done = {id(p) for layer in active for p in layer.module.parameters()}
    out = []
    for entry in inventory(model):
        if id(entry.parameter) in done and entry.role != "other":  # MHA's bias_k/bias_v have no rule
            continue
        if entry.module_name in skipped:
            reason = skipped[entry.module_name]
        elif entry.kind == "norm":
            reason = "normalization layer: lsuv leaves its weight and bias as they are"
        elif entry.kind is None or entry.role == "other":
            reason = entry.reason or "no lsuv rule for this parameter"
        else:
            reason = "its layer was never called by the forward pass on the batch"
        out.append((entry.name, reason))
    listed = {name for name, _ in out}
    for layer, reason in skipped.items():
        if reason.startswith("tied"):
            out += [(join(layer, short), reason) for short, _ in model.get_submodule(layer).named_parameters()
                    if join(layer, short) not in listed]
    return out


def lsuv(model: nn.Module, batch, target_std: float = 1.0, tol: float | None = None, max_iter: int = 10, *,
         var_tol: float | None = None, std_tol: float | None = None,
         generator: torch.Generator | None = None, seed: int | None = None) -> LsuvResult:
    """LSUV-initialise `model` in place on `batch` (a tensor, or a dict of tensors called as
    ``model(**batch)``; see the module doc); returns per-layer (per-block) stds and what was left alone.

    A layer that still misses the criterion (``var_tol``, default 0.1, on the variance; or ``std_tol`` on
    the std; ``tol``: std_tol's deprecated old name) after `max_iter` rescalings (or whose output
    std is 0 or not finite, which no scaling fixes) is reported with ``converged=False`` and a
    warning; nothing is raised. A batch holding NaN or infinite floats is refused (ArgumentError naming
    `batch`) before the model is changed.
    """
    if not isinstance(model, nn.Module):
        raise ArgumentTypeError("model", f"expected a torch.nn.Module, got {type(model).__name__}")
    target_std = number("target_std", target_std, positive=True)
    close = criterion(target_std, tol, var_tol, std_tol)
    max_iter = integer("max_iter", max_iter, minimum=1)
    batch = check_finite(batch)  # before step 1 orthogonalises: no std can be fitted to NaN outputs
    g = generator_from(generator, seed)
    with kept(model), torch.random.fork_rng(devices=[]):
        model.train()
        report = _calibrate(model, batch, target_std, close, max_iter, g)
    report, left_alone, source = report
    missed = [f"{r.name} (std {r.std:.4g})" for r in report if not r.converged]
    if missed:
        warnings.warn(f"lsuv: {len(missed)} layer(s) did not reach {close} within max_iter={max_iter}: "
                      f"{', '.join(missed)}", stacklevel=2)
    return LsuvResult(tuple(report), target_std, close, max_iter, tuple(left_alone), source)
