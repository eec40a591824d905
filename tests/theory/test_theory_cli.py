"""`initlab theory` and the `critical` scheme."""

import json
import math

import numpy as np
import pytest
from PIL import Image

from initlab.init import initializer
from initlab.theory import critical_sigma_w2


def test_theory_json_reports_the_numbers_and_the_phase(cli):
    code, out, err = cli("theory", "--activation", "tanh", "--sigma-b2", "0.05", "--sigma-w2", "1.5", "--json")
    assert code == 0, err
    document = json.loads(out)
    assert document["phase"] == "ordered" and 0 < document["chi_1"] < 1
    assert document["xi_c"] == pytest.approx(-1 / math.log(document["chi_1"]))
    assert document["critical_sigma_w2"] == pytest.approx(critical_sigma_w2("tanh", 0.05))
    assert set(document) >= {"q_star", "chi_1", "xi_c", "critical_sigma_w2", "phase"}


def test_theory_defaults_to_the_critical_sigma_w2_with_null_depth_scale(cli):
    code, out, err = cli("theory", "--activation", "relu", "--sigma-b2", "0", "--json")
    document = json.loads(out)
    assert (document["sigma_w2"], document["phase"], document["xi_c"]) == (2.0, "critical", None)
    code, out, err = cli("theory")
    assert code == 0 and out == "" and "critical" in err and "1.76095" in err


@pytest.mark.parametrize("argv,message", [
    (["--activation", "tahn"], "error: --activation: unknown activation 'tahn' (did you mean 'tanh'?)"),
    (["--sigma-b2", "-1"], "error: --sigma-b2: expected a non-negative number, got -1"),
    (["--sigma-w2", "-1"], "error: --sigma-w2: expected a non-negative number, got -1"),
])
def test_theory_bad_input_is_one_line_and_exit_2(cli, argv, message):
    code, out, err = cli("theory", *argv)
    assert code == 2 and out == "" and err.startswith(message) and err.count("\n") == 1


def test_theory_phase_draws_a_png(cli, tmp_path):
    path = tmp_path / "phase.png"
    code, out, err = cli("theory", "phase", "--activation", "tanh", "--out", str(path), "--resolution", "9")
    assert code == 0, err
    assert Image.open(path).size == (860, 580) and "wrote" in err  # 8.6 x 5.8 in at 100 dpi


def test_critical_scheme_draws_sigma_w2_over_fan_in():
    w = initializer("critical(activation=tanh, sigma_b2=0.05)")((4000, 500), 0)
    expected = critical_sigma_w2("tanh", 0.05) / 4000
    assert w.var() == pytest.approx(expected, rel=4 * math.sqrt(2 / w.size))
    assert str(initializer("critical(activation=tanh, sigma_b2=0.05)")) == "critical"


def test_critical_relu_is_he_normal():
    assert np.array_equal(initializer("critical(activation=relu)")((300, 20), 5), initializer("he_normal")((300, 20), 5))


def test_critical_scheme_rejects_bad_arguments():
    with pytest.raises(ValueError, match="activation: unknown activation 'tahn'"):
        initializer("critical(activation=tahn)")
    with pytest.raises(ValueError, match="sigma_b2: expected a non-negative number, got -1"):
        initializer("critical(sigma_b2=-1)")
