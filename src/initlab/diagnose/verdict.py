"""The verdict on a network at initialization: the first rule that matches wins.

1. symmetric  a hidden layer whose identical units cover >= 50% of it;
2. dead       a relu/relu6 layer with >= 90% dead units, or a median >= 50% over those hidden
              layers (dead as `initlab.diagnose.stats` defines it: <= 0 on the whole batch and a
              batch mean 1 sd below 0, which correlation collapse in a healthy deep net, at most
              ~16% of a centred layer, does not reach);
3. saturated  a saturating activation's layer with >= 50% of its activations at a flat side;
4. no_gradient every hidden layer's dL/dz is exactly 0 (layers behind an intentionally small branch,
              `initlab.diagnose.inside.small_scales`, left out; dead or saturated units, which zero it
              too, are named first), the cause named: an output layer whose weights are all zero (a
              zero-initialised head), a zero layer further in, or else a zero factor between the output
              and the layers;

For a PyTorch model the chain theory does not cover (`initlab.diagnose.coverage`: residual additions,
norms, attention, recurrent layers, embeddings) the rules that follow are
`initlab.diagnose.measured`'s, on measured quantities compared like with like (it may also say
``not_covered``). For a chain (the NumPy engine's MLP, a torch Sequential of Linear/Conv and
activations):

5. exploding / vanishing  a statistic that overflowed to inf or nan (exploding); else, forward, the
              pre-activation rms of the last hidden layer over the first's > 10 / < 0.1; else,
              backward, the dL/dz rms of the first layer over the last hidden one's > 10 / < 0.1.
              Backward compares per-sample gradient norms (rms * sqrt(units * positions)), which
              chi_1 = 1 keeps whatever the widths and strides (the rms per entry of a stride-2 conv
              net halves per layer going back while nothing vanishes). A measured ratio beyond 10x
              is only a verdict when it is more than a finite-width fluctuation: theory's ratio from
              the measured weights is beyond 10x on the same side, or the far layer lies more than
              `VERDICT_SDS` = 3 sds of its finite-width spread out on that side (forward: the last
              hidden layer's pre-activation rms in its band, which the table draws at 2 sds;
              backward: the first layer's dL/dz rms around theory's, spread as the last hidden
              layer's band, the fluctuation accumulated over the same layers: exact for relu, whose
              backward pass is a forward pass through the transposed weights, Hanin 2018). A narrow
              healthy net strays 10x by chance (gaussian:784, 30x30 He: a measured ratio 0.037 with
              theory 0.98 and every layer in its band): that is `ok`, with a sentence saying so;
              3 sds rather than the table's 2 because a verdict should be wrong for ~1 net in 700,
              not 1 in 40 (circles, 30x30 He, seed 5: the last layer 2.4 sds low);
6. ok.

Evidence sentences quote the measured numbers (3 significant digits) and theory's. Measured and
theory are compared as root mean squares (theory's sqrt(q) and its backward map are rms).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from initlab.diagnose.coverage import Coverage
from initlab.diagnose.measured import judge_measured, no_gradient
from initlab.diagnose.recommend import recommend, recommend_measured, restore_output
from initlab.diagnose.stats import LayerStats, bounds
from initlab.numbers_text import in_sentence
from initlab.theory import Activation

VERDICTS = ("ok", "vanishing", "exploding", "saturated", "dead", "symmetric", "no_gradient", "not_covered")
SYMMETRIC_SHARE = 0.5
DEAD_LAYER, DEAD_MEDIAN = 0.9, 0.5
SATURATED = 0.5
RATIO = 10.0
VERDICT_SDS = 3.0  # a far layer this many sds out of its finite-width spread is more than a fluctuation
SHOWN = 3  # layers quoted by name before "and N more"


@dataclass(frozen=True)
class Diagnosis:
    verdict: str
    evidence: list[str]
    recommendation: dict | None
    layers: list[LayerStats]
    model: str
    # the depth scheme (`initlab.torch.depth_advice`) a torch model's residual structure calls for: scheme, why,
    # python, and role "alternative" when the recommendation already rescales the residual stream, else "advice"
    depth_scheme: dict | None = None
    discovery: str | None = None  # a torch model's layers found by "hooks" or "hooks+fx" (`initlab.torch.discover`)
    jacobian: dict | None = None  # the hidden Jacobian's singular values (`initlab.diagnose.jacobian`), when asked
    # per-layer histograms (`initlab.diagnose.distributions`) and a chain's two-input correlations
    # (`initlab.diagnose.correlation`), when asked (`detail=True`)
    distributions: list | None = None
    correlation: list | None = None

    def to_json(self) -> dict:
        return {"verdict": self.verdict, "evidence": list(self.evidence),
                "recommendation": None if self.recommendation is None else dict(self.recommendation),
                "model": self.model, "layers": [layer.to_json() for layer in self.layers]} | \
            ({} if self.depth_scheme is None else {"depth_scheme": dict(self.depth_scheme)}) | \
            ({} if self.discovery is None else {"discovery": self.discovery}) | \
            ({} if self.jacobian is None else {"jacobian": dict(self.jacobian)}) | \
            ({} if self.distributions is None else {"distributions": list(self.distributions)}) | \
            ({} if self.correlation is None else {"correlation": list(self.correlation)})


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
    n = in_sentence
    found = [f"{s.name}: {s.dead_fraction:.0%} of {s.units} units dead (pre-activation <= 0 on the whole batch and "
             f"its mean 1 sd below 0; layer mean {n(s.pre_mean)}, std {n(s.pre_std)})" for s in worst]
    return _listed(found) + [f"median dead fraction over {len(relu)} {relu[0].activation} layer"
                             f"{'s' * (len(relu) > 1)}: {median:.0%}"]


def _bias_kills(hidden: Sequence[LayerStats]) -> bool:
    """Dead units from the biases: pre-activations mostly negative, with biases big enough to do it."""
    return any(s.dead_fraction is not None and s.pre_mean < -0.5 * s.pre_std
               and s.sigma_b2 >= 0.5 * s.pre_mean * s.pre_mean for s in hidden)


def _saturated(hidden: Sequence[LayerStats]) -> list[str]:
    found = []
    n = in_sentence
    for s in hidden:
        if s.saturated_fraction is not None and s.saturated_fraction >= SATURATED:
            sides = " or ".join(n(v) for v in bounds(s.activation) if v is not None)
            found.append(f"{s.name}: {s.saturated_fraction:.0%} of {s.activation} outputs within 0.01 of {sides} "
                         f"(pre-activation std {n(s.pre_std)}, theory {n(s.expected_pre_std)}): there the "
                         f"activation is flat, so each such unit passes on almost none of the gradient it receives")
    return _listed(found)


def _backward_size(layers: Sequence[LayerStats], hidden: Sequence[LayerStats]) -> str:
    """What dL/dz does from the last hidden layer back to the first, in the measured numbers: flat units
    pass little gradient each, yet large weights can still make the whole backward signal grow."""
    _, backward = _checks(layers, hidden)
    first, last = hidden[0], hidden[-1]
    ratio = backward.measured
    if not math.isfinite(ratio) or ratio <= 0:
        return f"backward: {backward.sentence}"
    fold = in_sentence(ratio if ratio >= 1 else 1 / ratio)
    grows = f"grows {fold}-fold" if ratio >= 1 else f"shrinks {fold}-fold"
    outcome = {"exploding": "the gradients explode: the weights' scale outweighs the flat units",
               "vanishing": "the gradients vanish"}.get(_direction(ratio), "within a factor of 10")
    return (f"backward: dL/dz {grows} from layer {last.index} back to layer {first.index} (toward the input), "
            f"{outcome}; {backward.sentence}")


def _inside(layers: Sequence[LayerStats]) -> str:
    inside = sum(s.in_band for s in layers)
    return f"{inside} of {len(layers)} layers inside theory's finite-width band"


def _direction(ratio: float) -> str | None:
    """'exploding' above RATIO, 'vanishing' below 1/RATIO, else (or nan) None."""
    return "exploding" if ratio > RATIO else "vanishing" if ratio < 1 / RATIO else None


def _log_band(low: float, high: float) -> tuple[float, float]:
    """(centre, sd) in log units of a band that spans centre -+ 2 sd."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_low, log_high = np.log(low), np.log(high)
    return float((log_low + log_high) / 2), float((log_high - log_low) / 4)


