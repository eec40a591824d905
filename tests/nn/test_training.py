"""The lessons of Andrew Ng's and the deeplearning.ai courses and Imad Dabbura's article (zeros keep the units
identical, randn * 10 starts with a huge cost, He and Xavier train), as facts about the engine."""

import math

import numpy as np
import pytest
from sklearn.datasets import make_circles

from initlab.nn import MLP, train

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def circles():
    X, y = make_circles(200, noise=0.05, factor=0.5, random_state=0)
    return X, y


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam"])
def test_zeros_init_keeps_cost_at_ln2(circles, activation, optimizer, dtype):
    X, y = circles
    net = MLP([2, 10, 5, 1], activation, init="zeros", dtype=dtype)
    result = train(net, X, y, lr=0.1, iterations=300, optimizer=optimizer, record_every=10)
    ln2 = float(np.log(np.dtype(dtype).type(2)))
    assert [cost for _, cost in result.cost_history] == [ln2] * len(result.cost_history)
    assert result.train_accuracy == 0.5
    # Symmetry is never broken: every hidden unit of a layer has identical incoming weights.
    for W, _ in net.params[:-1]:
        assert np.all(W == W[:, :1])


def test_large_random_init_starts_with_a_huge_finite_cost(circles):
    X, y = circles
    result = train(MLP([2, 10, 5, 1], "relu", init="normal(std=10)", seed=0), X, y, iterations=10)
    first_cost = result.cost_history[0][1]
    assert math.isfinite(first_cost) and first_cost > 20
    assert not result.diverged


@pytest.mark.slow
def test_he_init_trains_far_below_ln2_and_below_large_random(circles):
    X, y = circles
    he = train(MLP([2, 10, 5, 1], "relu", init="he_normal", seed=0), X, y, lr=0.05, iterations=3000)
    big = train(MLP([2, 10, 5, 1], "relu", init="normal(std=10)", seed=0), X, y, lr=0.05, iterations=3000)
    assert he.final_cost < 0.2 < math.log(2)
    assert he.final_cost < big.final_cost
    assert he.train_accuracy >= 0.95


def test_same_seed_is_bit_identical_and_other_seed_differs(circles):
    X, y = circles
    runs = [train(MLP([2, 8, 1], "tanh", init="xavier_normal", seed=s), X, y, iterations=50, optimizer="adam",
                  batch_size=32, seed=s) for s in (4, 4, 5)]
    assert runs[0].cost_history == runs[1].cost_history
    assert runs[0].cost_history != runs[2].cost_history


def test_overflowing_run_is_marked_diverged_at_its_iteration():
    X = np.array([[1e3, -1e3], [-1e3, 1e3]])
    net = MLP([2, 4, 1], "relu", output="linear", init="normal(std=1e30)", seed=0)
    result = train(net, X, np.array([1.0, -1.0]), lr=1.0, iterations=20)
    # The first cost is huge but finite; the first update overflows, so iteration 1 is non-finite.
    assert math.isfinite(result.cost_history[0][1]) and result.cost_history[0][1] > 1e100
    assert result.diverged and result.diverged_at == 1
    assert not math.isfinite(result.cost_history[-1][1]) and result.cost_history[-1][0] == 1
    assert result.final_cost is None


def test_float32_training_stays_float32_and_close_to_float64(circles):
    X, y = circles
    r64 = train(MLP([2, 10, 1], "tanh", init="he_normal", seed=1), X, y, lr=0.1, iterations=500)
    net32 = MLP([2, 10, 1], "tanh", init="he_normal", seed=1, dtype="float32")
    r32 = train(net32, X, y, lr=0.1, iterations=500)
    assert all(W.dtype == np.float32 and b.dtype == np.float32 for W, b in net32.params)
    assert r32.final_cost == pytest.approx(r64.final_cost, rel=1e-4)


def _torch_sgd_reference(net: MLP, X, y, lr, iterations, momentum):
    params = [p for W, b in net.params for p in (torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True))]
    opt = torch.optim.SGD(params, lr=lr, momentum=momentum) if momentum else torch.optim.SGD(params, lr=lr)
    Xt, yt = torch.tensor(X), torch.tensor(y, dtype=torch.float64)
    for _ in range(iterations):
        opt.zero_grad()
        a = Xt
        for i in range(0, len(params) - 2, 2):
            a = torch.tanh(a @ params[i] + params[i + 1])
        z = a @ params[-2] + params[-1]
        loss = torch.nn.functional.binary_cross_entropy_with_logits(z[:, 0], yt)
        loss.backward()
        opt.step()
    return [p.detach().numpy() for p in params]


@pytest.mark.parametrize("optimizer,momentum", [("gd", 0.0), ("momentum", 0.9)])
@pytest.mark.slow
def test_training_matches_torch_sgd_step_by_step(circles, optimizer, momentum):
    X, y = circles
    net = MLP([2, 6, 4, 1], "tanh", init="xavier_normal", seed=2)
    reference = _torch_sgd_reference(net, X, y, lr=0.1, iterations=100, momentum=momentum)
    train(net, X, y, lr=0.1, iterations=100, optimizer=optimizer)
    for mine, theirs in zip([p for pair in net.params for p in pair], reference):
        np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-12)


@pytest.mark.slow
def test_adam_matches_torch_adam(circles):
    X, y = circles
    net = MLP([2, 5, 1], "relu", init="he_normal", seed=3)
    params = [p for W, b in net.params for p in (torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True))]
    opt = torch.optim.Adam(params, lr=0.01)
    Xt, yt = torch.tensor(X), torch.tensor(y, dtype=torch.float64)
    for _ in range(50):
        opt.zero_grad()
        z = torch.relu(Xt @ params[0] + params[1]) @ params[2] + params[3]
        torch.nn.functional.binary_cross_entropy_with_logits(z[:, 0], yt).backward()
        opt.step()
    train(net, X, y, lr=0.01, iterations=50, optimizer="adam")
    for mine, theirs in zip([p for pair in net.params for p in pair], params):
        np.testing.assert_allclose(mine, theirs.detach().numpy(), rtol=1e-8, atol=1e-12)
