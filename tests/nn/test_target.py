"""Steps to target (`initlab.nn.target`): a run stops at the first recorded iteration that meets its target,
in `train` and in `train_many` (the compiled kernel and the NumPy reference, per network)."""

import numpy as np
import pytest

from initlab.data import load
from initlab.nn import MLP, train
from initlab.nn.ensemble import train_many
from initlab.nn.target import Target

X, Y = load("circles", n_samples=120, seed=0)
SETTINGS = dict(lr=0.5, iterations=300, record_every=10)


def net(seed=0, init="he_normal", output="auto"):
    return MLP([2, 8, 4, 1], "relu", init=init, seed=seed, **({} if output == "auto" else {"output": output}))


def test_a_cost_target_is_reached_at_the_first_recorded_cost_at_or_below_it_and_the_run_stops_there():
    free = train(net(), X, Y, **SETTINGS)
    costs = dict(free.cost_history)
    recorded = [i for i, _ in free.cost_history if i < SETTINGS["iterations"]]
    target = (costs[recorded[5]] + costs[recorded[6]]) / 2 if costs[recorded[6]] < costs[recorded[5]] else None
    assert target is not None
    first = next(i for i in recorded if costs[i] <= target)  # by hand, from the untargeted run's record
    stopped = train(net(), X, Y, **SETTINGS, target=Target(cost=target))
    assert stopped.target_reached_at == first
    assert stopped.cost_history == [(i, c) for i, c in free.cost_history if i <= first]  # nothing after it
    assert stopped.final_cost == pytest.approx(costs[first], rel=1e-12)
    # its parameters are those after `first` updates: the same as a run of `first` iterations
    short = net()
    train(short, X, Y, **{**SETTINGS, "iterations": first})
    trained = net()
    train(trained, X, Y, **SETTINGS, target=Target(cost=target))
    assert all(np.array_equal(a, b) for a, b in zip(short.flat_params(), trained.flat_params()))


def test_an_accuracy_target_stops_at_the_first_recorded_iteration_with_that_training_accuracy():
    stopped = train(net(), X, Y, **SETTINGS, target=Target(accuracy=0.9))
    reached = stopped.target_reached_at
    assert reached is not None and reached % 10 == 0 and stopped.train_accuracy >= 0.9
    before = net()  # one recording earlier the accuracy was still below the target
    assert train(before, X, Y, **{**SETTINGS, "iterations": reached - 10}).train_accuracy < 0.9


def test_a_target_never_reached_is_none_and_the_run_is_the_untargeted_one():
    free = train(net(), X, Y, **SETTINGS)
    missed = train(net(), X, Y, **SETTINGS, target=Target(cost=1e-12))
    assert missed.target_reached_at is None and missed.cost_history == free.cost_history
    assert missed.final_cost == free.final_cost


def test_a_target_first_met_by_the_final_cost_is_reached_at_the_last_iteration():
    free = train(net(), X, Y, **SETTINGS)
    final = free.cost_history[-1][1]
    assert all(c > final for _, c in free.cost_history[:-1])  # the cost fell all the way
    assert train(net(), X, Y, **SETTINGS, target=Target(cost=final)).target_reached_at == SETTINGS["iterations"]


@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("target", [Target(cost=0.3), Target(accuracy=0.95), Target(cost=0.4, accuracy=0.9)],
                         ids=["cost", "accuracy", "both"])
def test_ensemble_stops_every_network_on_its_own_like_train(backend, target):
    nets = [net(seed, init) for init in ("he_normal", "xavier_normal") for seed in range(3)]
    alone = [train(net(seed, init), X, Y, **SETTINGS, target=target)
             for init in ("he_normal", "xavier_normal") for seed in range(3)]
    together = train_many(nets, X, Y, **SETTINGS, target=target, backend=backend)
    reached = [r.target_reached_at for r in alone]
    assert len(set(reached)) > 1  # the networks stop at different iterations
    assert [r.target_reached_at for r in together] == reached
    for a, b, trained, seed_init in zip(alone, together, nets, [(s, i) for i in ("he_normal", "xavier_normal")
                                                                 for s in range(3)]):
        assert [i for i, _ in b.cost_history] == [i for i, _ in a.cost_history]
        np.testing.assert_allclose([c for _, c in b.cost_history], [c for _, c in a.cost_history], rtol=1e-9)
        reference = net(*seed_init)
        train(reference, X, Y, **SETTINGS, target=target)
        for p, q in zip(trained.flat_params(), reference.flat_params()):
            np.testing.assert_allclose(p, q, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("kwargs, message", [
    (dict(cost=-1.0), r"^target_cost: expected a non-negative number, got -1$"),
    (dict(cost=float("nan")), r"^target_cost: expected a non-negative number, got nan"),
    (dict(accuracy=1.5), r"^target_accuracy: expected a fraction in \(0, 1\], got 1.5"),
    (dict(accuracy=0), r"^target_accuracy: expected a fraction in \(0, 1\], got 0"),
])
def test_bad_targets_are_value_errors_naming_them(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Target(**kwargs)


def test_an_accuracy_target_on_a_regression_output_is_refused_before_training():
    y = X[:, 0] * 0.5
    with pytest.raises(ValueError, match=r"^target_accuracy: a linear \(regression\) output has no accuracy"):
        train(net(output="linear"), X, y, **SETTINGS, target=Target(accuracy=0.5))
    with pytest.raises(ValueError, match=r"^target_accuracy: a linear"):
        train_many([net(output="linear")], X, y, **SETTINGS, target=Target(accuracy=0.5))
