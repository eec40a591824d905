"""The figures of a compare run folder, drawn from its result document (records only): cost.png,
boundary.png (2-D classification data) and report.html."""

from __future__ import annotations

from pathlib import Path

from initlab.report.boundaries import boundary_figure, has_boundaries
from initlab.report.curves import cost_points_figure
from initlab.report.html import write_report
from initlab.report.points import group_points, records_from_compare

DPI = 110


def write_compare_figures(document: dict, folder: Path) -> list[str]:
    """Write cost.png, boundary.png (when the runs carry decision surfaces) and report.html of a
    compare document (`CompareResult.to_json()`, titled by its "title") into `folder`; returns the
    names written."""
    folder = Path(folder)
    title = str(document.get("title") or "initlab compare")
    note = str(document["config"].get("note") or "")
    records = records_from_compare(document)
    points = group_points(records)
    written = []
    cost = cost_points_figure(points, title=f"{title}\n{note}" if note else title)
    cost.savefig(folder / "cost.png", dpi=DPI)
    written.append("cost.png")
    if document.get("train_points") and has_boundaries(points):
        boundary_figure(points, document["train_points"]).savefig(folder / "boundary.png", dpi=DPI)
        written.append("boundary.png")
    write_report(records, folder / "report.html", title=title)
    written.append("report.html")
    return written
