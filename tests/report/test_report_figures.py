"""The figures draw what the records hold: ln 2 marked, readable legends, own y scale per panel, a
boundary panel per scheme x seed titled with that seed's own accuracies (or the labelled median seed),
the same statistics in the HTML table as in `initlab.summary`."""

import math
import re

import numpy as np
import pytest

from initlab.experiments import CompareConfig, run_compare
from initlab.report import build_report, group_points, records_from_compare
from initlab.report.boundaries import MAX_SEED_COLUMNS, boundary_figure, median_run
from initlab.report.curves import LEGEND_SIZE, LN2_LABEL, cost_points_figure
from initlab.report.folder import write_compare_figures

INITS = ("zeros", "normal(std=10)", "he_normal")


@pytest.fixture(scope="module")
def document():
    """3 schemes x 3 seeds on circles: the demo's lesson, small."""
    config = CompareConfig(data="circles", n_samples=120, hidden=(8, 4), inits=INITS, seeds=3, lr=0.05,
                           iterations=300)
    return run_compare(config).to_json()


def legends(fig):
    return [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]


def test_cost_plot_marks_ln2_with_a_labelled_horizontal_line(document):
    fig = cost_points_figure(group_points(records_from_compare(document)))
    (ax,) = fig.axes
    line = next(line for line in ax.get_lines() if line.get_label() == LN2_LABEL)
    assert np.allclose(line.get_ydata(), math.log(2)) and line.get_ydata()[0] == pytest.approx(0.6931, abs=1e-4)
    assert LN2_LABEL in [t.get_text() for t in ax.get_legend().get_texts()]


def test_regression_costs_have_no_ln2_line():
    runs = [{"init": "he_normal", "seed": 0, "final_cost": 0.1, "diverged": False, "head": "linear",
             "cost_history": [[0, 1.0], [10, 0.1]], "config": {"output": "linear"}}]
    (ax,) = cost_points_figure(group_points(runs)).axes
    assert LN2_LABEL not in [line.get_label() for line in ax.get_lines()]


def test_every_legend_and_panel_title_is_at_least_9_pt(document, sweep_records):
    points = group_points(records_from_compare(document))
    figures = [cost_points_figure(points), cost_points_figure(group_points(sweep_records)),
               boundary_figure(points, document["train_points"])]
    for fig in figures[:2]:
        assert legends(fig)
        for legend in legends(fig):
            assert min(text.get_fontsize() for text in legend.get_texts()) >= LEGEND_SIZE >= 9
    for ax in figures[2].axes:
        if ax.get_visible():
            assert ax.title.get_fontsize() >= 9


def test_sweep_panels_have_their_own_y_scale(sweep_records):
    fig = cost_points_figure(group_points(sweep_records))
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert len(shown) == 4  # one panel per scheme spec
    limits = {ax.get_ylim() for ax in shown}
    assert len(limits) == len(shown)  # no shared y axis: each panel scaled to its own curves
    normal_10 = next(ax for ax in shown if ax.get_title() == "normal(std=10)")
    he = next(ax for ax in shown if ax.get_title() == "he_normal")
    assert normal_10.get_ylim()[1] > he.get_ylim()[1]


def boundary_titles(fig) -> list[str]:
    return [ax.get_title() for ax in fig.axes if ax.get_visible()]


def test_boundary_figure_has_one_panel_per_scheme_and_seed_titled_with_its_own_accuracy(document):
    points = group_points(records_from_compare(document))
    fig = boundary_figure(points, document["train_points"])
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert len(shown) == len(INITS) * 3
    runs = sorted(document["runs"], key=lambda r: (INITS.index(r["init"]), r["seed"]))
    for ax, run in zip(shown, runs):  # rows = schemes, columns = seeds
        assert ax.get_title() == (f"seed {run['seed']}\ntest {100 * run['test_accuracy']:.0f}%, "
                                  f"train {100 * run['train_accuracy']:.0f}%")
    # the row label is the full scheme name, on the first column
    assert [ax.get_ylabel() for ax in shown[::3]] == list(INITS)
    # each panel shows its own run's surface (the image data is that run's decoded classes)
    from initlab.report.boundaries import surface_array
    for ax, run in zip(shown, runs):
        np.testing.assert_array_equal(ax.get_images()[0].get_array(), surface_array(run["boundary"]))


def test_many_seeds_show_the_median_seed_labelled_as_such():
    config = CompareConfig(data="circles", n_samples=80, hidden=(6,), inits=("normal(std=10)", "he_normal"),
                           seeds=MAX_SEED_COLUMNS + 1, lr=0.05, iterations=100)
    document = run_compare(config).to_json()
    points = group_points(records_from_compare(document))
    fig = boundary_figure(points, document["train_points"])
    titles = boundary_titles(fig)
    assert len(titles) == 2
    for title, point in zip(titles, points):
        chosen = median_run(point.runs)
        accuracies = sorted(run["test_accuracy"] for run in point.runs)
        assert chosen["test_accuracy"] == accuracies[(len(accuracies) - 1) // 2]  # the (lower) median
        assert title.startswith(f"{point.label}\nmedian of {MAX_SEED_COLUMNS + 1} seeds: seed {chosen['seed']}")


def test_compare_folder_and_report_show_boundaries_and_both_statistics(document, tmp_path):
    written = write_compare_figures(document, tmp_path)
    assert written == ["cost.png", "boundary.png", "report.html"]
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert re.search(r'<section id="boundaries"><h2>Decision boundaries</h2><figure><img class="figure" '
                     r'alt="decision boundary of every seed" src="data:image/png;base64,', page)
    assert "<th>mean ± std</th>" in page and "<th>median [min, max]</th>" in page
    for init in INITS:  # scheme names in full, as in the terminal
        assert f"<td>{init}</td>" in page


def test_report_of_a_sweep_store_record_without_surfaces_has_no_boundary_section(sweep_records):
    stripped = [{k: v for k, v in r.items() if k not in ("boundary", "train_points")} for r in sweep_records[:8]]
    assert 'id="boundaries"' not in build_report(stripped, title="t")


@pytest.mark.parametrize("boundary, train_points, argument", [
    ({"extent": [0, 1, 0, 1], "resolution": 2, "classes": [[0, 3]]}, None, "boundary"),  # 3 of 4 cells
    ({"extent": [0, 1, 0, 1], "resolution": 2, "classes": "garbage"}, None, "boundary"),
    ({"extent": [0, 1, 0, 1], "resolution": 2, "classes": [[0, 10**12]]}, None, "boundary"),  # no huge allocation
    ({"extent": [1, 0, 0, 1], "resolution": 2, "classes": [[0, 4]]}, None, "boundary"),
    (None, {"X": [[0, 1, 2]], "y": [0]}, "train_points"),
    (None, {"X": [[0, float("nan")]], "y": [0]}, "train_points"),
    (None, {"X": [[0, 1]], "y": ["a"]}, "train_points"),
])
def test_a_corrupt_boundary_or_point_list_is_named_not_a_numpy_error(document, boundary, train_points, argument):
    from initlab._errors import ArgumentError
    records = records_from_compare(document)
    if boundary is not None:
        records[0] = {**records[0], "boundary": boundary}
    if train_points is not None:
        records = [{**r, "train_points": train_points} for r in records]
    with pytest.raises(ArgumentError, match=rf"^{argument}: expected"):
        build_report(records, title="t")