def _grad_band(first: LayerStats, last: LayerStats) -> tuple[float, float]:
    """(centre, sd) of log(the first layer's dL/dz rms): theory's value shifted and spread as the last
    hidden layer's band is around its own theory (the spread accumulated over the same layers)."""
    centre, sd = _log_band(last.band_low, last.band_high)
    if not (last.expected_pre_std > 0 and math.isfinite(last.expected_pre_std) and first.expected_grad_std > 0):
        return math.nan, math.nan
    return math.log(first.expected_grad_std) + centre - math.log(last.expected_pre_std), sd


@dataclass(frozen=True)
class _Check:
    """One end-to-end ratio (forward or backward): measured, theory's, and where the far layer's value
    lies in its finite-width spread."""

    label: str
    measured: float
    theory: float
    far: LayerStats
    far_value: float
    log_band: tuple[float, float]  # (centre, sd) of log(far value) by finite-width theory
    sentence: str

    @property
    def direction(self) -> str | None:
        return _direction(self.measured)

    @property
    def z(self) -> float:
        """How many sds of the finite-width spread the far layer's value lies from theory's centre."""
        centre, sd = self.log_band
        with np.errstate(divide="ignore", invalid="ignore"):
            gap = float(np.log(self.far_value)) - centre
        if math.isnan(gap) or math.isnan(sd):
            return math.nan
        if sd == 0:  # a degenerate band (zero weights): any departure is infinitely far
            return 0.0 if gap == 0 else math.copysign(math.inf, gap)
        return gap / sd if math.isfinite(gap) or math.isfinite(sd) else math.nan

    def outside(self) -> bool:
        return self.z < -VERDICT_SDS if self.direction == "vanishing" else self.z > VERDICT_SDS

    def confirmed(self) -> bool:
        """Beyond 10x and more than a finite-width fluctuation (module doc)."""
        return self.direction is not None and (_direction(self.theory) == self.direction or self.outside())

    def _where(self) -> str:
        z, sd = self.z, self.log_band[1]
        side = "below" if z < 0 else "above"
        with np.errstate(over="ignore"):
            centre, factor = float(np.exp(self.log_band[0])), float(np.exp(sd))
        return (f"layer {self.far.index}'s rms {in_sentence(self.far_value)} lies {abs(z):.2g} sd {side} theory's "
                f"finite-width centre {in_sentence(centre)} (1 sd: a factor {in_sentence(factor)} at these widths)")

    def reason(self) -> str:
        if _direction(self.theory) == self.direction:
            return f"{self.label}: theory from the measured weights predicts it too (ratio {in_sentence(self.theory)})"
        return (f"{self.label}: {self._where()}; beyond {VERDICT_SDS:g} sd this is more than a finite-width "
                f"fluctuation, although theory's ratio is {in_sentence(self.theory)}")

    def fluctuation(self) -> str:
        return (f"the measured {self.label} ratio {in_sentence(self.measured)} is a finite-width fluctuation: theory "
                f"from the measured weights gives {in_sentence(self.theory)} and {self._where()}, within "
                f"{VERDICT_SDS:g}; wider layers shrink it (the spread of log q grows like sum 1/n over the layers)")


