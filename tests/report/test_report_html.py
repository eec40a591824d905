"""The HTML report: grid points, table numbers, embedded figures, heatmaps, escaping."""

import base64
import html
import io
import re
import statistics

import numpy as np
import pytest
from PIL import Image

from initlab.experiments import CompareConfig, run_compare
from initlab.report import build_report, group_points, records_from_compare, write_report
from initlab.report.curves import panels
from initlab.report.heatmaps import find_heatmaps

BASE = CompareConfig(inits=("zeros",), seeds=1, iterations=10).to_json()


def record(init: str, seed: int, cost: float | None, diverged: bool = False, train: float | None = 0.9,
           test: float | None = 0.8, **settings) -> dict:
    """A run record like Run.to_json() + config; a diverged run's last cost is null."""
    history = [[0, 0.7], [5, 0.5 if cost is None else (0.7 + cost) / 2], [10, cost]]
    return {"init": init, "seed": seed, "final_cost": cost, "train_accuracy": train, "test_accuracy": test,
            "diverged": diverged, "diverged_at": 10 if diverged else None, "sample_space": False,
            "wall_time": 0.01, "cost_history": history, "config": {**BASE, **settings, "inits": [init]}}


def summary_rows(page: str) -> dict[str, dict[str, tuple[str, float | None]]]:
    """label -> {column class: (shown text, data-value)} of the summary table."""
    rows = {}
    for body in re.findall(r'<tr id="point-\d+"[^>]*>(.*?)</tr>', page):
        cells = re.findall(r"<td([^>]*)>(.*?)</td>", body)
        columns = {}
        for attributes, text in cells[1:]:
            kind = re.search(r'class="num ([\w-]+)"', attributes).group(1)
            value = re.search(r'data-value="([^"]+)"', attributes)
            columns[kind] = (html.unescape(text), float(value.group(1)) if value else None)
        rows[html.unescape(cells[0][1])] = columns
    return rows


def embedded_pngs(page: str) -> list[Image.Image]:
    images = []
    for data in re.findall(r'<img [^>]*src="data:image/png;base64,([^"]+)"', page):
        image = Image.open(io.BytesIO(base64.b64decode(data)))
        image.load()
        images.append(image)
    return images


def test_runs_that_differ_only_in_the_seed_are_one_point_labelled_by_what_differs():
    runs = [record("he_normal", s, 0.1 * (s + 1), hidden=[10, 5], lr=0.1) for s in range(3)]
    runs += [record("he_normal", s, 0.2, hidden=[10, 5, 5], lr=0.1) for s in range(2)]
    runs += [record("normal(std=10)", s, 0.3, hidden=[10, 5], lr=0.5) for s in range(2)]
    points = group_points(runs)
    assert [p.label for p in points] == ["he_normal, hidden=10,5, lr=0.1", "he_normal, hidden=10,5,5, lr=0.1",
                                         "normal(std=10), hidden=10,5, lr=0.5"]
    assert [p.seeds for p in points] == [[0, 1, 2], [0, 1], [0, 1]]


