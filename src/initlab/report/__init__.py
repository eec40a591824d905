"""Figures and reports: cost curves, decision boundaries, heatmaps and the static HTML report."""

from initlab.report.figures import boundary_figure, cost_curves, cost_figure
from initlab.report.html import build_report, write_report
from initlab.report.points import group_points, records_from_compare

__all__ = ["boundary_figure", "build_report", "cost_curves", "cost_figure", "group_points", "records_from_compare",
           "write_report"]
