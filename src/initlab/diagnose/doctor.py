"""One pass at initialization -> per-layer statistics, theory, verdict: `diagnose`, `diagnose_mlp`,
`diagnose_torch`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import fields, replace

import numpy as np

from initlab._errors import ArgumentError
from initlab.diagnose.capture import Capture
from initlab.diagnose.coverage import Coverage
from initlab.diagnose.expected import Expected, expected
from initlab.diagnose.mlp_probe import capture_mlp, describe_mlp
from initlab.diagnose.stats import layer_stats, sigma_b2, sigma_w2
from initlab.diagnose.verdict import Diagnosis, diagnosis


def diagnose(captures: Sequence[Capture], input_mean_square: float, model: str,
             coverage: Coverage | None = None, detail: bool = False) -> Diagnosis:
    """Statistics, theory and verdict for the `captures` of one pass; `input_mean_square` = mean(X^2)
    of the batch (theory's q(0)); `model` names the model in the report; `coverage` what the chain
    theory leaves out of it (None: a chain, as the NumPy engine's MLP; `initlab.diagnose.coverage`).

    Theory's backward map runs on root mean squares, E[dz(l)^2] = E[phi'^2] mean(W(l+1)^2)
    backward_fan(l+1) E[dz(l+1)^2], anchored at the output layer's measured rms; `expected_grad_std`
    is therefore compared with `LayerStats.grad_rms` (as `expected_pre_std` = sqrt(q) is with
    `pre_rms`), while `grad_std` stays the std of the entries. For a model the chain theory does not
    cover (`coverage` not a chain) the expected values are nan: the table shows '-' and the verdict rests
    on measured quantities (`initlab.diagnose.measured`). `detail` adds each layer's histograms of
    activations, dL/dz and dL/dW (`Diagnosis.distributions`) and, for a chain, two inputs' correlation
    against the correlation map (`Diagnosis.correlation`)."""
    captures = list(captures)
    if not captures:
        raise ArgumentError("captures", "expected at least one dense or convolutional layer, got none")
    w2 = [sigma_w2(c) for c in captures]
    with np.errstate(all="ignore"):  # theory propagates E[dz^2]: anchor it with the output's rms, not its std
        last_grad_rms = float(np.sqrt(np.mean(np.square(captures[-1].dz))))
    theory = expected(float(input_mean_square), w2, [sigma_b2(c) for c in captures],
                      [c.activation for c in captures], [c.units for c in captures],
                      [w * c.backward_fan / c.fan_in for w, c in zip(w2, captures)], last_grad_rms)
    if coverage is not None and not coverage.chain:  # a chain's numbers would mislead: none rather than wrong ones
        theory = [Expected(*[math.nan] * len(fields(Expected))) for _ in captures]
    layers = [layer_stats(i, c, e) for i, (c, e) in enumerate(zip(captures, theory), start=1)]
    result = diagnosis(layers, [c.activation for c in captures], model, coverage)
    if not detail:
        return result
    from initlab.diagnose.correlation import correlations
    from initlab.diagnose.distributions import layer_distributions
    chain = coverage is None or coverage.chain
    return replace(result, distributions=layer_distributions(captures),
                   correlation=correlations(captures) if chain else None)


def _mean_square(X) -> float:
    with np.errstate(all="ignore"):
        return float(np.mean(np.square(np.asarray(X, dtype=np.float64))))


def mlp_pass(net, X: np.ndarray, y: np.ndarray) -> tuple[list[Capture], float]:
    """The captures of one pass of the NumPy engine's `MLP` on (`X`, `y`) and theory's q(0) = mean(X^2): what
    `diagnose`, the Jacobian spectrum (`initlab.diagnose.jacobian`) and the playground's layer views read."""
    return capture_mlp(net, X, y), _mean_square(net.as_input(X))


def diagnose_mlp(net, X: np.ndarray, y: np.ndarray, detail: bool = False) -> Diagnosis:
    """Diagnose the NumPy engine's `MLP` on the batch (`X`, `y`) (`detail`: see `diagnose`)."""
    return diagnose(*mlp_pass(net, X, y), describe_mlp(net), detail=detail)


def _torch_input_mean_square(batch) -> float:
    """Theory's q(0): mean(X^2) of float inputs; 1 for token ids (a one-hot input: the embedding's
    captured sigma_w2 = mean(table^2), fan_in 1, then predicts its output's second moment)."""
    from initlab.torch.inputs import first_tensor
    x = first_tensor(batch)
    return _mean_square(x.detach().cpu().double().numpy()) if x.is_floating_point() else 1.0


def diagnose_torch(model, batch, target=None, output=None, detail: bool = False) -> Diagnosis:
    """Diagnose a PyTorch `model` on `batch` (a tensor or a dict of tensors), with integer class
    `target`s or None (a fixed random output gradient), the loss on `output` (a key or index of the
    model's output; `initlab.torch.inputs.select_output`); see `initlab.diagnose.torch_probe`. The model
    is left unchanged. `Diagnosis.depth_scheme` names the depth scheme of `initlab.torch.depth` the model's
    residual structure calls for (`initlab.torch.depth_advice`), if any."""
    from initlab.diagnose.coverage import torch_coverage
    from initlab.diagnose.inside import recording
    from initlab.diagnose.torch_probe import capture_and_discover, describe_torch, unreached, untreated_modules
    from initlab.torch.inputs import check_batch
    import torch  # torch only here
    batch = check_batch(batch)  # checked before the model, as capture_torch does
    if isinstance(model, torch.nn.Module) and next(model.parameters(), None) is None:
        raise ArgumentError("model", f"{type(model).__name__} has no parameters: nothing to diagnose")
    with recording(model) as inside:  # norms, attention, gates: measured in the same pass
        captures, traced = capture_and_discover(model, batch, target, output)  # one pass: layers, merges, captures
    if not captures:
        raise ArgumentError("model", "no layer's output reaches the loss (no gradient flows to any layer)")
    others = untreated_modules(model)
    coverage = torch_coverage(traced, captures, others, inside)
    result = diagnose(captures, _torch_input_mean_square(batch), describe_torch(model, captures), coverage, detail)
    caveats = []
    missed = unreached(traced.layers, captures)
    if missed:
        caveats.append(f"not diagnosed: {', '.join(missed)} (the selected output does not depend on "
                       f"{'them' if len(missed) > 1 else 'it'})")
    return replace(result, evidence=[*result.evidence, *caveats], depth_scheme=_depth(model, batch, traced, result),
                   discovery=traced.source)


def _depth(model, batch, traced, result) -> dict | None:
    """The depth scheme the model's structure calls for (`initlab.torch.depth_advice`; no second pass over
    the batch: a chain needs none, a residual model one sample), or None; "alternative" when the
    recommendation already rescales the residual stream."""
    from initlab.torch.depth_advice import depth_advice
    advice = depth_advice(model, batch, traced.merges)
    if advice is None:
        return None
    stream = bool(result.recommendation and result.recommendation.get("residual_stream"))
    return advice.to_json() | {"role": "alternative" if stream else "advice"}
