"""The playground's "copy as command": running it gives the session's numbers."""

import json
import math
import shlex

import pytest

from initlab.cli.main import main
from initlab.playground.session import Session
from initlab.playground.settings import Settings


def run_command(command: str, tmp_path, capsys) -> dict:
    """`command` run through the CLI's own entry point (figures off, JSON on stdout)."""
    words = shlex.split(command)
    assert words[0] == "initlab"
    capsys.readouterr()
    assert main([*words[1:], "--json", "--no-figures", "--out", str(tmp_path / "run")]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("settings", [
    Settings(compare=("zeros", "normal(std=10)"), n_seeds=2, seed=3, noise=0.1, activation="tanh", hidden=(6, 4),
             optimizer="adam", lr=0.02),
    Settings(n_seeds=1, seed=7, dataset="moons", hidden=(), lr=0.5, bias_init="constant(value=0.1)"),
], ids=["compare", "train"])
def test_the_command_reproduces_the_sessions_costs(settings, tmp_path, capsys):
    session = Session(settings)
    session.step(40)
    state = session.state(layers=False)
    assert state["command"].split()[1] == ("compare" if settings.compare else "train")
    document = run_command(state["command"], tmp_path, capsys)
    assert document["config"]["iterations"] == 40
    for scheme in state["schemes"]:
        runs = [run for run in document["runs"] if run["init"] == scheme["init"]]
        assert [run["seed"] for run in runs] == state["seeds"]
        assert [run["final_cost"] for run in runs] == scheme["train_cost"]  # exact: the same kernel and seeds
    if settings.compare:
        assert state["schemes"][1]["train_cost"] == [math.log(2)] * 2


def test_at_iteration_0_there_is_no_command_and_a_note_says_why():
    session = Session(Settings(n_seeds=1))
    state = session.state(layers=False)
    # `initlab train` trains at least one iteration (its default without --iterations): none gives iteration 0
    assert state["command"] is None and state["command_note"].startswith("nothing trained yet")
    session.step(1)
    state = session.state(layers=False)
    assert state["command"].endswith("--iterations 1") and state["command_note"] is None
    session.update(lr=0.5)
    session.step(1)
    assert session.state(layers=False)["command_note"].startswith("the learning rate changed")
    session.reset()
    assert session.state(layers=False)["command"] is None
