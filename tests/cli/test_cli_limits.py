"""Absurd option values are refused before any work: one line on stderr naming the flag, the rule and
the value, exit code 2, no traceback, and no output folder or file left behind."""

import pytest

HUGE = "99999999999999999999999"  # beyond 64 bits

CASES = [  # (argv; the out path is appended where the command writes one), expected start of the message
    (["compare", "--hidden", "20000x3"], "error: --hidden: this run needs about 513 GB (estimate), above the memory budget"),
    (["compare", "--seeds", "1000000000"], "error: --seeds: expected at most 100000 seeds per scheme, got 1000000000"),
    (["compare", "--seeds", "100000", "--hidden", "1000"], "error: --seeds: this run needs about"),
    (["compare", "--n-samples", "1000000000"], "error: --n-samples: this run needs about 96 GB (estimate)"),
    (["compare", "--iterations", "1" + "0" * 30], f"error: --iterations: expected a positive integer <= 1000000000, "
                                                  f"got 1{'0' * 30}"),
    (["compare", "--iterations", "1000000000", "--record-every", "1"], "error: --record-every: this run needs about"),
    (["compare", "--seeds", HUGE], f"error: --seeds: expected a positive integer <= 1000000000, got {HUGE}"),
    (["compare", "--data-seed", HUGE], f"error: --data-seed: expected a non-negative integer <= 9223372036854775807, "
                                       f"got {HUGE}"),
    (["compare", "--max-memory", "1MB"], "error: --seeds: this run needs about 1.2 MB"),
    (["compare", "--max-memory", "lots"], "error: --max-memory: expected a size such as '12GB', '500MB' or a number of "
                                          "bytes, got 'lots'"),
    (["train", "--seed", HUGE], f"error: --seed: expected a non-negative integer <= 9223372036854775807, got {HUGE}"),
    (["train", "--hidden", "20000x3"], "error: --hidden: this run needs about"),
    (["diagnose", "--hidden", "20000x30"], "error: --hidden: this run needs about 379 GB (estimate)"),
    (["diagnose", "--n-samples", "1000000000"], "error: --n-samples: this run needs about 96 GB (estimate)"),
    (["diagnose", "--seed", HUGE], f"error: --seed: expected a non-negative integer <= 9223372036854775807, got {HUGE}"),
    (["diagnose", "--max-memory", "10kB"], "error: --n-samples: this run needs about"),
]
NO_OUT = [
    (["sample", "he_normal", "--shape", ",".join(["1"] * 33)], "error: --shape: expected at most 32 dimensions, got 33"),
    (["sample", "he_normal", "--shape", "100000,100000"], "error: --shape: this run needs about 240 GB (estimate)"),
    (["sample", "he_normal", "--shape", "1000,1000", "--max-memory", "1MB"],
     "error: --shape: this run needs about 24 MB (estimate), above the memory budget of 1 MB"),
    (["sample", "he_normal", "--seed", HUGE], "error: --seed: expected a non-negative integer <= 9223372036854775807"),
    (["theory", "--sigma-w2", "1e308"], "error: --sigma-w2: expected a non-negative number <= 10000, got 1e+308"),
    (["theory", "--sigma-b2", "1e308"], "error: --sigma-b2: expected a non-negative number <= 10000, got 1e+308"),
]


def _refused(cli, argv, expected):
    result = cli(*argv)
    assert result.code == 2, result.err
    assert result.err.startswith(expected), result.err
    assert result.err.count("\n") == 1 and "Traceback" not in result.err and result.out == ""


@pytest.mark.parametrize(("argv", "expected"), CASES)
def test_refused_before_any_work_and_no_folder_is_written(cli, tmp_path, argv, expected):
    out = tmp_path / "missing" / "out"
    _refused(cli, [*argv, "--out", str(out)], expected)
    assert list(tmp_path.iterdir()) == []  # neither the folder nor its missing parent was created


@pytest.mark.parametrize(("argv", "expected"), NO_OUT)
def test_refused_commands_that_write_nothing(cli, argv, expected):
    _refused(cli, argv, expected)


def test_theory_phase_refuses_an_absurd_resolution_and_writes_no_file(cli, tmp_path):
    out = tmp_path / "phase.png"
    _refused(cli, ["theory", "phase", "--resolution", "100000", "--out", str(out)],
             "error: --resolution: expected an integer in [3, 201], got 100000")
    assert not out.exists()


def test_out_into_missing_folders_creates_them_for_every_writing_command(cli, tmp_path):
    phase = tmp_path / "a" / "b" / "phase.png"
    assert cli("theory", "phase", "--activation", "relu", "--resolution", "3", "--out", phase).code == 0
    folder = tmp_path / "c" / "d" / "run"
    assert cli("train", "--hidden", "3", "--iterations", "2", "--no-figures", "--out", folder).code == 0
    assert phase.is_file() and sorted(p.name for p in folder.iterdir()) == ["config.json", "results.json"]


def test_out_below_a_file_is_refused_naming_out(cli, tmp_path):
    (tmp_path / "file").write_text("x")
    _refused(cli, ["theory", "phase", "--resolution", "3", "--out", str(tmp_path / "file" / "p.png")],
             f"error: --out: cannot create folder '{tmp_path / 'file'}': '{tmp_path / 'file'}' is a file")
    _refused(cli, ["train", "--iterations", "2", "--out", str(tmp_path / "file" / "run")],
             f"error: --out: cannot create folder '{tmp_path / 'file' / 'run'}': '{tmp_path / 'file'}' is a file")


@pytest.mark.parametrize(("argv", "expected"), [
    (["theory", "--activation", "leaky_relu", "--slope", "1e308"], "error: --slope: expected a number in [-100, 100], "
                                                                    "got 1e+308"),
    (["compare", "--hidden", f"{HUGE}x2"], f"error: --hidden: expected widths <= 1000000000, got [{HUGE}, {HUGE}]"),
    (["compare", "--hidden", "5000x5", "--max-memory", "100MB"],
     "error: --hidden: this run needs about 64.3 GB (estimate), above the memory budget of 100 MB (--max-memory, "
     "max_memory); layers [2, 5000, 5000, 5000, 5000, 5000, 1] on 300 rows; use fewer or narrower layers"),
    (["diagnose", "--torch", "initlab_no_such_module:build", "--input-shape", "100000,100000"],
     "error: --input-shape: this run needs about 61.4 TB (estimate)"),
    (["diagnose", "--torch", "initlab_no_such_module:build", "--input-shape", "10", "--n-samples", "1000000000"],
     "error: --n-samples: this run needs about 240 GB (estimate)"),
])
def test_more_absurd_values_are_refused_before_any_work(cli, tmp_path, argv, expected):
    _refused(cli, [*argv, *(["--out", str(tmp_path / "o")] if argv[0] != "theory" else [])], expected)
    assert list(tmp_path.iterdir()) == []
