"""Training lengths that would run for hours are refused up front, in one line naming the option."""

import pytest

from initlab.experiments.config import MAX_ITERATIONS, CompareConfig


def test_iterations_above_the_bound_are_refused_and_the_bound_itself_is_accepted():
    assert CompareConfig(iterations=MAX_ITERATIONS).iterations == MAX_ITERATIONS
    with pytest.raises(ValueError, match=r"^iterations: expected a positive integer <= 1000000, got 226309500$"):
        CompareConfig(iterations=226_309_500)


def test_the_cli_refuses_it_with_exit_code_2(cli, tmp_path):
    code, out, err = cli("compare", "--iterations", "226309500", "--no-figures", "--out", tmp_path / "run")
    assert code == 2 and out == "" and err.strip() == "error: --iterations: expected a positive integer <= 1000000, got 226309500"
    assert not (tmp_path / "run").exists()