def _checks(layers: Sequence[LayerStats], hidden: Sequence[LayerStats]) -> tuple[_Check, _Check]:
    first, last = hidden[0], hidden[-1]
    n = in_sentence
    forward = _Check(
        "forward", _ratio(last.pre_rms, first.pre_rms), _ratio(last.expected_pre_std, first.expected_pre_std), last,
        last.pre_rms, _log_band(last.band_low, last.band_high),
        f"pre-activation rms {n(first.pre_rms)} -> {n(last.pre_rms)} (layer {first.index} -> {last.index}), ratio "
        f"{n(_ratio(last.pre_rms, first.pre_rms))}; theory from the measured weights: {n(first.expected_pre_std)} -> "
        f"{n(last.expected_pre_std)}, ratio {n(_ratio(last.expected_pre_std, first.expected_pre_std))}; "
        f"{_inside(layers)}")
    # backward: per-sample gradient norms (rms * sqrt(entries per sample)), which chi_1 = 1 keeps whatever the
    # widths and strides; in a net of equal widths their ratio is the rms ratio
    size_first, size_last = math.sqrt(first.units * first.positions), math.sqrt(last.units * last.positions)
    measured = _ratio(first.grad_norm, last.grad_norm)
    theory = _ratio(first.expected_grad_std * size_first, last.expected_grad_std * size_last)
    if size_first == size_last:
        what = f"gradient rms {n(first.grad_rms)} at layer {first.index} vs {n(last.grad_rms)} at layer {last.index}"
        expected = f"theory {n(first.expected_grad_std)} vs {n(last.expected_grad_std)}"
    else:
        what = (f"gradient norm per sample {n(first.grad_norm)} at layer {first.index} vs {n(last.grad_norm)} at layer "
                f"{last.index} (rms per entry {n(first.grad_rms)} vs {n(last.grad_rms)}; "
                f"{first.units * first.positions} vs {last.units * last.positions} entries)")
        expected = f"theory {n(first.expected_grad_std * size_first)} vs {n(last.expected_grad_std * size_last)}"
    backward = _Check("backward", measured, theory, first, first.grad_rms, _grad_band(first, last),
                      f"{what}, ratio {n(measured)}; {expected}, ratio {n(theory)}")
    return forward, backward


