"""The init to use instead, chosen from the network's (most common hidden) activation and checked
against the weights as measured, so the doctor never sends a user back to the init they have.

Each choice puts the layers on the mean-field critical line chi_1 = sigma_w2 E[phi'(sqrt(q*) z)^2] = 1
(Poole et al. 2016; Schoenholz et al. 2017), where signals and gradients neither shrink nor grow:

- relu: sigma_w2 = 2 (He et al. 2015), leaky_relu with slope a: 2 / (1 + a^2) -> he_normal(a=a);
- linear: sigma_w2 = 1 -> lecun_normal;
- tanh (and erf): with zero biases the critical point sigma_w2 = 1 has q* = 0, and q decays like
  1/depth (a 60-layer lecun_normal tanh net vanishes); a bias variance sigma_b2 = 0.05 moves q* away
  from 0 -> critical(activation=tanh, sigma_b2=0.05) (sigma_w2 = 1.761) with biases normal(std=0.2236);
- sigmoid: critical at zero bias only at sigma_w2 ~ 103, where about half its outputs saturate:
  critical(activation=sigmoid, sigma_b2=0) keeps the gradients, but no init makes a deep sigmoid
  net healthy, so the advice is another activation (``fixes`` is False);
- gelu, silu and activations initlab's theory does not name (torch models: ELU, Softplus, ReLU6, a
  user's module): "auto", which finds the gain by quadrature (`initlab.torch`).

The recommendation is a dict:

- ``scheme``: the weight init spec (always present);
- ``why``: one paragraph, with the formula and the source;
- ``bias_init``: the bias init spec to use with it, only when the biases must change (``zeros``
  when negative biases killed relu units; ``normal(std=0.2236)`` for tanh);
- ``layers``: the layers the scheme is for, when it is for some only (the fixes of the measured rules
  below); absent: every layer;
- ``fixes``: whether applying ``scheme`` (and ``bias_init``) is expected to make the verdict ok;
- ``at_optimum``: the measured weights already follow ``scheme``: the median sigma_w2 = fan_in *
  mean(W^2) of the hidden layers equals the scheme's within `TOLERANCE` (or 4 sampling sds of a
  variance estimate from that many Gaussian weights, for narrow nets), and the median bias variance
  the scheme's (within the same relative tolerance, or `BIAS_FLOOR` when the scheme's is 0).
  Applying it again would change nothing; ``why`` then says what can (wider or fewer layers,
  another activation) and ``fixes`` is False.

Fixes for what `initlab.diagnose.measured` finds in models the chain theory does not cover
(`recommend_measured`), and for no gradient (`restore_output`), are for the layers at fault: an
all-zero layer drawn at torch's default; the layers that write into a growing residual stream
(before each norm, in call order) or, without norms, each repeated block's last layer, drawn with
their std / sqrt(how many), as GPT-2's scaled residual projections and depth-scaled branches do
(marked ``residual_stream``: diagnose then shows the named depth scheme as the alternative);
``xavier_uniform`` for exploding attention logits; torch's default for saturated recurrent gates.

>>> from initlab.theory import activation
>>> recommend([activation("leaky_relu", slope=0.1)])["scheme"]
'he_normal(a=0.1)'
>>> r = recommend([activation("tanh"), None])
>>> r["scheme"], r["bias_init"], r["fixes"], r["at_optimum"]
('critical(activation=tanh, sigma_b2=0.05)', 'normal(std=0.2236)', True, False)
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from initlab.theory import Activation, critical_sigma_w2, q_star
from initlab.theory.quadrature import expect

BIAS_HINT = "; the biases push the pre-activations below zero: use --bias-init zeros"
TOLERANCE = 0.05   # relative: sigma_w2 (and sigma_b2) "equal" to the scheme's
SAMPLING_SDS = 4   # ... or within this many sds of a variance estimated from N Gaussian draws, sqrt(2/N)
BIAS_FLOOR = 0.01  # a bias variance this small counts as zero (q ~ 1 for standardized inputs)
CENTRED_BIAS2 = 0.05  # tanh/erf: sigma_b2 that gives q* > 0; biases N(0, 0.05)
CENTRED_BIAS_INIT = "normal(std=0.2236)"  # sqrt(0.05) = 0.22361
WIDER = "wider layers, fewer layers"


@dataclass(frozen=True)
class Choice:
    """A scheme for one activation, with the (sigma_w2, sigma_b2) pairs that mean "already applied"
    (empty: not checked) and what else can change when it already is."""

    scheme: str
    why: str
    targets: tuple[tuple[float, float], ...]
    beyond: str
    bias_init: str | None = None
    fixes: bool = True


def dominant(activations: Sequence[Activation | None]) -> Activation | None:
    """The most common hidden activation (the first of equals); None when there is none."""
    named = [a for a in activations if a is not None]
    if not named:
        return None
    top = Counter(a.name for a in named).most_common(1)[0][0]
    return next(a for a in named if a.name == top)


def recommend(activations: Sequence[Activation | None], hidden: Sequence = (), bias: bool = False) -> dict:
    """The recommendation (module doc) for hidden activations `activations` (None: identity) and the
    hidden layers' measured statistics `hidden` (`LayerStats`; none: the at-optimum check is skipped);
    `bias`: dead units caused by negative biases (-> ``bias_init`` zeros)."""
    choice = _choice(dominant(activations))
    out = {"scheme": choice.scheme, "why": choice.why, "fixes": choice.fixes, "at_optimum": False}
    if choice.bias_init:
        out["bias_init"] = choice.bias_init
    if bias:
        out["why"] += BIAS_HINT
        out["bias_init"] = "zeros"
    elif hidden and _applied(choice, hidden):
        out.update(why=_optimum_why(choice, hidden), fixes=False, at_optimum=True)
    return out


def _tolerance(count: int) -> float:
    """Relative tolerance for a variance estimated from `count` Gaussian draws (relative sd sqrt(2/count));
    the median over layers of per-layer estimates has ~1.25x the pooled estimate's sd, so 4 pooled sds
    are ~3 of the median's."""
    return max(TOLERANCE, SAMPLING_SDS * math.sqrt(2.0 / max(count, 1)))


