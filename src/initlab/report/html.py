"""A self-contained HTML report of run records: cost curves, decision boundaries (records that carry
them), a table per grid point, heatmaps, config.

Figures are embedded as base64 PNG; the stylesheet is inline; there is no JavaScript and no
external resource, so the file works offline and can be mailed around. Every text is escaped.

>>> config = {"data": "circles", "hidden": [4], "inits": ["zeros"], "seeds": 1}
>>> run = {"init": "zeros", "seed": 0, "final_cost": 0.6931, "diverged": False, "train_accuracy": 0.5,
...        "cost_history": [[0, 0.6931], [10, 0.6931]], "config": config}
>>> page = build_report([run], title="zeros <demo>")
>>> page.startswith("<!doctype html>"), "zeros &lt;demo&gt;" in page, "<script" in page
(True, True, False)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from html import escape
from pathlib import Path

from initlab import __version__
from initlab._checks import output_file
from initlab.report.boundaries import MAX_SEED_COLUMNS, boundary_figure, has_boundaries
from initlab.report.curves import cost_points_figure, png_base64
from initlab.report.heatmaps import color_scale, find_heatmaps, heatmap_figure
from initlab.report.points import Point, format_value, group_points, shared_settings, varying_fields
from initlab.summary import (MEAN_STD, MEDIAN_RANGE, NAMES, QUANTITIES, STEPS, mean_std_text, median_range_text,
                             summary_row)

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2330;
       margin: 0 auto; padding: 1.5rem 2rem 3rem; max-width: 1200px; background: #fff; }
h1 { font-size: 1.5rem; margin: 0 0 .3rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .6rem; padding-bottom: .2rem; border-bottom: 1px solid #d8dde6; }
h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
.meta, figcaption, .note { color: #5b6475; font-size: .9rem; }
figure { margin: 0 0 1rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #e4e7ee; }
.maps { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; }
table { border-collapse: collapse; font-size: .9rem; margin-bottom: 1rem; }
th, td { padding: .3rem .7rem; border-bottom: 1px solid #e4e7ee; text-align: left; vertical-align: top; }
th { background: #f4f6fa; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.diverged td { background: #fdf1f1; }
dl.shared { columns: 15rem auto; column-gap: 2rem; margin: 0 0 1rem; }
dl.shared div { display: flex; gap: .6rem; break-inside: avoid; padding: .15rem 0; border-bottom: 1px solid #eef0f4; }
dl.shared dt { font-weight: 600; min-width: 8rem; }
dl.shared dd { margin: 0; }
code { font: .85rem ui-monospace, SFMono-Regular, Menlo, monospace; }
"""


def cell(text: str, value: float | None = None, kind: str = "") -> str:
    """A table cell; numbers right-aligned and carrying their full value in data-value."""
    attributes = f' class="num {kind}"' if kind else ""
    if value is not None:
        attributes += f' data-value="{value!r}"'
    return f"<td{attributes}>{escape(text)}</td>"


def seed_list(seeds: Sequence) -> str:
    """'0-4' for a contiguous range, else the seeds separated by commas."""
    ordered = sorted(seeds, key=str)
    if all(isinstance(s, int) for s in seeds):
        ordered = sorted(seeds)
        if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
            return f"{ordered[0]}-{ordered[-1]}"
    return ", ".join(str(s) for s in ordered)


def figure_html(fig, alt: str, caption: str = "") -> str:
    data = png_base64(fig)
    caption = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return (f'<figure><img class="figure" alt="{escape(alt)}" '
            f'src="data:image/png;base64,{data}">{caption}</figure>')


KINDS = {"final_cost": "cost", "train_accuracy": "train-accuracy", "test_accuracy": "test-accuracy",
         STEPS: "reached-at"}


def has_target(settings: dict) -> bool:
    """Whether a point's runs had a steps-to-target target (`initlab.nn.target`)."""
    return settings.get("target_cost") is not None or settings.get("target_accuracy") is not None


