"""Heatmaps of a sweep: median final cost over two numeric axes, one map per scheme.

Axes are numbers that vary between the points of one scheme name: a spec parameter (`std`,
`gain`, `scale`, `limit`, ... with its default when not given), `depth` (number of hidden
layers), `width` (widest hidden layer) or a numeric setting (`lr`, `n_samples`, ...). The first
two, in that order, that form a real grid (not one value of y per value of x) are used; points
that differ in anything else get maps of their own. When some scheme has such a grid, every other
scheme gets a map too, so none is missing from the picture: a one-row strip over the one number
that varies for it (e.g. he_normal over depth while normal spans std x depth), or a single cell.
No scheme with a grid: no heatmap at all (a plain compare has nothing to map).

A map is titled with the full scheme, its mapped parameters left open: `normal(std=...)`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from initlab.init import Spec, canonical, lookup
from initlab.report.curves import LEGEND_SIZE, plain, scheme_name
from initlab.report.points import QUIET_FIELDS, SEED_FIELDS, Point, format_value, key

NOT_AXES = (*SEED_FIELDS, *QUIET_FIELDS, "data_seed")


def _spec_axes(init: str) -> tuple[str, dict[str, float]]:
    """The scheme's name and its numeric parameters (defaults filled in)."""
    try:
        spec = canonical(init)
        parameters = lookup(spec.name).parameters
    except (ValueError, TypeError):  # a record's scheme this version does not know
        return scheme_name(init), {}
    given = spec.kwargs
    values = {p.name: given.get(p.name, p.default) for p in parameters}
    return spec.name, {k: float(v) for k, v in values.items() if _is_number(v)}


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def point_axes(point: Point) -> tuple[str, dict[str, float]]:
    """Scheme name and every numeric coordinate of a point, spec parameters first."""
    name, axes = _spec_axes(point.init)
    hidden = point.settings.get("hidden")
    if isinstance(hidden, list) and hidden and all(_is_number(h) for h in hidden):
        axes.setdefault("depth", float(len(hidden)))
        axes.setdefault("width", float(max(hidden)))
    for field_name, value in point.settings.items():
        if field_name not in NOT_AXES and _is_number(value):
            axes.setdefault(field_name, float(value))
    return name, axes


@dataclass
class Heatmap:
    scheme: str
    x: str  # "" for a single cell
    y: str  # "" for a one-row strip
    facet: str = ""  # what else these points share when the scheme has several maps
    cells: dict[tuple[float, float], list[Point]] = field(default_factory=dict)
    parameters: tuple[str, ...] = ()  # the scheme's spec parameters among the axes

    @property
    def title(self) -> str:
        """'normal(std=...)' when std is an axis; the scheme itself ('he_normal') otherwise."""
        if not self.parameters:
            return self.scheme
        return f"{self.scheme}({', '.join(f'{p}=...' for p in self.parameters)})"


def _varying(coordinates: Sequence[dict[str, float]]) -> list[str]:
    names = [n for n in coordinates[0] if all(n in c for c in coordinates)]
    return [n for n in names if len({c[n] for c in coordinates}) > 1]


def _grid_axes(coordinates: Sequence[dict[str, float]]) -> tuple[str, str] | None:
    varying = _varying(coordinates)
    for i, x in enumerate(varying):
        for y in varying[i + 1:]:
            pairs = {(c[x], c[y]) for c in coordinates}
            if len(pairs) > max(len({c[x] for c in coordinates}), len({c[y] for c in coordinates})):
                return x, y
    return None


def _facet(point: Point, x: str, y: str, params: dict[str, float]) -> dict:
    """A point's settings without the two axes (and what they are derived from)."""
    rest = {k: v for k, v in point.settings.items() if k not in (x, y, "init_label", *QUIET_FIELDS)}
    if {x, y} & {"depth", "width"}:
        rest.pop("hidden", None)
    if {x, y} & set(params):
        spec = canonical(point.init)
        rest["init"] = str(Spec(spec.name, tuple((k, v) for k, v in spec.args if k not in (x, y))))
    return rest


