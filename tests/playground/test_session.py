"""The playground session: the numbers of `initlab train`, zeros' symmetry, reset, independence, updates."""

import math

import numpy as np
import pytest

from initlab._errors import ArgumentError
from initlab.experiments import resolve, run_compare
from initlab.playground.session import BOUNDARY_RESOLUTION, Session
from initlab.playground.settings import Settings

ITERATIONS = 120


def train_command(seed: int, iterations: int, **options):
    """What `initlab train --seed SEED --iterations N --record-every 1 [options]` computes
    (`initlab.cli.training.train` builds this config and passes it to `run_compare`)."""
    config = resolve(None, inits=(options.pop("init", "he_normal"),), seeds=1, first_seed=seed,
                     iterations=iterations, record_every=1, **options)
    return run_compare(config).runs[0].result


def test_defaults_reproduce_initlab_train_per_seed_whatever_the_steps():
    session = Session(Settings(n_seeds=3))
    for chunk in (1, 36, 83):  # resumed three times: the kernel's state carries over
        session.step(chunk)
    state, history = session.state(), session.history()
    assert state["iteration"] == ITERATIONS and history["iterations"] == list(range(ITERATIONS))
    for m, seed in enumerate((0, 1, 2)):
        result = train_command(seed, ITERATIONS)
        assert state["train_cost"][m] == result.final_cost  # bit-identical, not just close
        assert history["costs"][m] == [cost for _, cost in result.cost_history[:-1]]
    assert state["mean_cost"] == pytest.approx(np.mean(state["train_cost"]), rel=1e-15)


def test_other_settings_reproduce_initlab_train():
    settings = Settings(dataset="moons", noise=0.2, n_samples=200, hidden=(8, 8, 8), activation="tanh",
                        init="xavier_uniform", optimizer="adam", lr=0.02, seed=7, n_seeds=2)
    session = Session(settings)
    session.step(50)
    session.step(30)
    result = train_command(8, 80, data="moons", noise=0.2, n_samples=200, hidden=(8, 8, 8), activation="tanh",
                           init="xavier_uniform", optimizer="adam", lr=0.02)
    assert session.state()["train_cost"][1] == result.final_cost
    assert session.history()["costs"][1] == [cost for _, cost in result.cost_history[:-1]]


def test_zeros_keep_the_mean_cost_at_exactly_ln2_while_iterations_advance():
    session = Session(Settings(init="zeros"))
    for iteration in (1, 50, 200):
        session.step(iteration - session.iteration if iteration > session.iteration else 1)
        state = session.state()
        assert state["iteration"] == iteration
        assert state["mean_cost"] == math.log(2)
        assert state["train_cost"] == [math.log(2)] * 5


def test_he_normal_lowers_the_cost():
    session = Session(Settings(lr=0.5))
    first = session.state()["mean_cost"]
    session.step(300)
    assert session.state()["mean_cost"] < 0.5 * first


def test_reset_is_bit_identical_to_a_fresh_session():
    session = Session(Settings(n_seeds=2))
    session.step(40)
    session.reset()
    session.step(40)
    fresh = Session(Settings(n_seeds=2))
    fresh.step(40)
    assert session.state() == fresh.state() and session.history() == fresh.history()


def test_two_sessions_are_independent():
    a, b = Session(Settings(n_seeds=2)), Session(Settings(n_seeds=2, init="zeros"))
    alone = Session(Settings(n_seeds=2))
    a.step(30)
    b.step(70)  # stepping b between a's steps changes nothing in a
    a.step(30)
    alone.step(60)
    assert a.state() == alone.state()
    assert b.state()["mean_cost"] == math.log(2)


def test_update_of_lr_goes_on_other_changes_reset():
    session = Session(Settings(n_seeds=2))
    session.step(20)
    session.update(lr=0.05)
    assert session.iteration == 20 and session.settings.lr == 0.05
    session.update(activation="tanh")
    assert session.iteration == 0 and session.nets[0].activations[0].name == "tanh"
    with pytest.raises(ArgumentError, match="^init: "):
        session.update(init="normal(std=-1)")
    assert session.settings.activation == "tanh" and session.settings.init == "he_normal"  # unchanged


def test_lr_change_applies_from_the_next_step():
    changed, constant = Session(Settings(n_seeds=1)), Session(Settings(n_seeds=1))
    for session in (changed, constant):
        session.step(10)
    changed.update(lr=0.5)
    changed.step(1)
    constant.step(1)
    assert changed.history()["costs"] == constant.history()["costs"]  # costs before the first faster update
    assert changed.state()["train_cost"] != constant.state()["train_cost"]


def test_state_is_json_ready_with_the_median_seeds_boundary():
    import json
    session = Session(Settings(n_seeds=3, lr=0.5))
    session.step(100)
    state = session.state()
    costs = state["train_cost"]
    assert state["boundary"]["seed"] == sorted(range(3), key=costs.__getitem__)[1]
    probability = np.array(state["boundary"]["probability"])
    assert probability.shape == (BOUNDARY_RESOLUTION, BOUNDARY_RESOLUTION)
    assert ((probability >= 0) & (probability <= 1)).all() and probability.std() > 0.05
    assert json.loads(json.dumps(state)) == state
    assert len(session.points()["train"]["y"]) == 300


def test_divergence_is_reported_and_left_out_of_the_mean():
    session = Session(Settings(init="normal(std=10)", hidden=(64, 64, 64), lr=10.0, n_seeds=4))
    session.step(200)
    state = session.state()
    diverged = [at is not None for at in state["diverged_at"]]
    assert any(diverged) and not all(diverged), state["diverged_at"]  # the mean below has both kinds
    assert [cost is None for cost in state["train_cost"]] == diverged
    alive = [cost for cost in state["train_cost"] if cost is not None]
    assert state["mean_cost"] == pytest.approx(sum(alive) / len(alive), rel=1e-15)
    assert state["boundary"]["seed"] in [s for s, d in zip(state["seeds"], diverged) if not d]


def test_step_refuses_bad_counts():
    session = Session(Settings(n_seeds=1))
    with pytest.raises(ArgumentError, match="^iterations: "):
        session.step(0)
    assert session.iteration == 0
