"""One pass at initialization -> per-layer statistics, theory, verdict: `diagnose`, `diagnose_mlp`,
`diagnose_torch`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from initlab._errors import ArgumentError, ArgumentTypeError
from initlab.diagnose.capture import Capture
from initlab.diagnose.expected import expected
from initlab.diagnose.mlp_probe import capture_mlp, describe_mlp
from initlab.diagnose.stats import layer_stats, sigma_b2, sigma_w2
from initlab.diagnose.verdict import Diagnosis, diagnosis


def diagnose(captures: Sequence[Capture], input_mean_square: float, model: str) -> Diagnosis:
    """Statistics, theory and verdict for the `captures` of one pass; `input_mean_square` = mean(X^2)
    of the batch (theory's q(0)); `model` names the model in the report.

    Theory's backward map runs on root mean squares, E[dz(l)^2] = E[phi'^2] mean(W(l+1)^2)
    backward_fan(l+1) E[dz(l+1)^2], anchored at the output layer's measured rms; `expected_grad_std`
    is therefore compared with `LayerStats.grad_rms` (as `expected_pre_std` = sqrt(q) is with
    `pre_rms`), while `grad_std` stays the std of the entries."""
    captures = list(captures)
    if not captures:
        raise ArgumentError("captures", "expected at least one dense or convolutional layer, got none")
    w2 = [sigma_w2(c) for c in captures]
    with np.errstate(all="ignore"):  # theory propagates E[dz^2]: anchor it with the output's rms, not its std
        last_grad_rms = float(np.sqrt(np.mean(np.square(captures[-1].dz))))
    theory = expected(float(input_mean_square), w2, [sigma_b2(c) for c in captures],
                      [c.activation for c in captures], [c.units for c in captures],
                      [w * c.backward_fan / c.fan_in for w, c in zip(w2, captures)], last_grad_rms)
    layers = [layer_stats(i, c, e) for i, (c, e) in enumerate(zip(captures, theory), start=1)]
    return diagnosis(layers, [c.activation for c in captures], model)


def _mean_square(X) -> float:
    with np.errstate(all="ignore"):
        return float(np.mean(np.square(np.asarray(X, dtype=np.float64))))


def diagnose_mlp(net, X: np.ndarray, y: np.ndarray) -> Diagnosis:
    """Diagnose the NumPy engine's `MLP` on the batch (`X`, `y`)."""
    return diagnose(capture_mlp(net, X, y), _mean_square(net.as_input(X)), describe_mlp(net))


def diagnose_torch(model, batch, target=None) -> Diagnosis:
    """Diagnose a PyTorch `model` on `batch` (a tensor), with integer class `target`s or None (a fixed
    random output gradient); see `initlab.diagnose.torch_probe`. The model is left unchanged."""
    import torch  # torch only here

    from initlab.diagnose.torch_probe import capture_torch, describe_torch, untreated_modules
    from initlab.torch.trace import structure
    if not isinstance(batch, torch.Tensor):  # checked before the model, as capture_torch does
        raise ArgumentTypeError("batch", f"expected a torch.Tensor, got {type(batch).__name__}")
    traced = structure(model)  # one trace: the layers and the merges
    captures = capture_torch(model, batch, target, traced.layers)
    result = diagnose(captures, _mean_square(batch.detach().cpu().double().numpy()), describe_torch(model, captures))
    caveats = []
    others = untreated_modules(model)
    if others:
        listed = ", ".join(f"{name} x{count}" for name, count in others.items())
        caveats.append(f"not diagnosed: {listed} (modules with parameters that are not Linear/Conv); theory "
                       "treats a chain of Linear/Conv layers and elementwise activations, so expected values "
                       "around them are approximate")
    branches = traced.merges
    if branches:
        caveats.append(f"not a plain chain: the forward adds or concatenates computed tensors {branches} time(s) "
                       "(residual connections or branches); theory's expected values assume a chain there")
    return replace(result, evidence=[*result.evidence, *caveats]) if caveats else result
