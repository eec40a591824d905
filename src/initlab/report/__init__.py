"""Figures and reports drawn from run records: cost curves, decision boundaries, heatmaps and the
static HTML report. Consumes records only (see `initlab.report.points`); never imports the code that
produced them."""

from initlab.report.html import build_report, write_report
from initlab.report.points import group_points, records_from_compare

__all__ = ["build_report", "group_points", "records_from_compare", "write_report"]
