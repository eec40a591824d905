"""Backprop is checked against finite differences and against torch.autograd on the same weights and data."""

import numpy as np
import pytest

from initlab.nn import ACTIVATIONS, HEADS, MLP
from initlab.nn.gradcheck import check_combination, max_relative_error

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("output", sorted(HEADS))
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_backprop_matches_finite_differences_below_1e7(activation, output):
    result = check_combination(activation, output, seed=3)
    assert result.max_relative_error < 1e-7


def test_gradcheck_detects_a_wrong_gradient():
    # The check must be able to fail: perturb one analytic gradient entry by 1e-3 and it is caught.
    from initlab.nn.gradcheck import numerical_grads
    rng = np.random.default_rng(0)
    net = MLP([3, 4, 1], "tanh", init="xavier_normal", seed=0)
    X, y = rng.standard_normal((8, 3)), rng.integers(0, 2, 8)
    _, grads = net.loss_and_grads(X, y)
    grads[0][0][0, 0] += 1e-3
    assert max_relative_error(grads, numerical_grads(net, X, y)) > 1e-4


TORCH_ACTIVATIONS = {
    "relu": torch.relu, "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, 0.01),
    "tanh": torch.tanh, "sigmoid": torch.sigmoid, "linear": lambda z: z,
}


def torch_loss(output, z, y):
    if output == "sigmoid":
        return torch.nn.functional.binary_cross_entropy_with_logits(z[:, 0], y.double())
    if output == "softmax":
        return torch.nn.functional.cross_entropy(z, y.long())
    return torch.nn.functional.mse_loss(z, y)


@pytest.mark.parametrize("output", sorted(HEADS))
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_loss_and_grads_match_torch_autograd(activation, output):
    rng = np.random.default_rng(7)
    width = {"sigmoid": 1, "softmax": 4, "linear": 3}[output]
    net = MLP([5, 7, 6, width], activation, output, init="he_normal", bias_init="normal(std=0.2)", seed=11)
    X = rng.standard_normal((20, 5))
    y = rng.standard_normal((20, width)) if output == "linear" else rng.integers(0, max(width, 2), 20)
    cost, grads = net.loss_and_grads(X, y)

    params = [(torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)) for W, b in net.params]
    a = torch.tensor(X)
    for W, b in params[:-1]:
        a = TORCH_ACTIVATIONS[activation](a @ W + b)
    reference = torch_loss(output, a @ params[-1][0] + params[-1][1], torch.tensor(y))
    reference.backward()

    assert cost == pytest.approx(reference.item(), rel=1e-12)
    for (dW, db), (W, b) in zip(grads, params):
        np.testing.assert_allclose(dW, W.grad.numpy(), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(db, b.grad.numpy(), rtol=1e-10, atol=1e-14)
