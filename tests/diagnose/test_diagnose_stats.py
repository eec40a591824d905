"""Per-layer statistics against hand computation, torch autograd, and nets built to have dead or duplicated units."""

import math

import numpy as np
import pytest
from scipy import integrate
from scipy.special import expit

from initlab.data import load
from initlab.diagnose import Capture, diagnose_mlp
from initlab.diagnose.mlp_probe import capture_mlp
from initlab.diagnose.stats import bounds, dead_fraction, duplicates, saturated_fraction
from initlab.nn.mlp import MLP
from initlab.theory import Activation

X_TINY = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 2.0]])
Y_TINY = np.array([0, 1, 1, 0])


def tiny_net():
    """2 -> 3 (tanh) -> 1 with weights chosen by hand; unit 0 saturates on every sample."""
    net = MLP([2, 3, 1], activation="tanh", seed=0)
    net.params[0] = (np.array([[5.0, -0.5, 0.25], [5.0, 0.5, -1.0]]), np.array([0.1, 0.0, -0.2]))
    net.params[1] = (np.array([[1.0], [-1.0], [2.0]]), np.array([0.3]))
    return net


def test_statistics_of_a_tiny_net_match_hand_computation():
    net = tiny_net()
    (W1, b1), (W2, b2) = net.params
    z1 = X_TINY @ W1 + b1
    a1 = np.tanh(z1)
    z2 = a1 @ W2 + b2
    dz2 = (expit(z2) - Y_TINY[:, None]) / 4  # d(mean BCE)/dz
    dz1 = (dz2 @ W2.T) * (1 - a1 ** 2)
    gW1 = X_TINY.T @ dz1
    l1, l2 = diagnose_mlp(net, X_TINY, Y_TINY).layers
    assert (l1.units, l1.fan_in, l1.activation, l2.activation, l1.kind) == (3, 2, "tanh", "identity", "dense")
    assert l1.pre_mean == pytest.approx(z1.mean(), rel=1e-12)
    assert l1.pre_std == pytest.approx(z1.std(), rel=1e-12)
    assert l1.activation_std == pytest.approx(a1.std(), rel=1e-12)
    assert l2.pre_std == pytest.approx(z2.std(), rel=1e-12)
    assert l1.grad_std == pytest.approx(dz1.std(), rel=1e-12)
    assert l2.grad_std == pytest.approx(dz2.std(), rel=1e-12)
    assert l1.weight_grad_ratio == pytest.approx(np.linalg.norm(gW1) / np.linalg.norm(W1), rel=1e-12)
    assert l1.saturated_fraction == pytest.approx(np.mean(np.abs(a1) > 0.99)) and l1.saturated_fraction >= 1 / 3
    assert l1.dead_fraction is None and l2.saturated_fraction is None
    assert l1.sigma_w2 == pytest.approx(2 * np.mean(W1 ** 2), rel=1e-12)
    assert l1.sigma_b2 == pytest.approx(np.mean(b1 ** 2), rel=1e-12)
    # theory: q1 = sigma_w2 mean(X^2) + sigma_b2; q2 = sigma_w2(2) E[tanh(sqrt(q1) z)^2] + b2^2
    q1 = l1.sigma_w2 * np.mean(X_TINY ** 2) + l1.sigma_b2
    def gauss(f, q):  # E[f(u)], u ~ N(0, q), by adaptive quadrature
        density = lambda u: math.exp(-u * u / (2 * q)) / math.sqrt(2 * math.pi * q)  # noqa: E731
        return integrate.quad(lambda u: f(u) * density(u), -12 * math.sqrt(q), 12 * math.sqrt(q), epsabs=1e-13,
                              limit=400)[0]
    m2 = gauss(lambda u: math.tanh(u) ** 2, q1)
    assert l1.expected_pre_std == pytest.approx(math.sqrt(q1), rel=1e-12)
    assert l1.expected_activation_std == pytest.approx(math.sqrt(m2 - gauss(math.tanh, q1) ** 2), rel=1e-8)
    assert l2.expected_pre_std == pytest.approx(math.sqrt(l2.sigma_w2 * m2 + 0.09), rel=1e-8)
    # backward, anchored at the output's rms: E[dz1^2] = E[tanh'^2] * mean(W2^2) * fan_out(2) * E[dz2^2]
    assert l1.grad_mean == pytest.approx(dz1.mean(), rel=1e-12) and l2.grad_mean == pytest.approx(dz2.mean(), rel=1e-12)
    rms2 = math.sqrt(np.mean(dz2 ** 2))
    assert l2.grad_rms == pytest.approx(rms2, rel=1e-12) and l2.expected_grad_std == pytest.approx(rms2, rel=1e-12)
    assert l2.grad_rms > l2.grad_std * 1.001  # this output's dz has a mean: rms and std differ
    dphi2 = gauss(lambda u: (1 - math.tanh(u) ** 2) ** 2, q1)
    assert l1.expected_grad_std == pytest.approx(math.sqrt(dphi2 * np.mean(W2 ** 2) * 1) * rms2, rel=1e-8)


