"""The coordinate check's figure, in the style of the muP paper (Tensor Programs V, figure 5: one panel
per training step, x = width, y = the size of each module's output, both on log axes) and its
self-contained report page (the figure, the per-module table and the command).

One line per module, coloured by its role; a module that breaks the check (its output or its update)
is drawn thicker. Zero or
non-finite rms cannot sit on a log axis and is left out of its line.
"""

from __future__ import annotations

import math
import os
from html import escape
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from initlab import __version__
from initlab.numbers_text import significant
from initlab.report.curves import LEGEND_SIZE
from initlab.report.html import cell, figure_html, page, write_page

ROLE_COLORS = {"embedding": "#2a9d3f", "hidden": "#1f5fbf", "attention logits": "#d08a1b", "readout": "#d0451b"}
MAX_ONE_ROW = 4  # panels in one row; more are spread evenly over rows


def coordcheck_figure(result, path: str | os.PathLike | None = None) -> Figure:
    """The figure of a `initlab.torch.coordcheck_result.CoordCheck` (or its JSON), saved to `path` if given."""
    doc = result if isinstance(result, dict) else result.to_json()
    axis, sizes, steps = doc["axis"], doc[doc["axis"] + "s"], doc["steps"]
    panels = steps + 1
    columns = panels if panels <= MAX_ONE_ROW else math.ceil(panels / math.ceil(panels / MAX_ONE_ROW))
    rows = math.ceil(panels / columns)
    fig = Figure(figsize=(3.0 * columns, 2.9 * rows + 0.5), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False, sharey=True).ravel()
    for step, ax in enumerate(axes):
        if step >= panels:
            ax.set_visible(False)
            continue
        for module in doc["modules"]:
            values = np.array([math.nan if v is None else v for v in module["rms"][step]], dtype=float)
            values = np.where(values > 0, values, np.nan)
            broken = module["verdict"] != "stable" or module.get("delta_verdict", "stable") != "stable"
            ax.plot(sizes, values, color=ROLE_COLORS.get(module["role"], "#777777"), lw=1.6 if broken else 0.7,
                    alpha=0.9 if broken else 0.55, marker="o", ms=2)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_title(f"step {step}", fontsize=10)
        ax.set_xticks(sizes, [str(s) for s in sizes], fontsize=7)
        ax.minorticks_off()
        ax.tick_params(axis="y", labelsize=7)
        if step % columns == 0:
            ax.set_ylabel("rms of the output")
        ax.set_xlabel(axis)
    present = {module["role"] for module in doc["modules"]}
    handles = [axes[0].plot([], [], color=color, lw=1.6, label=role)[0] for role, color in ROLE_COLORS.items()
               if role in present]
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=LEGEND_SIZE, frameon=False)
    fig.suptitle(f"Coordinate check: verdict {doc['verdict']} (thick lines: modules that break it)", fontsize=11)
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig


def _slope(value, spread=None) -> str:
    if value is None:
        return "n/a"
    return f"{value:+.2f}" + ("" if not spread else f" ± {significant(spread, 2)}")


def module_table(doc: dict) -> str:
    """One row per module: name, role, slope at step 0 and at step T (± spread), verdict, the update's slope
    at step T and verdict, the step it first broke at."""
    steps = doc["steps"]
    titles = ("module", "role", "slope 0", f"slope {steps}", "verdict", f"update slope {steps}", "update",
              "broken at")
    head = "".join(f"<th>{escape(title)}</th>" for title in titles)
    rows = []
    for m in doc["modules"]:
        first, last, update = m["slopes"][0], m["slopes"][-1], m["delta_slopes"][-1]
        spread, update_spread = m["slope_spread"][-1], m["delta_spread"][-1]
        broken = [s for s in (m["broken_at"], m["delta_broken_at"]) if s is not None]
        bad = {m["verdict"], m["delta_verdict"]} - {"stable"}
        kind = "grows" if "grows" in bad else "shrinks" if bad else "stable"
        rows.append(f'<tr class="{kind}"><td>{escape(m["name"])}</td><td>{escape(m["role"])}</td>'
                    f'{cell(_slope(first), first, "slope-0")}{cell(_slope(last, spread), last, "slope-t")}'
                    f'<td>{escape(m["verdict"])}</td>{cell(_slope(update, update_spread), update, "update-slope-t")}'
                    f'<td>{escape(m["delta_verdict"])}</td><td>{min(broken) if broken else ""}</td></tr>')
    return f'<table class="modules"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


STYLE = "tr.grows td { background: #fdf1f1; }\ntr.shrinks td { background: #eef4fd; }\n"


def build_coordcheck_report(result, *, command: str | None = None, figure=None) -> str:
    """The report page (HTML text) of a coordinate check."""
    doc = result if isinstance(result, dict) else result.to_json()
    figure = figure if figure is not None else coordcheck_figure(doc)
    sizes = ", ".join(str(s) for s in doc[doc["axis"] + "s"])
    config = doc["config"]
    how = f"<p class=\"meta\">Command: <code>{escape(command)}</code></p>" if command else ""
    first = ", ".join(doc["first_broken"]) or "none"
    title = f"Coordinate check: {config.get('factory', 'model')}"
    body = [
        f"<header><h1>{escape(title)}</h1><p class=\"meta\">{escape(doc['axis'])}s {escape(sizes)}; "
        f"{doc['steps']} steps of {escape(str(config.get('optimizer')))} at lr {config.get('lr')}; "
        f"{config.get('seeds')} seeds. initlab {escape(__version__)}.</p>{how}</header>",
        f"<section id=\"verdict\"><h2>Verdict: <span class=\"verdict\">{escape(doc['verdict'])}</span></h2>"
        f"<p>First to break: {escape(first)}. A module is stable when the slope of log(rms) against "
        f"log({escape(doc['axis'])}) stays within ±{doc['tolerance']} (see docs/coordcheck.md).</p></section>",
        '<section id="figure"><h2>Output size against ' + escape(doc["axis"]) + "</h2>"
        + figure_html(figure, "rms of each module's output against size, one panel per step",
                      "One line per module, coloured by role; thick lines break the check.") + "</section>",
        '<section id="modules"><h2>Per module</h2>' + module_table(doc) + "</section>",
    ]
    return page(title, "\n".join(body), STYLE)


def write_coordcheck_report(result, path: str | os.PathLike, *, command: str | None = None, figure=None) -> Path:
    return write_page(build_coordcheck_report(result, command=command, figure=figure), path)