def test_summary_rows_give_mean_std_and_median_min_max_labelled_per_point():
    costs = {"he_normal": [0.03, 0.01, 0.02, 0.5], "normal(std=10)": [0.9, 0.4, None]}
    runs = [record(init, seed, cost, diverged=cost is None, train=0.5 + 0.1 * seed, test=None if seed else 0.75)
            for init, values in costs.items() for seed, cost in enumerate(values)]
    page = build_report(runs, title="t")
    rows = summary_rows(page)
    assert list(rows) == ["he_normal", "normal(std=10)"]
    assert page.count("<th>mean ± std</th>") == 3 and page.count("<th>median [min, max]</th>") == 3
    for init, values in costs.items():
        finite = [c for c in values if c is not None]
        row = rows[init]
        assert row["cost-median"][1] == statistics.median(finite)  # 0.025 (even count) and 0.65
        assert row["cost-median"][0] == (f"{statistics.median(finite):.4g} "
                                         f"[{min(finite):.3g}, {max(finite):.3g}]")
        assert row["cost-mean"][1] == pytest.approx(np.mean(finite))
        assert row["cost-mean"][0] == f"{np.mean(finite):.4g} ± {np.std(finite):.2g}"
        assert row["seeds"][1] == len(values)
        assert row["n-diverged"][1] == len(values) - len(finite)
        train = [0.5 + 0.1 * s for s in range(len(values))]
        assert row["train-accuracy-mean"][1] == pytest.approx(np.mean(train))
        assert row["train-accuracy-median"][0] == (f"{100 * np.median(train):.0f} "
                                                   f"[{100 * min(train):.0f}, {100 * max(train):.0f}]%")
        assert row["test-accuracy-mean"] == ("75.0%", 0.75)  # one seed has a test accuracy: no ± std


def test_report_of_a_real_compare_has_a_row_per_scheme_with_the_median_over_seeds():
    result = run_compare(CompareConfig(data="circles", n_samples=100, hidden=(6,), seeds=3, iterations=200, lr=0.1))
    document = result.to_json()
    page = build_report(records_from_compare(document), title=result.title)
    rows = summary_rows(page)
    assert list(rows) == list(result.config.inits)
    for init in result.config.inits:
        costs = [r["final_cost"] for r in document["runs"] if r["init"] == init]
        assert rows[init]["cost-median"][1] == sorted(costs)[1]  # the middle one of 3 seeds, exactly
    assert "heatmaps" not in page  # one numeric axis (std) at most: nothing to map


@pytest.mark.slow
def test_embedded_figures_decode_as_png_with_a_real_size_and_nothing_is_fetched(sweep_records):
    page = build_report(sweep_records, title="sweep")
    images = embedded_pngs(page)
    assert len(images) == 4  # cost curves + normal at lr 0.05 and 0.5 (std x depth) + he_normal (depth x lr)
    for image in images:
        assert image.format == "PNG" and image.size[0] > 300 and image.size[1] > 200
    assert re.findall(r'(?:src|href)="(?!data:)', page) == []  # works offline: no external resource
    assert "<script" not in page


def test_heatmaps_use_a_spec_parameter_and_depth_and_split_by_the_other_settings(sweep_records):
    maps = find_heatmaps(group_points(sweep_records))
    assert [(m.scheme, m.x, m.y, m.facet) for m in maps] == [
        ("normal", "std", "depth", "lr=0.05"), ("normal", "std", "depth", "lr=0.5"), ("he_normal", "depth", "lr", "")]
    assert sorted(maps[0].cells) == [(std, depth) for std in (0.1, 1.0, 10.0) for depth in (1.0, 2.0, 3.0)]
    assert all(len(points) == 1 and len(points[0].runs) == 2 for points in maps[0].cells.values())


def test_no_heatmap_when_fewer_than_two_numeric_axes_vary():
    one_axis = [record(f"normal(std={s})", seed, 0.1 * s) for s in (0.1, 1, 10) for seed in range(2)]
    assert find_heatmaps(group_points(one_axis)) == []
    assert 'id="heatmaps"' not in build_report(one_axis, title="t")
    # std and depth both vary, but together (one depth per std): a diagonal, not a grid.
    paired = [record(f"normal(std={s})", 0, 0.1, hidden=[4] * d) for s, d in ((0.1, 1), (1, 2), (10, 3))]
    assert find_heatmaps(group_points(paired)) == []
    grid = [record(f"normal(std={s})", 0, 0.1, hidden=[4] * d) for s in (0.1, 1) for d in (1, 2)]
    assert 'id="heatmaps"' in build_report(grid, title="t")


def test_many_points_get_one_panel_per_scheme(sweep_records):
    points = group_points(sweep_records)
    assert list(panels(points)) == list(dict.fromkeys(r["init"] for r in sweep_records))
    assert list(panels(points[:8])) == [""]  # up to 8 points share one plot


