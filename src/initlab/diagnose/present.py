"""How a diagnosis is shown on a terminal (a Rich table and the verdict lines), and the command that
applies the recommended scheme: the user's own command with `--init` replaced."""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Sequence

from rich.markup import escape
from rich.table import Table

from initlab.numbers_text import percent, significant

VERDICT_STYLE = {"ok": "bold green"}


def _shown(value: float | None) -> float | None:
    """None ('-') for a value theory does not give (nan where the chain theory does not cover the model)."""
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _band(s) -> str:
    """'low-high' of the finite-width band; '-' where the chain theory gives none."""
    if _shown(s.band_low) is None:
        return significant(None)
    return f"{significant(s.band_low, 2)}-{significant(s.band_high, 2)}"


def _versus(measured: float | None, expected: float | None) -> str:
    return f"{significant(measured, 3)} ({significant(_shown(expected), 3)})"


COLUMNS = ("layer", "act", "units", "pre rms (theory)", "band", "act std (theory)", "saturated", "dead",
           "dL/dz rms (theory)", "|dW|/|W|", "dup units")
OPTIONAL_COLUMNS = ("units", "band", "act std (theory)", "|dW|/|W|", "saturated", "dead", "dup units")


def layer_table(diagnosis, title: str | None = None) -> Table:
    """One row per layer; 'measured (theory)' pairs; rows outside the finite-width band in yellow."""
    covered = any(not math.isnan(s.expected_pre_std) for s in diagnosis.layers)
    caption = "measured (theory); band: finite-width ±2 sd of the pre-activation rms; rows outside it in yellow"
    table = Table(title=title or f"{diagnosis.model}: one forward + backward pass at init",
                  caption=caption + ("" if covered else "; theory '-': the chain theory does not cover this model"))
    for column in COLUMNS:  # never wrapped: a narrow console leaves out OPTIONAL_COLUMNS instead
        table.add_column(column, justify="left" if column in ("layer", "act") else "right", no_wrap=True)
    for s in diagnosis.layers:
        table.add_row(escape(f"{s.index} {s.name}" if s.name != f"layer {s.index}" else str(s.index)),
                      escape(s.activation), str(s.units), _versus(s.pre_rms, s.expected_pre_std), _band(s),
                      _versus(s.activation_std, s.expected_activation_std), percent(s.saturated_fraction, 0),
                      percent(s.dead_fraction, 0), _versus(s.grad_rms, s.expected_grad_std),
                      significant(s.weight_grad_ratio, 3), str(s.duplicate_units),
                      style="yellow" if s.outside_band else None)
    return table


def verdict_lines(diagnosis) -> list[str]:
    """Rich-markup lines: the verdict, its evidence, the recommended fix and how to apply it, and the depth
    scheme a residual torch model's structure calls for (as the alternative when the fix rescales the stream)."""
    style = VERDICT_STYLE.get(diagnosis.verdict, "bold red")
    lines = [f"verdict: [{style}]{diagnosis.verdict}[/]"]
    lines += [f"  - {escape(line)}" for line in diagnosis.evidence]
    fix = diagnosis.recommendation
    if fix and fix.get("at_optimum"):  # rerunning the same init would change nothing
        lines.append(f"keep: [bold]{escape(fix['scheme'])}[/] - {escape(fix.get('why', ''))}")
    elif fix:
        lines.append(f"recommended: [bold]{escape(fix['scheme'])}[/] - {escape(fix.get('why', ''))}")
        for key, label in (("command", "check it"), ("python", "in Python")):
            if fix.get(key):
                lines.append(f"  {label}: " + escape(fix[key]).replace("\n", "\n" + " " * (len(label) + 4)))
    if getattr(diagnosis, "discovery", None):
        how = "forward hooks on the pass" + (", torch.fx for merges and functional activations"
                                             if diagnosis.discovery == "hooks+fx" else " (torch.fx could not trace it)")
        lines.append(f"layers found by: {how}")
    depth = getattr(diagnosis, "depth_scheme", None)
    if depth:
        label = "depth (alternative to the fix above)" if depth.get("role") == "alternative" else "depth"
        lines.append(f"{label}: [bold]{escape(depth['scheme'])}[/] - {escape(depth['why'])}; "
                     f"in Python: {escape(depth['python'])}")
    return lines


def jacobian_lines(diagnosis) -> list[str]:
    """The hidden Jacobian's singular values in two lines (none when not measured)."""
    j = getattr(diagnosis, "jacobian", None)
    if not j:
        return []
    def shown(x):
        return "-" if x is None else f"{x:.3g}"
    return [f"jacobian d h({j['to'].split()[-1]}) / d h(1) over {j['examples']} inputs: singular values "
            f"{shown(j['q05'])} .. {shown(j['median'])} .. {shown(j['q95'])} (5%, median, 95%), max {shown(j['max'])}",
            f"  mean s^2 {shown(j['mean_square'])} (mean-field theory {shown(j['theory_mean_square'])}), "
            f"variance of s^2 {shown(j['var_square'])} (0 at dynamical isometry)"]


