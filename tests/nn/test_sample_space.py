"""Sample-space steps (wide inputs) give the same training as the direct loop, up to rounding."""

import numpy as np
import pytest

from initlab.nn import MLP, train
from initlab.nn.steps import SampleSpaceSteps


def wide_problem(dtype="float64"):
    rng = np.random.default_rng(5)
    X = rng.random((24, 300))  # 24 samples, 300 features: the article's shape, scaled down
    y = np.repeat([0, 1], 12)
    return X, y


@pytest.mark.parametrize("optimizer", ["gd", "momentum"])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_sample_space_training_equals_direct_training_float64(optimizer, activation):
    X, y = wide_problem()
    nets, results = [], []
    for sample_space in (False, True):
        net = MLP([300, 5, 5, 1], activation, init="he_normal", bias_init="normal(std=0.1)", seed=1)
        results.append(train(net, X, y, lr=0.01, iterations=300, optimizer=optimizer, sample_space=sample_space))
        nets.append(net)
    direct, sampled = results
    np.testing.assert_allclose([c for _, c in sampled.cost_history], [c for _, c in direct.cost_history],
                               rtol=1e-10)
    for mine, theirs in zip(nets[1].flat_params(), nets[0].flat_params()):
        np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-12)
    # the run actually learned something, so the comparison is not between two frozen networks
    assert direct.final_cost < 0.9 * direct.cost_history[0][1]


def test_sample_space_float32_stays_close_to_direct():
    X, y = wide_problem()
    finals = []
    for sample_space in (False, True):
        net = MLP([300, 5, 5, 1], "tanh", init="he_normal", seed=2, dtype="float32")
        finals.append(train(net, X, y, lr=0.01, iterations=300, sample_space=sample_space).final_cost)
        assert net.params[0][0].dtype == np.float32
    assert finals[1] == pytest.approx(finals[0], rel=1e-4)


def test_sample_space_is_chosen_only_for_wide_full_batch_gd():
    net = MLP([300, 5, 1])
    assert SampleSpaceSteps.applies(net, 24, "gd", None)
    assert SampleSpaceSteps.applies(net, 24, "momentum", 24)
    assert not SampleSpaceSteps.applies(net, 24, "adam", None)
    assert not SampleSpaceSteps.applies(net, 24, "gd", 8)
    assert not SampleSpaceSteps.applies(net, 200, "gd", None)  # not at least twice as wide as the batch


def test_zeros_init_keeps_ln2_in_sample_space():
    X, y = wide_problem()
    result = train(MLP([300, 5, 5, 1], "tanh", init="zeros"), X, y, iterations=50, sample_space=True)
    assert {c for _, c in result.cost_history} == {float(np.log(2))}


def test_forcing_sample_space_with_adam_is_an_error():
    X, y = wide_problem()
    with pytest.raises(ValueError, match=r"sample_space: needs full-batch gd or momentum, got optimizer='adam'"):
        train(MLP([300, 5, 1]), X, y, optimizer="adam", sample_space=True)
