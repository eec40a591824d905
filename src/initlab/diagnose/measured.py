"""Verdicts on models the chain theory does not cover (residual, normalized, attention, recurrent),
from measured quantities that compare like with like.

`initlab.diagnose.verdict` applies its per-layer rules first (symmetric, dead, saturated activations,
and `no_gradient` from this module): they read one layer at a time and hold for any model. Then,
first match wins:

1. saturated   a recurrent layer with >= `GATES_SATURATED` = 25% of its gate entries (every gate, step
               and layer, `initlab.diagnose.inside`) within 0.01 of a flat side: the gradient through
               time passes the gates at every step, so a quarter of them flat already blocks it (torch's
               default LSTM/GRU: 0%; an LSTM with normal(std=3) recurrent weights: 41%, tests);
2. exploding   attention logits: a layer whose softmax puts more than 0.99 on one key in >= 50% of
               its query rows (the activations' `SATURATED` share), their q.k/sqrt(d) std quoted;
3. exploding   a statistic that overflowed (inf or nan);
4. exploding   the residual stream grows: the rms of the input of the pre-norms of repeated blocks
               (the stream itself) grows more than `STREAM_GROWTH` = 3x from the first block to the last,
               and the N layers that write into it are not scaled for depth. Variances add along the
               stream, var(l + 1) = var(l) + var(branch l): with writers drawn like the other layers each
               branch adds about the same, and the stream's variance grows like the depth; with GPT-2's
               scaled writers (std / sqrt(N)) the branches add up to what one unscaled branch adds,
               whatever the depth. But a stream that starts small (GPT-2's token embeddings at std 0.02,
               768 wide) grows many times over its first blocks under either init (GPT-2 small at its own
               init: 9.75x over 12 blocks), so growth alone does not tell them apart. The writers' weights
               do: they are scaled for depth when their weight variance x fan_in (sigma_w2, the gain a unit
               input gets) is at most `DEPTH_SCALED` = 4 / N times the median of the other dense layers of
               their blocks (the layers that read the normalized stream: GPT-2's c_attn and c_fc; GPT-2's
               own init gives 1 / N x the fan-in ratio). Measured on 8 samples in evaluation mode (tests):
               3.76x over GPT-2's 48 blocks with c_proj at std 0.02 (unscaled: exploding), 1.05x with
               GPT-2's own std 0.02 / sqrt(2 * 48), 2.08x for a 12-block pre-LN ViT stand-in at torch's
               default init;
5. vanishing / exploding  layers of one role and shape (the same name up to the block index,
               'blocks.#.mlp.0', and the same kind, units and fan_in) compared across blocks, per unit (rms per entry,
               never per-sample norms of layers of different sizes): backward, dL/dz rms times the layer's own
               pre-activation rms (dL/d log-scale of its output, which a norm after the layer leaves
               unchanged however large the residual stream it reads has grown: BN-residual blocks in a
               row measure 19x in dL/dz alone over 8 blocks, 4x in this) of the first occurrence over
               the last's > 10 (exploding) / < 0.1 (vanishing); else forward, the pre-activation rms of
               the last over the first's. Each block's branch has its own LayerScale or zero-init
               scale, so the comparison of one role is like with like however small the branches are
               by design;
6. not_covered no role repeats, and the dL/dz of the first and the last hidden layer differ more than
               10x both per unit (rms) and per sample (rms * sqrt(entries), which mean pooling over
               positions and strides keep): layers of different kinds, sizes and places that no theory
               here relates (one measure alone differs 10x in healthy models: an embedding's per-unit rms
               is 1/length of the pooled layer's);
7. ok          with the comparisons made, and what theory does not cover, in the evidence.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from initlab.diagnose.coverage import Coverage
from initlab.diagnose.findings import SmallScale, behind, role
from initlab.diagnose.recommend import block_of, stream_writers
from initlab.diagnose.stats import LayerStats
from initlab.numbers_text import in_sentence

GATES_SATURATED = 0.25
ATTENTION_SATURATED = 0.5
STREAM_GROWTH = 3.0
DEPTH_SCALED = 4.0  # writers' sigma_w2 <= DEPTH_SCALED / N x the readers': scaled for N writers (rule 4)
RATIO = 10.0


def _ratio(top: float, bottom: float) -> float:
    return top / bottom if bottom > 0 else math.nan


def _direction(ratio: float) -> str | None:
    return "exploding" if ratio > RATIO else "vanishing" if ratio < 1 / RATIO else None


def no_gradient(layers: Sequence[LayerStats], scales: Sequence[SmallScale]) -> tuple[list[str], LayerStats | None]:
    """(evidence, the zero layer to re-initialise or None) when no hidden layer gets a gradient: dL/dz exactly
    0 in each (layers behind an intentionally small branch `scales` left out, as their zero is by design);
    ([], None) otherwise. Shared by chains and the rules of this module (`initlab.diagnose.verdict`)."""
    hidden = [s for s in layers[:-1] if behind(s.name, scales) is None]
    if not hidden or any(s.grad_rms != 0 for s in hidden):
        return [], None
    output = layers[-1]
    zero = output if output.sigma_w2 == 0 else next((s for s in reversed(layers[:-1]) if s.sigma_w2 == 0), None)
    if output.grad_rms == 0:
        cause = f"the loss gives no gradient at the output layer '{output.name}' (dL/dz = 0 there too)"
    elif zero is output:
        cause = (f"output layer '{output.name}' is all zeros: dL/d(its input) = W^T dL/dz = 0, so no layer before it "
                 "gets a gradient and only the output layer learns on the first step")
    elif zero is not None:
        cause = f"layer '{zero.name}' has all-zero weights: no gradient passes back through it"
    else:
        cause = f"something between the output layer '{output.name}' and the others multiplies the gradient by 0"
    return [f"no gradient: {cause}",
            f"dL/dz is exactly 0 in all {len(hidden)} hidden layers; the output layer's dL/dz rms is "
            f"{in_sentence(output.grad_rms)}"], zero


def small_branches(layers: Sequence[LayerStats], coverage: Coverage) -> str | None:
    """One sentence on the intentionally small branches and the layers behind them, or None."""
    scales = coverage.inside.small
    if not scales:
        return None
    held = [s.name for s in layers if behind(s.name, scales) is not None]
    kinds = sorted({s.what for s in scales})
    names = ", ".join(s.parameter for s in scales[:3]) + (f" and {len(scales) - 3} more" if len(scales) > 3 else "")
    return (f"intentionally small branches: {len(scales)} ({names}: {'; '.join(kinds)}); the {len(held)} layers "
            f"behind them get gradients scaled down by design, so they are compared only with the same layer of "
            f"other blocks")


def _gates(coverage: Coverage) -> list[str]:
    found = []
    for g in coverage.inside.gates:
        if g.saturated >= GATES_SATURATED:
            worst = ", ".join(f"{gate} {share:.0%}" for gate, share in g.by_gate.items())
            found.append(f"{g.name} ({g.module_type}): {g.saturated:.0%} of its gate entries within 0.01 of a flat "
                         f"side ({worst}; at or above {GATES_SATURATED:.0%} the gradient through time is blocked at "
                         f"every step); torch's default init leaves none there")
    return found


def _attention(coverage: Coverage) -> list[str]:
    n = in_sentence
    return [f"attention logits explode in {a.name}: q.k/sqrt(d) has std {n(a.std)} over {a.heads} heads and "
            f"{a.keys} keys, so the softmax puts more than 0.99 on one key in {a.saturated:.0%} of the query rows; "
            f"there the softmax is flat and passes almost no gradient to the queries and keys"
            for a in coverage.inside.attention if a.saturated >= ATTENTION_SATURATED]


def stream_growth(coverage: Coverage) -> tuple[float, str] | None:
    """(growth, sentence) of the residual stream over the longest run of one pre-norm role, or None."""
    groups: dict[str, list] = {}
    for norm in coverage.inside.norms:
        if norm.stream:
            groups.setdefault(role(norm.name), []).append(norm)
    runs = [g for g in groups.values() if len(g) >= 2]
    if not runs:
        return None
    run = max(runs, key=len)
    growth = _ratio(run[-1].rms, run[0].rms)
    n = in_sentence
    return growth, (f"rms {n(run[0].rms)} -> {n(run[-1].rms)} over {len(run)} blocks ({n(growth)}x), measured at the "
                    f"input of {role(run[0].name)}")


def writers_scaled(hidden: Sequence[LayerStats], coverage: Coverage) -> tuple[bool, str] | None:
    """Whether the layers writing into the residual stream are scaled for depth (rule 4), with the numbers;
    None when there are no writers, or no other dense layer in their blocks to compare them with."""
    writers = [w.removesuffix(".out_proj") for w in stream_writers(hidden, coverage.calls)]
    blocks = {block_of(w) for w in writers} - {None}
    by_name = {s.name: s for s in hidden}
    gains = [by_name[w].sigma_w2 for w in writers if w in by_name]
    readers = [s.sigma_w2 for s in hidden if s.name not in writers and block_of(s.name) in blocks and s.kind == "dense"]
    if not gains or not readers:
        return None
    ratio = _ratio(statistics.median(gains), statistics.median(readers))
    n, limit = len(writers), DEPTH_SCALED / len(writers)
    scaled = math.isfinite(ratio) and ratio <= limit
    return scaled, (f"the {n} layers that write into it have {in_sentence(ratio)}x the weight variance x fan_in of "
                    f"the other layers of their blocks ({'at most' if scaled else 'more than'} 4 / {n} = "
                    f"{in_sentence(limit)}: {'scaled' if scaled else 'not scaled'} for depth)")


def role_groups(layers: Sequence[LayerStats]) -> dict[tuple[str, str], list[LayerStats]]:
    """Hidden layers of one role and one shape (kind, units, fan_in), in order, keyed (role, kind); only
    those that occur in >= 2 blocks. A role whose layers differ in shape (block 0 of each stage of an
    EfficientNet: other widths, kernels, strides) is several groups, each compared within itself."""
    groups: dict[tuple, list[LayerStats]] = {}
    for s in layers:
        groups.setdefault((role(s.name), s.kind, s.units, s.fan_in), []).append(s)
    out: dict[tuple[str, str], list[LayerStats]] = {}
    for (name, kind, units, fan_in), group in groups.items():
        if len(group) >= 2:
            key = (name, kind) if (name, kind) not in out else (f"{name} [{units} units, fan_in {fan_in}]", kind)
            out[key] = group
    return out


def _scaled_grad(s: LayerStats) -> float:
    """dL/dz rms times the layer's own pre-activation rms: dL/d(log of the output's scale), unchanged
    when a norm after the layer divides dz by the rms of z (a BN-followed conv reading a residual stream
    that has grown gets a dz as much smaller as its z is larger, and the same weight update)."""
    return s.grad_rms * s.pre_rms


def _role_checks(groups, stream: float = 1.0) -> list[tuple[str, float, str]]:
    """(direction or '', |log ratio|, sentence) per role group: backward first, then forward. `stream` is
    the residual stream's growth over the blocks (1 when none is measured): the norms that read a stream
    divide the gradient by its rms, so early blocks of a growing stream get that much more gradient by
    construction; a backward ratio above 1 is judged after dividing by it (down to 1, not below)."""
    n = in_sentence
    out = []
    for (name, kind), group in groups.items():
        first, last = group[0], group[-1]
        measured = _ratio(_scaled_grad(first), _scaled_grad(last))
        back = max(1.0, measured / stream) if stream > 1 and measured > 1 else measured
        fwd = _ratio(last.pre_rms, first.pre_rms)
        text = (f"{name} ({kind}, {len(group)} layers): dL/dz rms {n(first.grad_rms)} in {first.name} vs "
                f"{n(last.grad_rms)} in {last.name}, each times its pre-activation rms: ratio {n(measured)}"
                + (f" ({n(back)} once divided by the stream's growth)" if back != measured else "") + "; "
                f"pre-activation rms {n(first.pre_rms)} -> {n(last.pre_rms)}, ratio {n(fwd)}")
        for ratio in (back, fwd):  # an exact 0 at one end (a zero-initialised layer) is not a trend
            if 0 < ratio < math.inf and _direction(ratio):
                out.append((_direction(ratio), abs(math.log(ratio)), text))
                break
        else:
            worst = max((abs(math.log(r)) for r in (back, fwd) if r > 0 and math.isfinite(r)), default=0.0)
            out.append(("", worst, text))
    return sorted(out, key=lambda item: -item[1])


def judge_measured(layers: Sequence[LayerStats], hidden: Sequence[LayerStats],
                   coverage: Coverage) -> tuple[str, list[str], str | None]:
    """(verdict, evidence, cause) by rules 1-7 of the module doc; `cause` ('gates', 'attention', 'stream',
    'signal' or None) tells `initlab.diagnose.recommend` what to fix."""
    n = in_sentence
    gaps = "not covered by the chain theory: " + ", ".join(coverage.gaps) + "; judged on measured rms instead"
    notes = [gaps] + [x for x in [small_branches(layers, coverage)] if x]
    found = _gates(coverage)
    if found:
        return "saturated", found + notes, "gates"
    found = _attention(coverage)
    if found:
        return "exploding", found + notes, "attention"
    broken = [s for s in layers if not (math.isfinite(s.pre_std) and math.isfinite(s.grad_std))]
    if broken:
        b = broken[0]
        return "exploding", [f"the signal overflowed (inf or nan) in {len(broken)} layer{'s' * (len(broken) > 1)} "
                             f"(first {b.name}: pre-activation std {n(b.pre_std)}, gradient std {n(b.grad_std)})"] \
            + notes, "signal"
    stream = stream_growth(coverage)
    writers = writers_scaled(hidden, coverage) if stream and stream[0] > STREAM_GROWTH else None
    if stream and stream[0] > STREAM_GROWTH and not (writers and writers[0]):
        return "exploding", [f"the residual stream grows more than {STREAM_GROWTH:g}x: {stream[1]}"
                             + (f"; {writers[1]}" if writers else "") + "; every branch adds its variance to the "
                             "stream, so later blocks change it by an ever smaller fraction and their layers get "
                             "ever smaller gradients"] + notes, "stream"
    checks = _role_checks(role_groups(hidden), max(1.0, stream[0]) if stream else 1.0)
    if writers:  # grew more than STREAM_GROWTH, from a small start, with writers scaled for depth
        stream_note = [f"residual stream grows {in_sentence(stream[0])}x ({stream[1]}), but {writers[1]}: the "
                       "branches add up to about what one unscaled branch adds, whatever the depth"]
    else:
        stream_note = [f"residual stream within {STREAM_GROWTH:g}x: {stream[1]}"] if stream else []
    if checks and checks[0][0]:
        direction, _, text = checks[0]
        return direction, [f"same layer across blocks, per unit: {text}"] + notes + stream_note, "signal"
    if checks:
        shown = [text for _, _, text in checks[:2]]
        more = f" (and {len(checks) - 2} more roles)" if len(checks) > 2 else ""
        return "ok", [f"same layer across blocks, per unit, within {RATIO:g}x: " + "; ".join(shown) + more] \
            + stream_note + notes, None
    if len(hidden) >= 2:
        first, last = hidden[0], hidden[-1]
        ratio, norms = _ratio(first.grad_rms, last.grad_rms), _ratio(first.grad_norm, last.grad_norm)
        text = (f"dL/dz rms {n(first.grad_rms)} in {first.name} ({first.kind}) vs {n(last.grad_rms)} in {last.name} "
                f"({last.kind}), ratio {n(ratio)}; per sample (rms * sqrt(entries), which pooling and strides keep) "
                f"{n(first.grad_norm)} vs {n(last.grad_norm)}, ratio {n(norms)}")
        if not (math.isfinite(ratio) and math.isfinite(norms)) or \
                (_direction(ratio) is not None and _direction(ratio) == _direction(norms)):
            return "not_covered", [f"not covered: {text}, between layers no repeated block relates and no theory "
                                   "here models; neither 'ok' nor a verdict can be given from it"] \
                + stream_note + notes, None
        return "ok", [f"first and last hidden layer within {RATIO:g}x per unit or per sample: {text}"] \
            + stream_note + notes, None
    return "ok", ["one hidden layer: nothing to compare across depth"] + stream_note + notes, None


__all__ = ["ATTENTION_SATURATED", "DEPTH_SCALED", "GATES_SATURATED", "STREAM_GROWTH", "judge_measured", "no_gradient", "role_groups",
           "small_branches", "stream_growth", "writers_scaled"]
