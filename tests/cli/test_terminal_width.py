"""Tables at 80 columns: nothing cut or split (names and numbers whole), lines within the width;
the full table when the terminal is wide; 160 columns for a pipe without $COLUMNS."""

import json
import re

import pytest
from rich.table import Table

from initlab.cli.output import PIPE_WIDTH, show
from initlab.init import SCHEMES
from rich.cells import cell_len


def run(cli, monkeypatch, columns, *argv):
    """``initlab ARGV`` with $COLUMNS set to `columns` (unset for None): (stdout, stderr); it must succeed."""
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", str(columns))
    code, out, err = cli(*argv)
    assert code == 0, err
    return out, err


def assert_within(text, width):
    """Every line of the tables (a file path after 'wrote' and a scheme in a legend line '[k] = name'
    stay whole on their line, by design)."""
    too_long = [line for line in text.split("\nwrote ")[0].splitlines()
                if cell_len(line) > width and not re.match(r"\[\d+\] = ", line)]
    assert not too_long, too_long


def test_schemes_at_80_columns_keep_every_name_whole_on_one_line(cli, monkeypatch):
    _, err = run(cli, monkeypatch, 80, "schemes")
    assert_within(err, 80)
    for name in SCHEMES:
        assert re.search(rf"(^|[\s│]){re.escape(name)}([\s│]|$)", err, re.M), name
    assert "…" not in err and "left out aliases" in err


def test_schemes_on_a_wide_terminal_show_every_column(cli, monkeypatch):
    _, err = run(cli, monkeypatch, 400, "schemes")
    assert "left out" not in err
    for header in ("aliases", "parameters", "source"):
        assert header in err


def test_compare_table_at_80_columns_shows_distinct_scheme_names_and_whole_numbers(cli, monkeypatch, tmp_path):
    argv = ["compare", "--iterations", "50", "--seeds", "2", "--n-samples", "80", "--init", "normal(std=0.01)",
            "--init", "normal(std=10)", "--no-figures", "--out", str(tmp_path / "c")]
    _, err = run(cli, monkeypatch, 80, *argv)
    assert_within(err, 80)
    assert "normal(std=0.01)" in err and "normal(std=10)" in err and "…" not in err
    document = json.loads(run(cli, monkeypatch, 80, *argv, "--json")[0])
    for row in document["summary"]:
        assert f"{row['final_cost_mean']:.4g}" in err


def test_diagnose_at_80_columns_drops_optional_columns_but_never_splits_a_number(cli, monkeypatch, tmp_path):
    argv = ["diagnose", "--hidden", "50x4", "--n-samples", "64", "--no-figures", "--out", str(tmp_path / "d")]
    _, err = run(cli, monkeypatch, 80, *argv)
    assert_within(err.split("verdict:")[0], 80)
    assert "…" not in err and "narrow terminal: left out" in " ".join(err.split())
    layers = json.loads(run(cli, monkeypatch, 80, *argv, "--json")[0])["layers"]
    for layer in layers:  # theory's pre-activation rms is printed whole, as the table formats it
        shown = f"({layer['expected_pre_std']:.3g})"
        assert re.search(rf" {re.escape(shown)}\s*│", err), shown


def test_a_pipe_without_columns_gets_160_wide_tables(cli, monkeypatch, tmp_path):
    argv = ["diagnose", "--hidden", "50x4", "--n-samples", "64", "--no-figures", "--out", str(tmp_path / "d")]
    _, err = run(cli, monkeypatch, None, *argv)
    table = err.split("verdict:")[0]
    assert_within(table, PIPE_WIDTH)
    assert "narrow terminal" not in err and "dup units" in table.replace("\n", " ")


def test_a_table_that_cannot_fit_is_stacked_one_row_per_block(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "30")
    table = Table(title="t")
    for column in ("init", "final cost (mean ± std)", "train accuracy"):
        table.add_column(column, no_wrap=True)
    table.add_row("normal(std=0.01)", "0.2546 ± 0.00024", "89.6%")
    show(table)
    err = capsys.readouterr().err
    assert "normal(std=0.01)\n" in err and "  final cost (mean ± std): 0.2546 ± 0.00024\n" in err
    assert "train accuracy: 89.6%" in err


COMPARE = ["compare", "--iterations", "50", "--seeds", "3", "--n-samples", "80", "--init", "normal(std=0.01)",
           "--init", "normal(std=10)", "--init", "xavier_normal(gain=1.67)", "--no-figures"]


def test_compare_table_shows_mean_std_and_median_min_max_labelled_as_json_and_report_do(cli, monkeypatch,
                                                                                         tmp_path):
    from initlab.summary import mean_std_text, median_range_text
    argv = [*COMPARE, "--out", str(tmp_path / "c")]
    _, err = run(cli, monkeypatch, 80, *argv)
    assert_within(err, 80)
    assert "mean ± std" in err and "median [min, max]" in err and "…" not in err
    document = json.loads(run(cli, monkeypatch, 80, *argv, "--json")[0])
    lines = err.splitlines()
    for row in document["summary"]:
        assert re.search(rf"│ {re.escape(row['label'])} +│ +3 │", err), row["label"]  # full names, one line
        for quantity, name in (("final_cost", "final cost"), ("train_accuracy", "train acc"),
                               ("test_accuracy", "test acc")):
            # each quantity's line holds both statistics, as initlab.summary formats them
            assert any(f"  {name} " in line and f" {mean_std_text(row, quantity)} │" in line
                       and f" {median_range_text(row, quantity)} │" in line for line in lines), (row["label"], name)


def test_compare_table_on_a_narrow_terminal_gives_keys_then_blocks_never_cut_names(cli, monkeypatch, tmp_path):
    long = "variance_scaling(scale=2, mode=fan_avg, distribution=uniform)"
    argv = [*COMPARE[:-1], "--init", long, "--no-figures", "--out", str(tmp_path / "c")]
    _, err = run(cli, monkeypatch, 80, *argv)
    assert_within(err, 80)
    assert "│ [1] " in err and f"\n[1] = {long}\n" in err  # the legend names it whole, on one line
    _, err = run(cli, monkeypatch, 50, *argv)  # too narrow for the table: a block per scheme
    assert f"{long} (3 seeds)\n" in err and "    median [min, max]: " in err and "┃" not in err