def measured(hidden: Sequence) -> tuple[float, float]:
    """Median sigma_w2 and sigma_b2 over the hidden layers."""
    return statistics.median(s.sigma_w2 for s in hidden), statistics.median(s.sigma_b2 for s in hidden)


def _applied(choice: Choice, hidden: Sequence) -> bool:
    w2, b2 = measured(hidden)
    weights_tol = _tolerance(sum(s.units * s.fan_in for s in hidden))
    bias_tol = _tolerance(sum(s.units for s in hidden))
    for target_w2, target_b2 in choice.targets:
        bias_ok = abs(b2) <= BIAS_FLOOR if target_b2 == 0 else abs(b2 / target_b2 - 1.0) <= bias_tol
        if abs(w2 / target_w2 - 1.0) <= weights_tol and bias_ok:
            return True
    return False


def _optimum_why(choice: Choice, hidden: Sequence) -> str:
    w2, b2 = measured(hidden)
    target = choice.targets[0][0]
    bias = f" with biases {choice.bias_init}" if choice.bias_init else ""
    why = (f"the weights already follow {choice.scheme}{bias} (median measured sigma_w2 {w2:.3g}, the scheme's "
           f"{target:.4g}; bias variance {b2:.3g}): the init is at the theoretical optimum for this activation, "
           f"so no other scheme fixes this. What can change: {choice.beyond}")
    if choice.beyond.startswith(WIDER):
        why += (f" (here the sum of 1/width over the {len(hidden)} hidden layers is "
                f"{sum(1.0 / s.units for s in hidden):.3g}; finite-width fluctuations of the signal grow with it)")
    return why


@lru_cache(maxsize=None)
def _critical(name: str, sigma_b2: float) -> tuple[float, float]:
    """(sigma_w2 on the critical line, q* there) for a named activation."""
    w2 = critical_sigma_w2(name, sigma_b2)
    return w2, q_star(name, w2, sigma_b2)


def _auto(act: Activation) -> Choice:
    return Choice("auto", f"{act.name} has no closed-form gain; initlab.torch.auto computes it by quadrature so "
                          "every layer's pre-activation variance stays 1 (with bias variance where that fixed "
                          "point is unstable, as for gelu and silu)",
                  _auto_targets(act), WIDER + ", or relu with he_normal")


def _auto_targets(act: Activation) -> tuple[tuple[float, float], ...]:
    """The (sigma_w2, sigma_b2) initlab.torch.auto gives a layer fed by `act` (its module doc): q = 1 kept
    by sigma_w2 = 1 / E[act(z)^2]; where the length map's slope E[z act act'] / E[act^2] exceeds 1, also
    the stabilized pair sigma_b2 = 1 - 1/slope, sigma_w2 = (1 - sigma_b2) / E[act^2]."""
    with np.errstate(all="ignore"):
        m2 = act.second_moment(1.0)
        if not (math.isfinite(m2) and m2 > 0):
            return ()
        mixed = expect(lambda u: u * act.phi(u) * act.dphi(u), 1.0)
    targets = [(1.0 / m2, 0.0)]
    if math.isfinite(mixed) and mixed > m2:
        b2 = 1.0 - m2 / mixed
        targets.append(((1.0 - b2) / m2, b2))
    return tuple(targets)