def _maps(name: str, members: list[tuple[Point, dict]], x: str, y: str, minimum: int) -> list[Heatmap]:
    """The maps of one scheme over axes x, y ('' for none), one per combination of other settings;
    maps with fewer than `minimum` cells are left out."""
    facets: dict[str, tuple[dict, Heatmap]] = {}
    for point, axes in members:
        params = _spec_axes(point.init)[1]
        rest = _facet(point, x, y, params)
        parameters = tuple(a for a in (x, y) if a and a in params)
        _, heatmap = facets.setdefault(key(rest), (rest, Heatmap(name, x, y, parameters=parameters)))
        heatmap.cells.setdefault((axes.get(x, 0.0), axes.get(y, 0.0)), []).append(point)
    differing = [k for k in next(iter(facets.values()))[0]
                 if len({key(rest.get(k)) for rest, _ in facets.values()}) > 1]
    maps = []
    for rest, heatmap in facets.values():
        heatmap.facet = ", ".join(f"{k}={format_value(rest.get(k))}" for k in differing)
        if len(heatmap.cells) >= minimum:
            maps.append(heatmap)
    return maps


def find_heatmaps(points: Sequence[Point]) -> list[Heatmap]:
    """The maps of every scheme name (module docstring), in order of first appearance."""
    by_scheme: dict[str, list[tuple[Point, dict]]] = {}
    for point in points:
        name, axes = point_axes(point)
        by_scheme.setdefault(name, []).append((point, axes))
    found: dict[str, list[Heatmap]] = {}
    for name, members in by_scheme.items():
        chosen = _grid_axes([axes for _, axes in members])
        found[name] = _maps(name, members, *chosen, minimum=2) if chosen else []
    if not any(found.values()):
        return []
    for name, members in by_scheme.items():
        if not found[name]:
            varying = _varying([axes for _, axes in members])
            found[name] = _maps(name, members, varying[0] if varying else "", "", minimum=1)
    return [heatmap for maps in found.values() for heatmap in maps]


def _cell(points: list[Point]) -> tuple[float | None, int, int]:
    """Median final cost of the runs that did not diverge, diverged count, run count."""
    costs = [c for p in points for c in p.costs]
    return (float(np.median(costs)) if costs else None, sum(p.n_diverged for p in points),
            sum(len(p.runs) for p in points))


def color_scale(maps: Sequence[Heatmap]) -> LogNorm:
    """One log color scale for every map, so colors compare across schemes."""
    values = [m for h in maps for ps in h.cells.values() if (m := _cell(ps)[0]) is not None and m > 0]
    low, high = (min(values), max(values)) if values else (1e-3, 1.0)
    return LogNorm(low, high if high > low else low * 10)


def heatmap_figure(heatmap: Heatmap, norm: LogNorm) -> Figure:
    """Median final cost per cell, log color scale, values annotated; all-diverged cells hatched red."""
    xs = sorted({x for x, _ in heatmap.cells})
    ys = sorted({y for _, y in heatmap.cells})
    grid = np.full((len(ys), len(xs)), np.nan)
    fig = Figure(figsize=(1.1 * len(xs) + 2.8, 0.7 * len(ys) + 2.0), layout="constrained")
    ax = fig.add_subplot()
    notes = {}
    for (x, y), points in heatmap.cells.items():
        row, col = ys.index(y), xs.index(x)
        median, n_diverged, n_runs = _cell(points)
        if median is None:
            ax.add_patch(Rectangle((col - 0.5, row - 0.5), 1, 1, facecolor="#f3d6d6", edgecolor="#b22222",
                                   hatch="///", linewidth=0))
            notes[row, col] = ("diverged", "#b22222")
            continue
        grid[row, col] = max(median, norm.vmin)
        text = f"{median:.3g}" + (f"\n{n_diverged}/{n_runs} div" if n_diverged else "")
        notes[row, col] = (text, "white" if norm(grid[row, col]) < 0.55 else "black")
    image = ax.imshow(np.ma.masked_invalid(grid), norm=norm, cmap="viridis", origin="lower", aspect="auto")
    for (row, col), (text, color) in notes.items():
        ax.text(col, row, text, ha="center", va="center", fontsize=LEGEND_SIZE, color=color)
    ax.set_xticks(range(len(xs)), [format_value(v) for v in xs] if heatmap.x else [""] * len(xs))
    ax.set_yticks(range(len(ys)), [format_value(v) for v in ys] if heatmap.y else [""] * len(ys))
    ax.set_xlim(-0.5, len(xs) - 0.5)
    ax.set_ylim(-0.5, len(ys) - 0.5)
    ax.set_xlabel(plain(heatmap.x or "(no number varies for this scheme)"))
    ax.set_ylabel(plain(heatmap.y))
    ax.set_title(plain(heatmap.title + (f"\n{heatmap.facet}" if heatmap.facet else "")), fontsize=LEGEND_SIZE + 1)
    fig.colorbar(image, ax=ax, label="median final cost")
    return fig