def _signal(layers: Sequence[LayerStats], hidden: Sequence[LayerStats]) -> tuple[str, list[str]]:
    """('vanishing' | 'exploding' | 'ok', evidence)."""
    forward, backward = _checks(layers, hidden)
    n = in_sentence
    gain = f"median measured sigma_w2 of the hidden layers: {n(statistics.median(s.sigma_w2 for s in hidden))}"
    broken = [s for s in layers if not (math.isfinite(s.pre_std) and math.isfinite(s.grad_std))]
    if broken:
        b = broken[0]
        overflow = (f"the signal overflowed (inf or nan) in {len(broken)} layer{'s' * (len(broken) > 1)} (first {b.name}: "
                    f"pre-activation std {n(b.pre_std)}, gradient std {n(b.grad_std)})")
        return "exploding", [overflow, "forward: " + forward.sentence, "backward: " + backward.sentence, gain]
    for check, other in ((forward, backward), (backward, forward)):
        if check.confirmed():
            return check.direction, [f"{check.label}: {check.sentence}", f"{other.label}: {other.sentence}",
                                     check.reason(), gain]
    return "ok", [forward.sentence, backward.sentence] + [c.fluctuation() for c in (forward, backward) if c.direction]


def judge(layers: Sequence[LayerStats], activations: Sequence[Activation | None],
          coverage: Coverage | None = None) -> tuple[str, list[str], dict | None]:
    """(verdict, evidence, recommendation) for per-layer statistics `layers` (the last one the output
    layer) and the activation after each layer; `coverage` None (or a chain) for the chain rules."""
    hidden, hidden_acts = layers[:-1], activations[:-1]
    if not hidden:
        return "ok", [f"no hidden layer: {_inside(layers)}"], None
    evidence = _symmetric(hidden)
    if evidence:
        return "symmetric", evidence, recommend(hidden_acts, hidden)
    for verdict, rule in (("dead", _dead), ("saturated", _saturated)):
        evidence = rule(hidden)
        if evidence:
            if verdict == "saturated" and (coverage is None or coverage.chain):
                evidence.append(_backward_size(layers, hidden))
            bias = verdict == "dead" and _bias_kills(hidden)
            return verdict, evidence, recommend(hidden_acts, hidden, bias=bias)
    scales = coverage.inside.small if coverage is not None else []
    evidence, zero = no_gradient(layers, scales)  # after dead and saturated units, which can zero it too
    if evidence:
        return "no_gradient", evidence, restore_output(zero)
    if coverage is not None and not coverage.chain:
        verdict, evidence, cause = judge_measured(layers, hidden, coverage)
        return verdict, evidence, recommend_measured(cause, hidden_acts, hidden, coverage)
    verdict, evidence = _signal(layers, hidden)
    return verdict, evidence, None if verdict == "ok" else recommend(hidden_acts, hidden)


def diagnosis(layers: list[LayerStats], activations: Sequence[Activation | None], model: str,
              coverage: Coverage | None = None) -> Diagnosis:
    verdict, evidence, rec = judge(layers, activations, coverage)
    assert verdict in VERDICTS
    return Diagnosis(verdict, evidence, rec, layers, model)


__all__ = ["VERDICTS", "Diagnosis", "diagnosis", "judge"]
