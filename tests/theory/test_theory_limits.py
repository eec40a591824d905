"""Variances beyond the quadrature's checked range and absurd phase-diagram resolutions are refused."""

import pytest

from initlab.theory import theory
from initlab.theory.meanfield import MAX_VARIANCE
from initlab.theory.phase import MAX_RESOLUTION, phase_figure


@pytest.mark.parametrize(("kwargs", "pattern"), [
    ({"sigma_w2": 1e308}, r"^sigma_w2: expected a non-negative number <= 10000, got 1e\+308$"),
    ({"sigma_b2": 1e308}, r"^sigma_b2: expected a non-negative number <= 10000, got 1e\+308$"),
    ({"sigma_w2": 10001.0}, r"^sigma_w2: expected a non-negative number <= 10000, got 10001$"),
])
def test_theory_refuses_variances_above_the_documented_bound(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        theory("tanh", **{"sigma_b2": 0.05, **kwargs})


def test_the_bound_itself_is_accepted_and_finite():
    result = theory("tanh", sigma_b2=MAX_VARIANCE, sigma_w2=MAX_VARIANCE)
    assert 1e4 < result.q_star < 2e4 + 1 and result.phase == "chaotic"  # q* <= sigma_w2 + sigma_b2 for |tanh| < 1


def test_phase_refuses_a_resolution_above_the_maximum_before_drawing(tmp_path):
    out = tmp_path / "phase.png"
    with pytest.raises(ValueError, match=rf"^resolution: expected an integer in \[3, {MAX_RESOLUTION}\], got 100000$"):
        phase_figure("relu", out, resolution=100_000)
    with pytest.raises(ValueError, match=r"^sigma_w2_max: expected a positive number <= 10000, got 1e\+308$"):
        phase_figure("relu", out, sigma_w2_max=1e308)
    assert not out.exists()


def test_phase_creates_the_missing_folders_of_its_output(tmp_path):
    out = tmp_path / "new" / "deeper" / "phase.png"
    assert phase_figure("relu", out, resolution=3) == out and out.stat().st_size > 0


def test_phase_refuses_an_output_whose_parent_is_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match=r"^out: cannot create folder '.*file/sub': '.*file' is a file$"):
        phase_figure("relu", tmp_path / "file" / "sub" / "phase.png", resolution=3)
