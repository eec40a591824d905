"""The HTML report of an init diagnosis: verdict, evidence, the fix, the std-by-depth figure, the
per-layer table. Self-contained like the run report (inline style, embedded PNG, no script).
"""

from __future__ import annotations

import os
from html import escape
from pathlib import Path

from initlab import __version__
from initlab.numbers_text import MISSING, percent, significant
from initlab.report.html import cell, figure_html, page, write_page


def _short(value: float) -> str:
    return significant(value, 3)


COLUMNS = (  # (header, LayerStats field, formatter, css class)
    ("layer", "index", str, "index"),
    ("name", "name", str, ""),
    ("units", "units", str, "units"),
    ("activation", "activation", str, ""),
    ("pre rms", "pre_rms", _short, "pre-rms"),
    ("theory", "expected_pre_std", _short, "expected-pre-std"),
    ("act std", "activation_std", _short, "activation-std"),
    ("theory", "expected_activation_std", _short, "expected-activation-std"),
    ("saturated", "saturated_fraction", percent, "saturated"),
    ("dead", "dead_fraction", percent, "dead"),
    ("dL/dz rms", "grad_rms", _short, "grad-rms"),
    ("theory", "expected_grad_std", _short, "expected-grad-std"),
    ("|dW|/|W|", "weight_grad_ratio", _short, "weight-grad-ratio"),
    ("duplicates", "duplicate_units", str, "duplicate-units"),
)
TEXT_FIELDS = ("name", "activation")
STYLE = "table.layers td { white-space: nowrap; }\ntr.outside td { background: #fff6e5; }\n.verdict { font-family: ui-monospace, monospace; }\n"


def layer_table(layers) -> str:
    """One row per layer; a row whose pre-activation rms leaves the finite-width band is marked."""
    head = "".join(f"<th>{escape(title)}</th>" for title, *_ in COLUMNS)
    rows = []
    for s in layers:
        cells = []
        for _, field, show, kind in COLUMNS:
            value = getattr(s, field)
            if field.startswith("expected_") and value != value:  # nan: the chain theory does not cover the model
                value = None
            if field in TEXT_FIELDS:
                cells.append(f"<td>{escape(str(value))}</td>")
            else:
                cells.append(cell(MISSING if value is None else show(value), value, kind))
        rows.append(f'<tr class="{"outside" if s.outside_band else "inside"}">{"".join(cells)}</tr>')
    return f'<table class="layers"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _recommendation(recommendation: dict | None) -> str:
    if not recommendation:
        return '<p class="recommendation">No change needed.</p>'
    if recommendation.get("at_optimum"):
        return (f"<p class=\"recommendation\">Keep <code>{escape(recommendation['scheme'])}</code> &mdash; "
                f"{escape(recommendation.get('why', ''))}</p>")
    parts = [f"<p class=\"recommendation\">Recommended: <code>{escape(recommendation['scheme'])}</code>"
             f" &mdash; {escape(recommendation.get('why', ''))}</p>"]
    for key, label in (("command", "Check it"), ("python", "In Python")):
        if recommendation.get(key):
            parts.append(f"<p>{label}: <code>{escape(recommendation[key])}</code></p>")
    return "".join(parts)


def _depth_scheme(depth: dict | None) -> str:
    """The depth scheme a residual torch model calls for (`Diagnosis.depth_scheme`), or nothing."""
    if not depth:
        return ""
    label = "Depth scheme (alternative to the fix above)" if depth.get("role") == "alternative" else "Depth scheme"
    return (f"<p class=\"recommendation\">{label}: <code>{escape(depth['scheme'])}</code> &mdash; "
            f"{escape(depth['why'])}</p><p>In Python: <code>{escape(depth['python'])}</code></p>")


def build_diagnosis_report(diagnosis, *, title: str | None = None, command: str | None = None,
                           figure=None) -> str:
    """The report page (HTML text) of an `initlab.diagnose.Diagnosis`; `figure` is its
    `diagnose_figure` when the caller has drawn it already."""
    if figure is None:
        from initlab.diagnose.figure import diagnose_figure  # matplotlib only when a page is built
        figure = diagnose_figure(diagnosis)
    title = title or f"Init diagnosis: {diagnosis.model}"
    evidence = "".join(f"<li>{escape(line)}</li>" for line in diagnosis.evidence)
    how = f"<p class=\"meta\">Command: <code>{escape(command)}</code></p>" if command else ""
    sections = [
        f"<header><h1>{escape(title)}</h1><p class=\"meta\">{len(diagnosis.layers)} layers, one forward "
        f"and backward pass at initialization. initlab {escape(__version__)}.</p>{how}</header>",
        f'<section id="verdict"><h2>Verdict: <span class="verdict">{escape(diagnosis.verdict)}</span></h2>'
        f'<ul class="evidence">{evidence}</ul>{_recommendation(diagnosis.recommendation)}'
        f'{_depth_scheme(getattr(diagnosis, "depth_scheme", None))}</section>',
        '<section id="depth"><h2>Signal by depth</h2>'
        + figure_html(figure, "rms of pre-activations and of dL/dz by layer",
                      "Measured (blue) against mean-field theory for the measured weight variances (red); "
                      "the shaded band is the finite-width fluctuation (±2 sd of a single input's log std, "
                      "Hanin & Rolnick 2018). The backward theory is anchored at the last layer. When some "
                      "layer has identical units (zeros or constant init), a third panel counts its distinct "
                      "units: 1 of 100 means every unit computes the same thing.")
        + "</section>",
        '<section id="layers"><h2>Per layer</h2>' + layer_table(diagnosis.layers)
        + '<p class="note">Rows whose pre-activation rms leaves the band are shaded.</p></section>',
    ]
    return page(title, "\n".join(sections), STYLE)


def write_diagnosis_report(diagnosis, path: str | os.PathLike, *, title: str | None = None,
                           command: str | None = None, figure=None) -> Path:
    return write_page(build_diagnosis_report(diagnosis, title=title, command=command, figure=figure), path)