def summary_table(points: Sequence[Point]) -> str:
    """Per point: label, seeds, diverged, then final cost, train and test accuracy each as mean ± std
    and as median [min, max] (`initlab.summary`, the statistics the terminal shows); where runs had a
    target, also how many reached it and the iteration they reached it at."""
    steps = any(has_target(p.settings) for p in points)
    quantities = QUANTITIES + ((STEPS,) if steps else ())
    top = "".join(f'<th rowspan="2">{h}</th>' for h in ("point", "seeds", "diverged") + (("reached",) if steps else ()))
    top += "".join(f'<th colspan="2">{escape(NAMES[q])}</th>' for q in quantities)
    sub = f"<th>{escape(MEAN_STD)}</th><th>{escape(MEDIAN_RANGE)}</th>" * len(quantities)
    rows = []
    for index, point in enumerate(points):
        row = summary_row(point.runs, label=point.label, init=point.init, steps=steps)
        cells = [f"<td>{escape(point.label)}</td>", cell(str(row["n_seeds"]), row["n_seeds"], "seeds"),
                 cell(str(row["n_diverged"]), row["n_diverged"], "n-diverged")]
        if steps:
            cells.append(cell(str(row["n_reached"]), row["n_reached"], "n-reached"))
        for quantity in quantities:
            kind = KINDS[quantity]
            cells += [cell(mean_std_text(row, quantity), row[f"{quantity}_mean"], f"{kind}-mean"),
                      cell(median_range_text(row, quantity), row[f"{quantity}_median"], f"{kind}-median")]
        kind = ' class="diverged"' if point.n_diverged else ""
        rows.append(f'<tr id="point-{index}"{kind}>{"".join(cells)}</tr>')
    return (f'<table class="summary"><thead><tr>{top}</tr><tr>{sub}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def config_tables(points: Sequence[Point]) -> str:
    """The settings every point shares, once; then the ones that differ, per point."""
    shared = shared_settings(points)
    items = "".join(f"<div><dt>{escape(name)}</dt><dd><code>{escape(format_value(value))}</code></dd></div>"
                    for name, value in shared.items())
    parts = ["<h3>Shared by every point</h3>", f'<dl class="shared">{items}</dl>']
    varying = varying_fields(points)
    head = "".join(f"<th>{escape(name)}</th>" for name in ("point", "seeds", *varying))
    body = "".join(
        "<tr>" + f"<td>{escape(p.label)}</td><td>{escape(seed_list(p.seeds))}</td>"
        + "".join(f"<td><code>{escape(format_value(p.settings.get(name)))}</code></td>" for name in varying)
        + "</tr>" for p in points)
    parts += ["<h3>Per point</h3>" if varying else "<h3>Seeds</h3>",
              f'<table class="per-point"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>']
    return "\n".join(parts)


def build_report(runs: list[dict], *, title: str, config: dict | None = None) -> str:
    """The report page (HTML text) of run records; `config` serves records that carry none."""
    points = group_points(runs, config)
    n_runs = sum(len(p.runs) for p in points)
    n_diverged = sum(p.n_diverged for p in points)
    meta = (f"{n_runs} runs at {len(points)} grid point{'s' if len(points) != 1 else ''} "
            f"(a point is a config; its runs differ only in the seed)"
            + (f"; {n_diverged} diverged" if n_diverged else "") + f". initlab {__version__}.")
    curves = cost_points_figure(points)
    sections = [
        f"<header><h1>{escape(title)}</h1><p class=\"meta\">{escape(meta)}</p></header>",
        '<section id="curves"><h2>Cost curves</h2>'
        + figure_html(curves, "training cost against iteration per point",
                      "Mean over seeds (line) and min to max (band), log scale; diverged runs are left out "
                      "of the curves and counted in the legend. Dashed: ln 2 = 0.693, the cost of predicting "
                      "1/2 for every sample, where a zeros init stays.") + "</section>",
    ]
    train_points = next((run["train_points"] for run in runs if isinstance(run, dict) and run.get("train_points")),
                        None)
    if train_points is not None and has_boundaries(points):
        sections.append('<section id="boundaries"><h2>Decision boundaries</h2>'
                        + figure_html(boundary_figure(points, train_points), "decision boundary of every seed",
                                      f"Every seed of every point (up to {MAX_SEED_COLUMNS} seeds; else the "
                                      "median seed by test accuracy), titled with its own accuracies: one seed "
                                      "can do much better or worse than the table's mean.")
                        + "</section>")
    sections.append('<section id="summary"><h2>Final cost and accuracy</h2>' + summary_table(points)
                    + f'<p class="note">{escape(MEAN_STD)} (population std) and {escape(MEDIAN_RANGE)} over the '
                    'seeds; the final cost over the seeds that did not diverge; accuracies in percent.</p></section>')
    maps = find_heatmaps(points)
    if maps:
        norm = color_scale(maps)
        figures = "".join(figure_html(heatmap_figure(m, norm), f"median final cost of {m.title}"
                                      + (f" over {' x '.join(a for a in (m.x, m.y) if a)}" if m.x else ""))
                          for m in maps)
        sections.append('<section id="heatmaps"><h2>Heatmaps</h2>'
                        '<p class="note">Median final cost over seeds (one color scale for all maps); '
                        'hatched red: every seed diverged.</p>'
                        f'<div class="maps">{figures}</div></section>')
    sections.append(f'<section id="config"><h2>Configuration</h2>{config_tables(points)}</section>')
    return page(title, "\n".join(sections))


def page(title: str, body: str, style: str = "") -> str:
    """A whole HTML document around `body`: inline style (plus `style`), no script, no external resource."""
    return ("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<link rel=\"icon\" href=\"data:,\">\n"
            f"<title>{escape(title)}</title>\n<style>{STYLE}{style}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")


def write_page(text: str, path: str | os.PathLike) -> Path:
    """Write an HTML page through a temporary file, so a failure leaves no half page."""
    path = output_file("out", path, "report.html")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
    return path


def write_report(runs: list[dict], path: str | os.PathLike, *, title: str, config: dict | None = None) -> Path:
    """Write `build_report(...)` to `path`."""
    output_file("out", path, "report.html")  # before the figures are drawn
    return write_page(build_report(runs, title=title, config=config), path)