def command_line(options: Sequence[tuple[str, object]], command: str = "diagnose") -> str:
    """'initlab <command> --flag value ...' from (flag, value) pairs; None values are left out, True
    values are bare flags, every value is shell-quoted (specs hold parentheses)."""
    words = ["initlab", command]
    for flag, value in options:
        if value is None or value is False:
            continue
        words += [flag] if value is True else [flag, shlex.quote(str(value))]
    return " ".join(words)


def with_fix(recommendation: dict | None, options: Sequence[tuple[str, object]], *, torch_model: bool,
             input_shape: Sequence[int] | None, seed: int, vocab: int | None = None) -> dict | None:
    """The recommendation plus the command (the same diagnosis with the fix) and, for torch, the Python line
    (a token model's with ``dtype='long', vocab=N``).
    A fix for some layers only (``layers``) gets the Python line alone: ``--init`` would redraw every layer."""
    if not recommendation or recommendation.get("at_optimum"):
        return recommendation
    scheme = recommendation["scheme"]
    if recommendation.get("layers"):
        if not torch_model:
            return recommendation
        return dict(recommendation, python=targeted_python(scheme, recommendation["layers"], seed))
    changes = {"--init": scheme, "--bias-init": recommendation.get("bias_init")}
    fixed = [(flag, changes[flag] if changes.get(flag) else value) for flag, value in options]
    fixed += [(flag, value) for flag, value in changes.items() if value and flag not in dict(options)]
    result = dict(recommendation, command=command_line(fixed))
    if torch_model:
        if scheme == "auto":
            shape = tuple(input_shape) if input_shape else "<input shape without the batch dimension>"
            tokens = "" if vocab is None else f", dtype='long', vocab={vocab}"
            result["python"] = f"initlab.torch.auto(model, input_shape={shape}{tokens}, seed={seed})"
        else:
            bias = recommendation.get("bias_init")
            result["python"] = (f"initlab.torch.apply(model, {scheme!r}" + (f", bias={bias!r}" if bias else "")
                                + f", seed={seed})")
    return result


def targeted_python(scheme: str, layers: Sequence[str], seed: int) -> str:
    r"""Python that applies `scheme` to the named layers only (one generator for all of them), matched by
    a pattern where the names differ only in their indices (`names_pattern`), else listed.

    >>> targeted_python("torch_default", ["head"], 0)
    "initlab.torch.apply(model.get_submodule('head'), 'torch_default', seed=0)"
    >>> print(targeted_python("normal(std=0.01)", ["h.0.c_proj", "h.1.c_proj", "h.2.c_proj", "h.3.c_proj"], 0))
    import re, torch, initlab.torch
    g = torch.Generator().manual_seed(0)
    for name, module in model.named_modules():
        if re.fullmatch(r'h\.\d+\.c_proj', name):
            initlab.torch.apply(module, 'normal(std=0.01)', generator=g)
    """
    if len(layers) == 1:
        return f"initlab.torch.apply(model.get_submodule({layers[0]!r}), {scheme!r}, seed={seed})"
    pattern = names_pattern(layers)
    head = f"import {'' if pattern is None else 're, '}torch, initlab.torch\ng = torch.Generator().manual_seed({seed})\n"
    if pattern is None:
        return (head + f"for name in {list(layers)!r}:\n"
                f"    initlab.torch.apply(model.get_submodule(name), {scheme!r}, generator=g)")
    return (head + "for name, module in model.named_modules():\n"
            f"    if re.fullmatch(r'{pattern}', name):\n"
            f"        initlab.torch.apply(module, {scheme!r}, generator=g)")


def names_pattern(names: Sequence[str]) -> str | None:
    r"""A regular expression for `names` when they are every combination of their dotted parts: a part the
    same in all, a number ('\d+'), or one of a few words ('(?:attn|mlp)'); else None (then they are listed).

    >>> names_pattern(["h.0.attn.c_proj", "h.0.mlp.c_proj", "h.1.attn.c_proj", "h.1.mlp.c_proj"])
    'h\\.\\d+\\.(?:attn|mlp)\\.c_proj'
    >>> names_pattern(["h.0.attn.c_proj", "h.1.mlp.c_proj", "h.2.mlp.c_proj", "h.3.mlp.c_proj"]) is None
    True
    """
    split = [name.split(".") for name in dict.fromkeys(names)]
    if len(split) < 4 or len({len(parts) for parts in split}) != 1:
        return None
    out, combinations = [], 1
    for column in zip(*split):
        values = list(dict.fromkeys(column))
        combinations *= len(values)
        if len(values) == 1:
            out.append(re.escape(values[0]))
        elif all(part.isdigit() for part in values):
            out.append(r"\d+")
        elif len(values) <= 4:
            out.append("(?:" + "|".join(re.escape(v) for v in values) + ")")
        else:
            return None
    return r"\.".join(out) if combinations == len(split) else None