def _centred(name: str) -> Choice:
    """tanh and erf: odd, bounded, slope 1 at 0 (erf: 2/sqrt(pi))."""
    w2, q = _critical(name, CENTRED_BIAS2)
    return Choice(
        f"critical(activation={name}, sigma_b2={CENTRED_BIAS2:g})",
        f"{name} with zero biases is critical only at q* = 0, so at that sigma_w2 (lecun_normal for tanh) q still "
        f"decays like 1/depth and a deep net's signal fades (Schoenholz et al. 2017). Bias variance "
        f"sigma_b2 = {CENTRED_BIAS2:g} gives the fixed point q* = {q:.3g}, and sigma_w2 = {w2:.4g} puts it on the "
        "order/chaos line chi_1 = 1 (Poole et al. 2016): signals keep their scale and gradients neither shrink "
        f"nor grow. Draw the biases from {CENTRED_BIAS_INIT} (std = sqrt({CENTRED_BIAS2:g}))",
        ((w2, CENTRED_BIAS2),), WIDER + ", or relu with he_normal", bias_init=CENTRED_BIAS_INIT)


def _sigmoid() -> Choice:
    w2, _ = _critical("sigmoid", 0.0)
    return Choice(
        "critical(activation=sigmoid, sigma_b2=0)",
        f"sigmoid keeps its gradients (chi_1 = 1) at zero bias only at sigma_w2 = {w2:.4g}, where about half its "
        "outputs sit within 0.01 of 0 or 1; with less the gradients shrink by up to 4x per layer (sigmoid' <= 1/4). "
        "No init makes a deep sigmoid net healthy (its outputs are not centred), so this scheme only trades "
        "vanishing gradients for saturation: switch the activation to relu (he_normal) or tanh "
        f"(critical(activation=tanh, sigma_b2={CENTRED_BIAS2:g}) with biases {CENTRED_BIAS_INIT})",
        ((w2, 0.0),), f"a different activation: relu with he_normal, or tanh with critical(activation=tanh, "
                      f"sigma_b2={CENTRED_BIAS2:g}) and biases {CENTRED_BIAS_INIT}", fixes=False)


def _choice(act: Activation | None) -> Choice:
    if act is None or act.name == "linear":
        return Choice("lecun_normal", "a linear layer keeps the signal's second moment when sigma_w2 = 1: "
                                      "lecun_normal, N(0, 1/fan_in)", ((1.0, 0.0),),
                      WIDER + " (a deep linear net computes one linear map)")
    if act.name == "relu":
        return Choice("he_normal", "relu passes half the second moment (E[relu(u)^2] = q/2), so sigma_w2 = 2 keeps "
                                   "signals and gradients constant with depth (He et al. 2015)", ((2.0, 0.0),),
                      WIDER + ", or leaky_relu with he_normal(a=0.01), whose units cannot die")
    if act.name == "leaky_relu":
        w2 = 2 / (1 + act.slope ** 2)
        return Choice(f"he_normal(a={act.slope:g})",
                      f"leaky_relu with slope {act.slope:g} passes (1 + a^2)/2 of the second moment, so "
                      f"sigma_w2 = 2/(1 + a^2) = {w2:.4g} keeps it (He et al. 2015)", ((w2, 0.0),), WIDER)
    if act.name in ("tanh", "erf"):
        return _centred(act.name)
    if act.name == "sigmoid":
        return _sigmoid()
    return _auto(act)  # gelu, silu (unstable q = 1 without bias) and activations theory does not name


__all__ = ["BIAS_HINT", "Choice", "dominant", "measured", "recommend"]


# --- fixes for what the measured rules find (initlab.diagnose.measured) and for a zero layer -----------

def _targeted(scheme: str, layers: Sequence[str], why: str) -> dict:
    """A fix for the named layers only (``layers``; `initlab.diagnose.present.with_fix` writes its Python)."""
    return {"scheme": scheme, "why": why, "fixes": True, "at_optimum": False, "layers": list(layers)}


