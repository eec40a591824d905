"""The verdict on a network at initialization: the first rule that matches wins.

1. symmetric  a hidden layer whose identical units cover >= 50% of it;
2. dead       a relu-family layer with >= 90% dead units, or a median >= 50% over relu-family
              hidden layers (a healthy deep He net reaches 30-47% on 2-D data as the batch's
              inputs become correlated, so the median threshold sits above that);
3. saturated  a bounded-activation layer with >= 50% of its activations at an asymptote;
4. exploding / vanishing  a statistic that overflowed to inf or nan (exploding), else pre-activation
              std of the last hidden layer over the first's > 10 / < 0.1 (forward), else gradient
              std of the first layer over the last hidden one > 10 / < 0.1 (backward);
5. ok.

Evidence sentences quote the measured numbers (3 significant digits) and theory's.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from initlab.diagnose.recommend import recommend
from initlab.diagnose.stats import LayerStats, bounds
from initlab.theory import Activation

VERDICTS = ("ok", "vanishing", "exploding", "saturated", "dead", "symmetric")
SYMMETRIC_SHARE = 0.5
DEAD_LAYER, DEAD_MEDIAN = 0.9, 0.5
SATURATED = 0.5
RATIO = 10.0
SHOWN = 3  # layers quoted by name before "and N more"


@dataclass(frozen=True)
class Diagnosis:
    verdict: str
    evidence: list[str]
    recommendation: dict | None
    layers: list[LayerStats]
    model: str

    def to_json(self) -> dict:
        return {"verdict": self.verdict, "evidence": list(self.evidence),
                "recommendation": None if self.recommendation is None else dict(self.recommendation),
                "model": self.model, "layers": [layer.to_json() for layer in self.layers]}


def g(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3g}"


def _ratio(top: float, bottom: float) -> float:
    return top / bottom if bottom > 0 else float("nan")


def _listed(sentences: list[str]) -> list[str]:
    more = len(sentences) - SHOWN
    return sentences[:SHOWN] + ([f"... and {more} more layer{'s' * (more > 1)} like these"] if more > 0 else [])


def _symmetric(hidden: Sequence[LayerStats]) -> list[str]:
    found = []
    for s in hidden:
        if s.duplicate_units >= SYMMETRIC_SHARE * s.units and s.duplicate_units:
            share = f"all {s.units}" if s.duplicate_units == s.units else f"{s.duplicate_units} of {s.units}"
            whole = s.duplicate_groups == 1 and s.duplicate_units == s.units
            cause = "zeros/constant init never breaks symmetry" if whole else \
                "identical units get identical gradients, so training never tells them apart"
            groups = f"{s.duplicate_groups} group{'s' * (s.duplicate_groups > 1)}"
            found.append(f"{s.name}: {share} units identical ({groups}): {cause}")
    return _listed(found)


def _dead(hidden: Sequence[LayerStats]) -> list[str]:
    relu = [s for s in hidden if s.dead_fraction is not None]
    if not relu:
        return []
    median = statistics.median(s.dead_fraction for s in relu)
    worst = [s for s in relu if s.dead_fraction >= DEAD_LAYER]
    if not worst and median < DEAD_MEDIAN:
        return []
    found = [f"{s.name}: {s.dead_fraction:.0%} of {s.units} units dead (pre-activation <= 0 on the whole batch; "
             f"mean {g(s.pre_mean)}, std {g(s.pre_std)})" for s in worst]
    return _listed(found) + [f"median dead fraction over {len(relu)} {relu[0].activation} layer"
                             f"{'s' * (len(relu) > 1)}: {median:.0%}"]


def _bias_kills(hidden: Sequence[LayerStats]) -> bool:
    """Dead units from the biases: pre-activations mostly negative, with biases big enough to do it."""
    return any(s.dead_fraction is not None and s.pre_mean < -0.5 * s.pre_std and s.sigma_b2 >= 0.5 * s.pre_mean * s.pre_mean
               for s in hidden)


def _saturated(hidden: Sequence[LayerStats]) -> list[str]:
    found = []
    for s in hidden:
        if s.saturated_fraction is not None and s.saturated_fraction >= SATURATED:
            low, high = bounds(s.activation)
            found.append(f"{s.name}: {s.saturated_fraction:.0%} of {s.activation} outputs within 0.01 of "
                         f"{g(low)} or {g(high)} (pre-activation std {g(s.pre_std)}, theory {g(s.expected_pre_std)}): "
                         f"their gradients are ~0")
    return _listed(found)


def _inside(layers: Sequence[LayerStats]) -> str:
    inside = sum(s.in_band for s in layers)
    return f"{inside} of {len(layers)} layers inside theory's finite-width band"


def _signal(layers: Sequence[LayerStats], hidden: Sequence[LayerStats]) -> tuple[str, list[str]]:
    """('vanishing' | 'exploding' | 'ok', evidence)."""
    first, last = hidden[0], hidden[-1]
    broken = [s for s in layers if not (math.isfinite(s.pre_std) and math.isfinite(s.grad_std))]
    forward = _ratio(last.pre_std, first.pre_std)
    backward = _ratio(first.grad_std, last.grad_std)
    span = f"(layer {first.index} -> {last.index})"
    fwd = (f"pre-activation std {g(first.pre_std)} -> {g(last.pre_std)} {span}, ratio {g(forward)}; theory from the "
           f"measured weights: {g(first.expected_pre_std)} -> {g(last.expected_pre_std)}, ratio "
           f"{g(_ratio(last.expected_pre_std, first.expected_pre_std))}; {_inside(layers)}")
    bwd = (f"gradient std {g(first.grad_std)} at layer {first.index} vs {g(last.grad_std)} at layer {last.index}, "
           f"ratio {g(backward)}; theory {g(first.expected_grad_std)} vs {g(last.expected_grad_std)}")
    gain = f"median measured sigma_w2 of the hidden layers: {g(statistics.median(s.sigma_w2 for s in hidden))}"
    if broken:
        b = broken[0]
        overflow = (f"statistics overflow float64 in {len(broken)} layer{'s' * (len(broken) > 1)} (first {b.name}: "
                    f"pre-activation std {g(b.pre_std)}, gradient std {g(b.grad_std)})")
        return "exploding", [overflow, "forward: " + fwd, "backward: " + bwd, gain]
    if forward > RATIO or forward < 1 / RATIO:
        return ("exploding" if forward > RATIO else "vanishing"), ["forward: " + fwd, "backward: " + bwd, gain]
    if backward > RATIO or backward < 1 / RATIO:
        return ("exploding" if backward > RATIO else "vanishing"), ["backward: " + bwd, "forward: " + fwd, gain]
    return "ok", [fwd, bwd]


def judge(layers: Sequence[LayerStats], activations: Sequence[Activation | None]) -> tuple[str, list[str], dict | None]:
    """(verdict, evidence, recommendation) for per-layer statistics `layers` (the last one the output
    layer) and the activation after each layer."""
    hidden, hidden_acts = layers[:-1], activations[:-1]
    if not hidden:
        return "ok", [f"no hidden layer: {_inside(layers)}"], None
    for verdict, rule in (("symmetric", _symmetric), ("dead", _dead), ("saturated", _saturated)):
        evidence = rule(hidden)
        if evidence:
            bias = verdict == "dead" and _bias_kills(hidden)
            return verdict, evidence, recommend(hidden_acts, bias=bias)
    verdict, evidence = _signal(layers, hidden)
    return verdict, evidence, None if verdict == "ok" else recommend(hidden_acts)


def diagnosis(layers: list[LayerStats], activations: Sequence[Activation | None], model: str) -> Diagnosis:
    verdict, evidence, rec = judge(layers, activations)
    assert verdict in VERDICTS
    return Diagnosis(verdict, evidence, rec, layers, model)


__all__ = ["VERDICTS", "Diagnosis", "diagnosis", "judge"]