def test_every_text_is_escaped_including_a_malicious_label():
    evil = "<script>alert('x')</script> $\\frac{$ & \"quoted\""
    runs = [{**record("zeros", s, 0.69), "config": {**BASE, "labels": {"zeros": evil}, "data": "file:<b>x</b>.csv"}}
            for s in range(2)]
    page = build_report(runs, title="<img src=x onerror=alert(1)>")
    assert "<script" not in page and "<img src=x" not in page and "<b>" not in page
    assert html.escape(evil) in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert list(summary_rows(page)) == [evil]
    assert len(embedded_pngs(page)) == 1  # matplotlib drew the '$' label literally, no mathtext error


def test_records_without_a_config_use_the_given_one_and_bad_records_are_named():
    runs = [{k: v for k, v in record("zeros", s, 0.69).items() if k != "config"} for s in range(2)]
    page = build_report(runs, title="t", config={**BASE, "lr": 0.25})
    assert "<code>0.25</code>" in page
    with pytest.raises(ValueError, match=r"runs: expected at least one run record, got none"):
        build_report([], title="t")
    with pytest.raises(ValueError, match=r"runs\[1\]: missing 'final_cost'"):
        build_report([record("zeros", 0, 0.69), {"init": "zeros", "seed": 1, "diverged": False}], title="t")


def test_write_report_writes_the_page_and_refuses_a_folder(tmp_path):
    runs = [record("zeros", 0, 0.69)]
    path = write_report(runs, tmp_path / "sub" / "report.html", title="t")
    assert path.read_text(encoding="utf-8").startswith("<!doctype html>")
    assert sorted(p.name for p in path.parent.iterdir()) == ["report.html"]  # no partial file left
    with pytest.raises(ValueError, match=r"out: '.*sub' is a folder"):
        write_report(runs, tmp_path / "sub", title="t")


def test_every_scheme_gets_a_heatmap_once_one_scheme_has_a_grid():
    # like examples/scale_depth.toml: normal spans std x depth, he_normal and zeros only depth
    runs = [record(f"normal(std={s})", 0, 0.1 * s, hidden=[4] * d) for s in (0.1, 1) for d in (1, 2, 3)]
    runs += [record("he_normal", 0, 0.05 * d, hidden=[4] * d) for d in (1, 2, 3)]
    runs += [record("zeros", 0, 0.69, hidden=[4, 4])]
    maps = find_heatmaps(group_points(runs))
    schemes = ["normal", "he_normal", "zeros"]
    assert [m.scheme for m in maps] == schemes  # one per scheme, none left out
    assert [(m.title, m.x, m.y) for m in maps] == [("normal(std=...)", "std", "depth"), ("he_normal", "depth", ""),
                                                   ("zeros", "", "")]
    assert sorted(maps[1].cells) == [(1.0, 0.0), (2.0, 0.0), (3.0, 0.0)]  # a one-row strip over depth
    page = build_report(runs, title="t")
    assert len(embedded_pngs(page)) == 1 + len(schemes)  # cost curves + a map per scheme
    assert 'alt="median final cost of normal(std=...) over std x depth"' in page
    assert 'alt="median final cost of he_normal over depth"' in page


def test_heatmap_figure_draws_one_cell_per_point_with_its_median(sweep_records):
    from initlab.report.heatmaps import color_scale, heatmap_figure
    maps = find_heatmaps(group_points(sweep_records))
    norm = color_scale(maps)
    for heatmap in maps:
        (ax, _colorbar) = heatmap_figure(heatmap, norm).axes
        texts = [t.get_text() for t in ax.texts]
        medians = [statistics.median(c for p in points for c in p.costs) for points in heatmap.cells.values()]
        assert sorted(texts) == sorted(f"{m:.3g}" for m in medians)
        assert heatmap.title in ax.get_title()