def restore_output(zero) -> dict | None:
    """The fix for no gradient: the all-zero layer (`LayerStats`) drawn again at torch's default init;
    None when no layer is all zeros (the cause is elsewhere)."""
    if zero is None:
        return None
    return _targeted("torch_default", [zero.name],
                     f"'{zero.name}' has all-zero weights, so dL/d(its input) = W^T dL/dz = 0: draw them at "
                     "torch's own default (kaiming_uniform a=sqrt(5), the bound 1/sqrt(fan_in)) and every layer "
                     "before it gets a gradient on the first step. A head zeroed on purpose (to start from "
                     "uniform predictions) learns on the first step and passes gradients from the second")


def stream_writers(layers: Sequence, calls: Sequence[tuple[str, str | None]]) -> list[str]:
    """The layers that write into the residual stream: in call order (`calls`: (module name, kind)),
    the last diagnosed layer before each normalization layer after the first block's pre-norm. An
    nn.MultiheadAttention writes through its ``out_proj``."""
    names = {s.name: s for s in layers}
    writers, last, started = [], None, False
    for name, kind in calls:
        if kind == "norm":
            if started and last is not None and last not in writers:
                writers.append(last)
            started, last = True, None
        elif name in names:
            last = name
    return [f"{w}.out_proj" if names[w].kind == "attention" else w for w in writers]


def recommend_measured(cause: str | None, activations: Sequence[Activation | None], hidden: Sequence,
                       coverage) -> dict | None:
    """The fix for a verdict of `initlab.diagnose.measured` (its `cause`); None when there is none to give."""
    if cause is None:
        return None
    if cause == "gates":
        rnns = [s.name for s in hidden if s.kind == "rnn"]
        return _targeted("torch_default", rnns,
                         "torch's default recurrent init, uniform(+-1/sqrt(hidden)) per gate, keeps the gate "
                         "pre-activations near 0, where sigmoid and tanh pass the gradient; weights as large as "
                         "these put the gates on their flat sides at every step")
    if cause == "attention":
        return {"scheme": "xavier_uniform", "fixes": True, "at_optimum": False,
                "why": "xavier_uniform (torch's own for attention projections) keeps q and k entries at the "
                       "scale of the normalized input, so the logits q.k/sqrt(d) have a std near 1 and the "
                       "softmax spreads its weight over the keys (Vaswani et al. 2017 scale by 1/sqrt(d) for "
                       "exactly this)"}
    if cause == "stream":
        return _scaled(stream_writers(hidden, coverage.calls), hidden,
                       "scaled residual projections (GPT-2, Radford et al. 2019; Megatron)")
    if coverage.merges != 0:  # residual additions (or not counted): scale the branches, not the scheme
        scaled = _scaled_branches(hidden)
        if scaled is not None:
            return scaled
    return recommend(activations, hidden)


def _scaled(writers: Sequence[str], hidden: Sequence, what: str) -> dict | None:
    """`writers` drawn with their median measured std / sqrt(len(writers))."""
    if not writers:
        return None
    by_name = {s.name: s for s in hidden}
    stds = [math.sqrt(s.sigma_w2 / s.fan_in) for w in writers
            if (s := by_name.get(w.removesuffix(".out_proj"))) is not None and s.fan_in]
    base = statistics.median(stds) if stds else 0.02
    std = base / math.sqrt(len(writers))
    return _targeted(f"normal(std={std:.3g})", writers,
                     f"{what}: the {len(writers)} layers that write into the residual stream drawn with std "
                     f"{base:.3g} / sqrt({len(writers)}) = {std:.3g}, so the variance all branches add together no "
                     "longer grows with depth") | {"residual_stream": True}


def block_of(name: str) -> str | None:
    """The repeated block a layer sits in: its name up to its first index ('blocks.3' of 'blocks.3.mlp.0';
    None when the name has no index)."""
    parts = name.split(".")
    for i, part in enumerate(parts[:-1]):
        if part.isdigit():
            return ".".join(parts[:i + 1])
    return None


def _scaled_branches(hidden: Sequence) -> dict | None:
    """Without norms to mark the stream, each repeated block's last layer is its branch's output."""
    last: dict[str, str] = {}
    for s in hidden:
        block = block_of(s.name)
        if block is not None:
            last[block] = s.name
    if len(last) < 2:
        return None
    return _scaled(list(last.values()), hidden, "scaled residual branches (depth-muP and SkipInit scale each "
                                                "branch down with depth; Fixup, Zhang et al. 2019, by L^(-1/(2m-2)))")
