"""The report in a real headless browser: it loads without console errors and every figure is drawn.

Needs Debian's `chromium` and `chromium-driver` (`make test` installs them when run as root); without
them the test is skipped and says how to install them. Screenshots go to test-artifacts/.
"""

from pathlib import Path

import pytest

from _initlab_browser import check_page, missing
from initlab.experiments import CompareConfig, run_compare
from initlab.report.folder import write_compare_figures
from initlab.experiments.run_folder import write_run_folder
from initlab.report import write_report
from initlab.report.boundaries import PANEL

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = pytest.mark.skipif(missing() is not None, reason=f"browser test skipped: {missing()}")


def assert_page_is_clean(page: Path, screenshot: Path, n_figures: int):
    check = check_page(page, screenshot)
    assert check.severe == [], check.severe
    assert len(check.figures) == n_figures, check.figures
    assert check.empty_figures == [], check.figures
    assert all(f["tag"] == "img" and f["complete"] for f in check.figures)
    assert screenshot.stat().st_size > 10_000
    return check


@pytest.mark.slow
def test_sweep_report_loads_without_console_errors_and_draws_every_figure(tmp_path, sweep_records):
    page = write_report(sweep_records, tmp_path / "report.html", title="moons: std x depth x lr, 2 seeds")
    # cost curves (one panel per scheme) + 3 heatmaps: normal std x depth at two lr, he_normal depth x lr
    assert_page_is_clean(page, ARTIFACTS / "report.png", n_figures=4)


@pytest.mark.slow
def test_compare_run_folder_report_loads_without_console_errors(tmp_path):
    result = run_compare(CompareConfig(data="circles", n_samples=100, hidden=(6,), seeds=2, iterations=100))
    write_run_folder(result, tmp_path / "run", write_compare_figures)
    # cost curves + the decision boundaries of every seed
    check = assert_page_is_clean(tmp_path / "run" / "report.html", ARTIFACTS / "report-compare.png", n_figures=2)
    boundary = next(f for f in check.figures if f["alt"] == "decision boundary of every seed")
    # two seed columns of PANEL inches at 100 dpi, shown at full size (not shrunk to fit)
    assert boundary["naturalWidth"] >= 2 * PANEL * 100 and boundary["clientWidth"] == boundary["naturalWidth"]


@pytest.mark.slow
def test_the_check_sees_a_console_error_and_a_broken_figure(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text('<!doctype html><html><head><link rel="icon" href="data:,"></head><body>'
                    '<img alt="missing" src="missing.png"><script>notDefined();</script></body></html>')
    check = check_page(page)
    assert any("notDefined" in entry["message"] for entry in check.severe)
    assert [f["alt"] for f in check.empty_figures] == ["missing"]


@pytest.mark.slow
def test_diagnosis_report_loads_without_console_errors(tmp_path):
    from initlab.data import load
    from initlab.diagnose import diagnose_mlp
    from initlab.nn.mlp import MLP
    from initlab.report.diagnosis import write_diagnosis_report
    X, y = load("circles", n_samples=128, seed=0)
    diagnosis = diagnose_mlp(MLP([2] + [100] * 30 + [1], activation="relu", init="xavier_normal", seed=0), X, y)
    page = write_diagnosis_report(diagnosis, tmp_path / "report.html")
    assert_page_is_clean(page, ARTIFACTS / "report-diagnose.png", n_figures=1)
