"""The phase diagram says what it draws: its title names the regions its grid holds, and the
markers of Xavier, He and randn * 10 sit at fan_in x the weight variance the schemes really draw."""

import numpy as np
import pytest

from initlab.init import initializer
from initlab.theory.phase import init_points, phase_map, phase_plot


def markers(fig) -> dict[str, tuple[float, float]]:
    (ax, _colorbar) = fig.axes
    return {line.get_label(): (line.get_xdata()[0], line.get_ydata()[0]) for line in ax.get_lines()
            if line.get_marker() not in ("None", None, "")}


@pytest.mark.parametrize("act, regions, absent", [
    ("relu", {"ordered", "diverges"}, "chaotic right"),
    ("tanh", {"ordered", "chaotic"}, "no chaotic phase"),
])
def test_title_names_exactly_the_regions_the_grid_holds(act, regions, absent):
    w = np.linspace(0.1, 2.5 * (2.0 if act == "relu" else 1.0), 15)
    _, phases = phase_map(act, w, np.linspace(0, 0.3, 15))
    assert set(phases.ravel()) - {"critical"} == regions
    fig = phase_plot(act, resolution=15)
    title = fig.axes[0].get_title()
    assert absent not in title
    if act == "relu":  # right of sigma_w^2 = 2 relu's q grows without bound: grey, not chaotic
        assert "grey: q* diverges" in title and "no chaotic phase" in title
    else:
        assert "chaotic right of it (chi_1 > 1)" in title and "diverges" not in title


def test_markers_sit_at_fan_in_times_each_schemes_variance():
    fan_in = 100
    square = (fan_in, fan_in)
    expected = {"Xavier (square layer)": "xavier_normal", "He": "he_normal", f"randn * 10 on fan_in {fan_in}":
                "normal(std=10)"}
    for label, x in init_points(fan_in):
        _, std = initializer(expected[label]).moments(square)
        assert x == pytest.approx(fan_in * std ** 2, rel=1e-12)
    shown = markers(phase_plot("tanh", resolution=9, fan_in=fan_in))
    assert shown["Xavier (square layer): sigma_w^2 = 1"] == (1.0, 0.0)
    assert shown["He: sigma_w^2 = 2"] == (2.0, 0.0)
    # randn * 10 lies at 10,000, far right of the 0-2.5 chart: an arrow on its right edge says so
    assert shown["randn * 10 on fan_in 100: sigma_w^2 = 10000 (off chart ->)"] == (2.5, 0.0)
    wide = markers(phase_plot("tanh", resolution=5, fan_in=2, sigma_w2_max=300))
    assert wide["randn * 10 on fan_in 2: sigma_w^2 = 200"] == (200.0, 0.0)
