"""The diagnosis figure and HTML report draw what was measured: the lines carry the layers' numbers,
zero signals (zeros init) stay visible as markers, and the page holds every layer and the fix."""

import numpy as np
import pytest

from initlab.data import load
from initlab.diagnose import diagnose_mlp
from initlab.diagnose.figure import diagnose_figure
from initlab.nn.mlp import MLP
from initlab.report.diagnosis import build_diagnosis_report


@pytest.fixture(scope="module")
def circles():
    return load("circles", n_samples=128, seed=0)


def diagnosis_of(circles, init, hidden=(50,) * 8, activation="relu"):
    X, y = circles
    return diagnose_mlp(MLP([2, *hidden, 1], activation=activation, init=init, seed=0), X, y)


def lines_by_label(ax):
    return {line.get_label(): line for line in ax.get_lines()}


def test_figure_plots_measured_and_theory_std_by_layer(circles):
    d = diagnosis_of(circles, "xavier_normal")
    forward, backward = diagnose_figure(d).axes
    lines = lines_by_label(forward)
    depth = [s.index for s in d.layers]
    np.testing.assert_array_equal(lines["measured rms of pre-activations"].get_xdata(), depth)
    np.testing.assert_allclose(lines["measured rms of pre-activations"].get_ydata(), [s.pre_rms for s in d.layers])
    np.testing.assert_allclose(lines["theory (mean field)"].get_ydata(), [s.expected_pre_std for s in d.layers])
    np.testing.assert_allclose(lines_by_label(backward)["measured rms of dL/dz"].get_ydata(),
                               [s.grad_rms for s in d.layers])
    assert forward.get_yscale() == "log" and len(forward.collections) == 1  # the band


def test_zero_signals_are_drawn_on_the_bottom_edge_and_counted(circles):
    d = diagnosis_of(circles, "zeros")
    forward, _, _ = diagnose_figure(d).axes
    zero_layers = sum(s.pre_std == 0 for s in d.layers)
    assert zero_layers == len(d.layers)  # zero weights and biases: every z is exactly 0
    assert f"zero or not finite ({zero_layers} layers)" in lines_by_label(forward)


def test_zeros_figure_shows_the_symmetry_as_distinct_units_per_layer(circles):
    d = diagnosis_of(circles, "zeros", hidden=(10, 5))
    assert d.verdict == "symmetric"
    *_, symmetry = diagnose_figure(d).axes
    units, distinct = symmetry.containers  # bar groups: all units, then the distinct ones
    assert [bar.get_height() for bar in units] == [10, 5, 1]
    assert [bar.get_height() for bar in distinct] == [1, 1, 1]  # every unit of a layer is the same unit
    assert [t.get_text() for t in symmetry.texts] == ["1 of 10", "1 of 5", "1 of 1"]
    assert "2 of 2 layers with > 1 unit: every unit identical" in symmetry.get_title()


def test_a_net_without_identical_units_has_no_symmetry_panel(circles):
    assert len(diagnose_figure(diagnosis_of(circles, "he_normal")).axes) == 2


def test_figure_is_saved_as_png(circles, tmp_path):
    diagnose_figure(diagnosis_of(circles, "he_normal"), tmp_path / "d.png")
    assert (tmp_path / "d.png").read_bytes()[:4] == b"\x89PNG"


def test_report_page_has_verdict_evidence_fix_figure_and_one_row_per_layer(circles):
    d = diagnosis_of(circles, "normal(std=10)", activation="tanh")
    page = build_diagnosis_report(d, command="initlab diagnose --init 'normal(std=10)' <x>")
    assert d.verdict == "saturated" and '<span class="verdict">saturated</span>' in page
    assert all(f"<li>{line}</li>" in page.replace("&#x27;", "'").replace("&gt;", ">").replace("&lt;", "<")
               for line in d.evidence)
    assert d.recommendation["scheme"] in page
    assert page.count('src="data:image/png;base64,') == 1
    assert page.count('<tr class="') == len(d.layers)
    assert "&lt;x&gt;" in page and "<script" not in page
