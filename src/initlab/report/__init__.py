"""Figures and reports."""

from initlab.report.figures import boundary_figure, cost_curves, cost_figure

__all__ = ["boundary_figure", "cost_curves", "cost_figure"]
