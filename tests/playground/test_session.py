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


def compare_command(iterations: int, **options):
    """What `initlab compare --iterations N --record-every 1 [options]` computes (as `train_command`)."""
    config = resolve(None, iterations=iterations, record_every=1, **options)
    return run_compare(config)


def test_compare_mode_trains_every_scheme_on_the_same_seeds_as_initlab_compare():
    session = Session(Settings(compare=("zeros", "xavier_normal"), n_seeds=2, seed=4))
    session.step(25)
    session.step(35)
    state, history = session.state(layers=False), session.history()
    result = compare_command(60, inits=("he_normal", "zeros", "xavier_normal"), seeds=2, first_seed=4)
    assert [s["init"] for s in state["schemes"]] == ["he_normal", "zeros", "xavier_normal"]
    for s, scheme in enumerate(state["schemes"]):
        runs = [run for run in result.runs if run.init == scheme["init"]]
        assert [run.seed for run in runs] == state["seeds"] == [4, 5]
        assert scheme["train_cost"] == [run.result.final_cost for run in runs]  # bit-identical
        assert history["schemes"][s] == [[cost for _, cost in run.result.cost_history[:-1]] for run in runs]
    assert state["schemes"][1]["train_cost"] == [math.log(2)] * 2
    first = state["schemes"][0]
    assert state["mean_cost"] == first["mean_cost"] and state["train_cost"] == first["train_cost"]


def test_history_is_thinned_to_at_most_300_points_with_mean_and_band_over_seeds():
    session = Session(Settings(n_seeds=3, lr=0.1))
    session.step(1300)  # 1,300 costs per network: the recording interval doubles twice, to every 4th iteration
    assert session.record_every == 4 and session._costs.shape[1] <= 2 * 325
    history = session.history()
    assert history["iterations"] == list(range(0, 1300, 4))
    result = compare_command(1300, inits=("he_normal",), seeds=3, lr=0.1)
    for row, run in zip(history["costs"], result.runs):
        assert row == [cost for it, cost in run.result.cost_history if it % 4 == 0 and it < 1300]
    curves = session.curves()
    assert curves["iterations"] == list(range(0, 1300, 8)) and len(curves["iterations"]) <= 300
    costs = np.array(history["costs"])[:, ::2]
    band = curves["schemes"][0]
    assert band["low"] == costs.min(axis=0).tolist() and band["high"] == costs.max(axis=0).tolist()
    assert band["mean"] == pytest.approx(costs.mean(axis=0).tolist(), rel=1e-14)


def test_curves_leave_out_diverged_seeds_and_are_null_where_none_is_alive():
    session = Session(Settings(init="normal(std=10)", hidden=(64, 64, 64), lr=10.0, n_seeds=4))
    session.step(200)
    diverged = [at for at in session.state(layers=False)["diverged_at"] if at is not None]
    band = session.curves()["schemes"][0]
    iterations = session.curves()["iterations"]
    for i, it in enumerate(iterations):
        alive = [row[it] for row, at in zip(session.history()["costs"], session._run.diverged_at)
                 if at < 0 or it < at]
        if alive:
            assert band["high"][i] == max(alive) and band["low"][i] == min(alive)
        else:
            assert band["mean"][i] is None and band["low"][i] is None
    assert diverged


def test_layers_hold_diagnoses_numbers_for_each_schemes_median_seed():
    from initlab.diagnose import diagnose_mlp
    session = Session(Settings(compare=("zeros",), activation="tanh", hidden=(16, 8), n_seeds=3))
    session.step(10)
    state = session.state()
    for s, scheme in enumerate(state["schemes"]):
        m = state["seeds"].index(scheme["median_seed"])
        net = session.nets[s * 3 + m]
        expected = diagnose_mlp(net, session._X, session._y).layers
        views = state["layers"][s]
        assert [v["units"] for v in views] == [16, 8, 1]
        for view, stats in zip(views, expected):
            assert view["activation"]["std"] == stats.activation_std
            assert view["activation"]["theory_std"] == stats.expected_activation_std
            assert view["grad"]["theory_std"] == stats.expected_grad_std and view["grad"]["rms"] == stats.grad_rms
            assert sum(view["activation"]["counts"]) == len(session._y) * view["units"]
    he, zeros = state["layers"]
    assert [v["duplicate"] for v in zeros[:2]] == [16, 8]  # zeros: every hidden unit the same, forever
    assert [v["duplicate"] for v in he[:2]] == [0, 0]
    assert zeros[0]["activation"]["std"] == 0.0 and he[0]["activation"]["std"] > 0.1


def test_speed_and_lr_are_live_changes_and_an_lr_change_makes_the_run_unreproducible():
    session = Session(Settings(n_seeds=1))
    session.step(5)
    assert session.update(speed=100) is False and session.iteration == 5 and session.state()["reproducible"]
    assert session.update(lr=0.02) is False and not session.state(layers=False)["reproducible"]
    assert session.update(compare=["zeros"]) is True and session.iteration == 0
    assert session.state(layers=False)["reproducible"] and len(session.nets) == 2


def test_test_cost_history_holds_each_states_test_costs():
    session = Session(Settings(compare=("zeros",), n_seeds=2, n_samples=100))
    states = []
    for _ in range(4):
        session.step(3)
        states.append(session.state(layers=False))
    history = states[-1]["test_history"]
    assert history["iterations"] == [3, 6, 9, 12]
    for i, state in enumerate(states):
        he, zeros = (scheme["test_cost"] for scheme in state["schemes"])
        assert history["schemes"][0]["low"][i] == min(he) and history["schemes"][0]["high"][i] == max(he)
        assert history["schemes"][1]["mean"][i] == zeros[0] == zeros[1]


def test_samples_keep_at_most_twice_300_and_show_at_most_300():
    from initlab.playground.curves import Samples
    samples = Samples(300)
    for iteration in range(1, 1001):
        samples.add(iteration, [float(iteration), None])
    samples.add(1000, [0.0, 0.0])  # the same iteration again: ignored
    assert len(samples.iterations) <= 600 and samples.iterations == sorted(set(samples.iterations))
    curves = samples.curves(1)
    assert len(curves["iterations"]) <= 300 and curves["schemes"][0]["mean"] == [float(i) for i in curves["iterations"]]


def test_dead_counts_relu_units_that_are_0_on_every_training_point_and_no_gradient_flags_the_layer():
    from initlab.nn.mlp import MLP
    from initlab.playground.layers import layer_views
    net = MLP([2, 5, 3, 1], activation="relu", init="he_normal", seed=0)
    W1, b1 = net.params[0]
    W1[...] = 0.0
    b1[...] = [-10.0, -0.1, -0.1, -0.1, -0.1]  # every unit of layer 1 is exactly 0 on every point
    X, y = np.random.default_rng(0).normal(size=(1500, 2)), np.arange(1500) % 2
    first, second, output = layer_views(net, X, y)
    assert first["activation"]["std"] == 0.0 and first["dead_fraction"] == 1.0
    # diagnose's rule (mean a layer sd below 0) counts 1 of them; each is 0 on the whole training set
    assert (first["dead"], first["no_gradient"]) == (5, True)
    assert (second["dead"], second["no_gradient"]) == (3, True)  # its inputs are 0: z = its zero bias
    assert (output["dead"], output["no_gradient"]) == (None, False)  # the cost still has a gradient
    state = Session(Settings(n_seeds=1)).state()
    assert set(state["rules"]) == {"dead", "saturated", "duplicate", "no_gradient"}
