"""Many networks trained as one batched computation equal each network trained alone."""

import math

import numpy as np
import pytest
from sklearn.datasets import make_blobs, make_circles

from initlab.nn import ACTIVATIONS, MLP, train
from initlab.nn.ensemble import train_many

INITS = ("zeros", "he_normal", "xavier_normal", "normal(std=3)")


@pytest.fixture(scope="module")
def circles():
    return make_circles(120, noise=0.05, factor=0.5, random_state=0)


def make_nets(sizes=(2, 8, 5, 1), activation="relu", output="sigmoid", dtype="float64", count=4):
    return [MLP(list(sizes), activation, output, init=INITS[k % len(INITS)], bias_init="normal(std=0.1)"
                if k % 2 else "zeros", seed=k, dtype=dtype) for k in range(count)]


def assert_same_training(together, alone, results, solo_results, rtol):
    for net, ref, result, solo in zip(together, alone, results, solo_results):
        for mine, theirs in zip(net.flat_params(), ref.flat_params()):
            np.testing.assert_allclose(mine, theirs, rtol=rtol, atol=rtol * 1e-3)
        assert [i for i, _ in result.cost_history] == [i for i, _ in solo.cost_history]
        np.testing.assert_allclose([c for _, c in result.cost_history], [c for _, c in solo.cost_history], rtol=rtol)
        assert (result.train_accuracy, result.diverged) == (solo.train_accuracy, solo.diverged)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam"])
@pytest.mark.parametrize("activation", list(ACTIVATIONS))  # every engine activation: each has a kernel branch
@pytest.mark.slow
def test_ensemble_equals_training_each_network_alone(circles, backend, optimizer, activation):
    X, y = circles
    alone = make_nets(activation=activation)
    solo = [train(net, X, y, lr=0.05, iterations=150, optimizer=optimizer, record_every=7) for net in alone]
    together = make_nets(activation=activation)
    results = train_many(together, X, y, lr=0.05, iterations=150, optimizer=optimizer, record_every=7,
                         backend=backend)
    assert_same_training(together, alone, results, solo, rtol=1e-8)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("output", ["softmax", "linear"])
def test_ensemble_equals_alone_for_softmax_and_linear_outputs(backend, output):
    X, labels = make_blobs(90, centers=3, random_state=1)
    y = labels if output == "softmax" else np.column_stack([X[:, 0] * 0.3, labels * 0.5])
    alone = make_nets(sizes=(2, 6, 3 if output == "softmax" else 2), activation="tanh", output=output)
    solo = [train(net, X, y, lr=0.02, iterations=100, record_every=10) for net in alone]
    together = make_nets(sizes=(2, 6, 3 if output == "softmax" else 2), activation="tanh", output=output)
    results = train_many(together, X, y, lr=0.02, iterations=100, record_every=10, backend=backend)
    assert_same_training(together, alone, results, solo, rtol=1e-8)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_zeros_stays_exactly_at_ln2_in_the_ensemble(circles, backend):
    X, y = circles
    results = train_many(make_nets(), X, y, lr=0.1, iterations=60, record_every=5, backend=backend)
    assert {c for _, c in results[0].cost_history} == {math.log(2)}


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_a_diverging_model_stops_alone_at_its_iteration(backend):
    X = np.array([[1e3, -1e3], [-1e3, 1e3], [5.0, 1.0]])
    y = np.array([1.0, -1.0, 0.5])

    def nets():
        return [MLP([2, 4, 1], "relu", "linear", init=init, seed=0) for init in ("normal(std=1e30)", "he_normal")]
    solo = [train(net, X, y, lr=1e-7, iterations=20, record_every=1) for net in nets()]
    results = train_many(nets(), X, y, lr=1e-7, iterations=20, record_every=1, backend=backend)
    assert solo[0].diverged and results[0].diverged and results[0].diverged_at == solo[0].diverged_at
    assert not math.isfinite(results[0].cost_history[-1][1])
    assert not results[1].diverged
    np.testing.assert_allclose([c for _, c in results[1].cost_history], [c for _, c in solo[1].cost_history],
                               rtol=1e-10)


def test_numba_results_do_not_depend_on_the_other_models_or_the_thread_count(circles):
    import numba
    X, y = circles
    together = make_nets(count=6)
    train_many(together, X, y, lr=0.05, iterations=80, backend="numba")
    alone = make_nets(count=6)[3:4]
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        train_many(alone, X, y, lr=0.05, iterations=80, backend="numba")
    finally:
        numba.set_num_threads(before)
    for mine, theirs in zip(together[3].flat_params(), alone[0].flat_params()):
        assert np.array_equal(mine, theirs)


def test_float32_ensemble_stays_float32_and_close_to_alone(circles):
    X, y = circles
    alone = make_nets(dtype="float32")
    solo = [train(net, X, y, lr=0.05, iterations=100) for net in alone]
    together = make_nets(dtype="float32")
    results = train_many(together, X, y, lr=0.05, iterations=100, backend="numba")
    assert all(p.dtype == np.float32 for net in together for p in net.flat_params())
    for result, ref in zip(results, solo):
        assert result.final_cost == pytest.approx(ref.final_cost, rel=1e-4, abs=1e-6)


def test_mixed_architectures_are_rejected(circles):
    X, y = circles
    with pytest.raises(ValueError, match="one architecture"):
        train_many([MLP([2, 4, 1]), MLP([2, 5, 1])], X, y, iterations=1)