def test_captured_gradients_equal_torch_autograd_of_the_mean_loss():
    torch = pytest.importorskip("torch")
    X, y = load("moons", n_samples=32, seed=1)
    net = MLP([2, 8, 8, 3], activation=["relu", "tanh"], output="softmax", init="he_normal", seed=2)
    caps = capture_mlp(net, X, y)
    params = [(torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)) for W, b in net.params]
    h, zs = torch.tensor(X), []
    for layer, (W, b) in enumerate(params):
        zs.append(h @ W + b)
        zs[-1].retain_grad()
        h = [torch.relu, torch.tanh, lambda t: t][layer](zs[-1])
    torch.nn.functional.cross_entropy(zs[-1], torch.tensor(y)).backward()
    for cap, z, (W, _) in zip(caps, zs, params):
        np.testing.assert_allclose(cap.z, z.detach().numpy(), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(cap.dz, z.grad.numpy(), rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose(cap.weight_grad, W.grad.numpy().T, rtol=1e-10, atol=1e-15)
        np.testing.assert_array_equal(cap.weight, W.detach().numpy().T)


def test_dead_fraction_counts_units_nonpositive_on_every_sample():
    X, y = load("circles", n_samples=64, seed=0)
    net = MLP([2, 10, 1], activation="relu", init="he_normal", seed=0)
    W, b = net.params[0]
    b[[2, 7]] = -100.0  # far below any W x on this data: two dead units
    (layer, _) = diagnose_mlp(net, X, y).layers
    assert layer.dead_fraction == pytest.approx(0.2)
    assert layer.duplicate_units == 0  # two all-zero activation vectors are not symmetry


def test_two_identical_columns_are_one_duplicate_group():
    X, y = load("circles", n_samples=128, seed=0)
    net = MLP([2, 50, 50, 1], activation="tanh", init="xavier_normal", seed=0)
    W, b = net.params[0]
    W[:, 7], b[7] = W[:, 3], b[3]
    W2, _ = net.params[1]
    W2[7], W2[3] = W2[3], W2[3].copy()  # outgoing weights alike too: the same gradient, so they stay alike
    layers = diagnose_mlp(net, X, y).layers
    assert [(s.duplicate_groups, s.duplicate_units) for s in layers] == [(1, 2), (0, 0), (0, 0)]
    assert diagnose_mlp(net, X, y).verdict == "ok"  # 2 of 50 is far from symmetric


def test_units_with_different_weights_but_identical_activations_are_duplicates():
    # feature 1 is always 0, so units that differ only in their weight from feature 1 compute the same
    X = np.column_stack([np.linspace(-1, 1, 20), np.zeros(20)])
    a = np.tanh(X @ np.array([[1.0, 1.0, 1.0, 2.0], [0.0, 3.0, -1.0, 0.0]]))
    c = Capture("layer 1", "dense", z=a, a=a, dz=a, weight=np.array([[1.0, 0.0], [1.0, 3.0], [1.0, -1.0], [2.0, 0.0]]),
                bias=None, weight_grad=np.zeros((4, 2)), activation=None, fan_in=2, fan_out=4)
    assert duplicates(c) == (1, 3)


def test_duplicate_groups_join_weight_and_activation_classes():
    # units 0, 1 share weights; units 1, 2 share (non-constant) activations; unit 3 is alone: one group of 3
    weight = np.array([[1.0, 0.0], [1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])
    a = np.array([[0.5, 0.1, 0.1, 0.7], [0.6, 0.2, 0.2, 0.8]])
    c = Capture("l", "dense", z=a, a=a, dz=np.ones_like(a), weight=weight, bias=np.zeros(4), weight_grad=weight,
                activation=None, fan_in=2, fan_out=4)
    assert duplicates(c) == (1, 3)


def test_units_alike_but_with_different_gradients_are_not_duplicates():
    # a zero-initialised layer (Fixup's last layer of a branch): identical rows, but each unit gets its own dL/dz
    rng = np.random.default_rng(0)
    z = np.zeros((16, 5))
    dz = rng.standard_normal((16, 5))
    c = Capture("l", "dense", z=z, a=z, dz=dz, weight=np.zeros((5, 3)), bias=None, weight_grad=np.zeros((5, 3)),
                activation=None, fan_in=3, fan_out=5)
    assert duplicates(c) == (0, 0)
    dz[:, 4] = dz[:, 1]  # units 1 and 4 also get the same gradient: they stay identical under training
    assert duplicates(c) == (1, 2)


def test_capture_rejects_inconsistent_shapes():
    z = np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"layer 1: weight and weight_grad must be \(units=3, fan_in\), got \(2, 2\)"):
        Capture("layer 1", "dense", z, z, z, np.zeros((2, 2)), None, np.zeros((2, 2)), None, 2, 3)
    with pytest.raises(ValueError, match="kind: expected one of dense, conv, attention, rnn, embedding, got 'lstm'"):
        Capture("layer 1", "lstm", z, z, z, np.zeros((3, 2)), None, np.zeros((3, 2)), None, 2, 3)


def relu_capture(z, name="relu"):
    phi = {"relu": lambda u: np.maximum(u, 0), "ReLU6": lambda u: np.clip(u, 0, 6),
           "leaky_relu": lambda u: np.where(u > 0, u, 0.01 * u)}[name]
    act = Activation(name, phi, lambda u: (u > 0).astype(float))
    units = z.shape[1]
    return Capture("l", "dense", z=z, a=phi(z), dz=np.zeros_like(z), weight=np.ones((units, 2)), bias=None,
                   weight_grad=np.zeros((units, 2)), activation=act, fan_in=2, fan_out=units)


def test_units_of_one_sign_from_correlated_inputs_are_not_dead_unless_shifted_below_zero():
    # Correlation collapse: every unit is (nearly) constant over the batch, its level ~N(0, 1) across units, so
    # half the units are <= 0 on the whole batch; only those 1 sd below 0 (Phi(-1) = 16%) count as dead.
    rng = np.random.default_rng(0)
    level = rng.standard_normal(2000)
    z = level + 0.01 * rng.standard_normal((64, 2000))
    assert np.mean(np.all(z <= 0, axis=0)) == pytest.approx(0.5, abs=0.03)  # the old rule: half "dead"
    assert dead_fraction(relu_capture(z)) == pytest.approx(0.159, abs=0.02)
    assert dead_fraction(relu_capture(z - 3.0)) > 0.95  # a negative bias of 3 sd kills nearly every unit
    assert dead_fraction(relu_capture(np.zeros((8, 5)))) == 1.0  # exactly 0 everywhere: nothing upstream lives


def test_leaky_relu_never_dies_and_relu6_dies_at_0_and_saturates_at_6():
    z = np.array([[-9.0, 7.0, 1.0, -2.0], [-8.0, 8.0, 2.0, 9.0]])  # std over all entries 6.5
    assert dead_fraction(relu_capture(z, "leaky_relu")) is None  # its gradient below 0 is 0.01, not 0
    assert saturated_fraction(relu_capture(z, "leaky_relu")) is None
    relu6 = relu_capture(z, "ReLU6")  # torch's class name; compared in lower case
    assert dead_fraction(relu6) == 0.25  # unit 0: <= 0 on both samples, mean -8.5 < -1 sd
    assert saturated_fraction(relu6) == 3 / 8  # 7, 8, 9 sit at the flat top; the zeros are relu's half, not saturation
    assert bounds("ReLU6") == (None, 6.0) and bounds("relu") is None


@pytest.mark.parametrize("collide", [False, True])
def test_row_grouping_is_the_exact_partition_even_when_every_hash_collides(collide, monkeypatch):
    # the hash only buckets rows; equality is decided entry by entry, so forcing every fingerprint equal
    # (a collision on every pair) must give the partition np.unique gives, -0.0 equal to 0.0
    from initlab.diagnose import stats
    if collide:
        monkeypatch.setattr(stats, "_fingerprints", lambda rows: np.zeros(len(rows), dtype=np.uint64))
    rng = np.random.default_rng(1)
    for _ in range(50):
        rows = rng.integers(-1, 2, size=(int(rng.integers(1, 25)), int(rng.integers(1, 4)))).astype(float)
        rows[rows == 0] *= np.where(rng.random(np.count_nonzero(rows == 0)) < 0.5, -1.0, 1.0)  # some -0.0
        expected = np.unique(rows + 0.0, axis=0, return_inverse=True)[1].reshape(-1)
        got = stats._groups(rows)
        assert np.array_equal(expected[:, None] == expected[None, :], got[:, None] == got[None, :])
