"""Bad arrays given to the Python API are refused at the boundary, before any training: a
ValueError or TypeError whose message names the argument (X, y, X_test, y_test), the rule and
the value, and the network is left exactly as it was."""

import numpy as np
import pytest

from initlab.diagnose import diagnose_mlp
from initlab.experiments import CompareConfig, Dataset, run_compare
from initlab.nn import MLP, train
from initlab.nn.ensemble import train_many

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y = np.array([0, 1, 1, 0])

BAD = [  # (keyword arguments, exception type, pattern naming argument + rule + value)
    ({"X": np.array([[np.nan, 0.0]] * 4)}, ValueError,
     r"^X: expected finite numbers, got 4 NaN or infinite value\(s\) \(first at row 0, column 0: nan\)$"),
    ({"X": np.array([[0.0, 1.0], [0.0, np.inf], [1.0, 0.0], [1.0, 1.0]])}, ValueError,
     r"^X: expected finite numbers, got 1 NaN .* \(first at row 1, column 1: inf\)$"),
    ({"X": np.zeros((0, 2)), "y": np.zeros(0)}, ValueError,
     r"^X: expected a non-empty 2-D array \(n_samples, 2\), got shape \(0, 2\)$"),
    ({"X": np.zeros(4)}, ValueError, r"^X: expected a 2-D array \(n_samples, 2\), got shape \(4,\)$"),
    ({"X": np.array([["a", "b"]] * 4)}, TypeError, r"^X: expected an array of real numbers, got dtype <U1$"),
    ({"X": [[0.0, 1.0], [2.0]], "y": [0, 1]}, ValueError, r"^X: expected a 2-D array .*rows of different lengths$"),
    ({"y": np.array([0.0, np.nan, 1.0, 0.0])}, ValueError,
     r"^y: expected finite labels or targets, got 1 NaN or infinite value\(s\) \(first at row 1\)$"),
    ({"y": np.array(["cat", "dog", "dog", "cat"])}, TypeError,
     r"^y: expected integer class labels or real numbers, got dtype <U3$"),
    ({"y": Y[:3]}, ValueError, r"^y: expected 4 targets \(one per row of the inputs\), got shape \(3,\)$"),
    ({"X_test": X}, ValueError, r"^X_test: given without y_test; pass both or neither$"),
    ({"y_test": Y}, ValueError, r"^y_test: given without X_test; pass both or neither$"),
    ({"X_test": np.zeros((4, 3)), "y_test": Y}, ValueError,
     r"^X_test: expected a 2-D array \(n_samples, 2\), got shape \(4, 3\)$"),
    ({"X_test": X, "y_test": np.array([0, 1, np.nan, 0])}, ValueError, r"^y_test: expected finite labels"),
    ({"X_test": X, "y_test": np.array([0, 1, 7, 0])}, ValueError, r"^y_test: sigmoid output with 2 classes .*\[7\]"),
]


def _weights(net):
    return [p.copy() for p in net.flat_params()]


@pytest.mark.parametrize(("kwargs", "kind", "pattern"), BAD)
def test_train_refuses_bad_arrays_before_any_update(kwargs, kind, pattern):
    net = MLP([2, 4, 1], activation="tanh", init="he_normal", seed=0)
    before = _weights(net)
    arguments = {"X": X, "y": Y, **kwargs}
    with pytest.raises(kind, match=pattern):
        train(net, arguments.pop("X"), arguments.pop("y"), iterations=5, lr=0.5, **arguments)
    assert all((a == b).all() for a, b in zip(before, _weights(net)))  # not one step was taken


@pytest.mark.parametrize(("kwargs", "kind", "pattern"), BAD)
def test_train_many_refuses_the_same_arrays_with_the_same_messages(kwargs, kind, pattern):
    nets = [MLP([2, 4, 1], activation="tanh", init="he_normal", seed=s) for s in (0, 1)]
    before = [_weights(n) for n in nets]
    arguments = {"X": X, "y": Y, **kwargs}
    with pytest.raises(kind, match=pattern):
        train_many(nets, arguments.pop("X"), arguments.pop("y"), iterations=5, lr=0.5, backend="numpy", **arguments)
    assert all((a == b).all() for net, old in zip(nets, before) for a, b in zip(old, _weights(net)))


def test_float32_network_refuses_inputs_beyond_its_range():
    net = MLP([2, 4, 1], dtype="float32")
    with pytest.raises(ValueError, match=r"^X: expected values within float32's range \(\+-3.4e\+38\), got 1e\+300"):
        train(net, np.full((4, 2), 1e300), Y, iterations=1)


def test_predict_and_diagnose_refuse_non_finite_inputs():
    net = MLP([2, 4, 1], seed=0)
    with pytest.raises(ValueError, match=r"^X: expected finite numbers"):
        net.predict(np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match=r"^X: expected finite numbers"):
        diagnose_mlp(net, np.array([[np.inf, 1.0]] * 4), Y)
    with pytest.raises(TypeError, match=r"^y: expected integer class labels or real numbers, got dtype <U1"):
        diagnose_mlp(net, X, np.array(list("abab")))


@pytest.mark.parametrize(("arrays", "pattern"), [
    ({"X_train": np.array([[np.nan, 0.0]] * 4)}, r"^X_train: expected finite numbers"),
    ({"X_train": np.zeros((0, 2)), "y_train": np.zeros(0, dtype=int)}, r"^X_train: expected a non-empty 2-D array"),
    ({"y_train": np.array([0.0, np.nan, 1.0, 0.0])}, r"^y_train: expected finite labels"),
    ({"X_test": np.zeros((2, 3))}, r"^X_test: expected a 2-D array \(n_samples, 2\), got shape \(2, 3\)$"),
    ({"y_test": np.array([0])}, r"^y_test: expected 2 targets \(one per row of the inputs\), got shape \(1,\)$"),
])
def test_run_compare_refuses_a_bad_dataset_when_it_is_built(arrays, pattern):
    fields = {"X_train": X, "y_train": Y, "X_test": X[:2], "y_test": Y[:2], **arrays}
    with pytest.raises(ValueError, match=pattern):
        Dataset(**fields)


def test_run_compare_with_an_empty_test_set_is_accepted_and_trains():
    data = Dataset(X, Y, X[:0], Y[:0])
    result = run_compare(CompareConfig(inits=("he_normal",), seeds=1, iterations=3, hidden=(3,)), data)
    assert len(result.runs) == 1 and result.runs[0].result.test_accuracy is None


@pytest.mark.parametrize(("field", "value", "pattern"), [
    ("seeds", 10**10, r"^seeds: expected a positive integer <= 1000000000, got 10000000000$"),
    ("iterations", 10**30, r"^iterations: expected a positive integer <= 1000000000, got 10{30}$"),
    ("n_samples", 2**64, r"^n_samples: expected a positive integer <= 1000000000, got 18446744073709551616$"),
    ("data_seed", 10**23, r"^data_seed: expected a non-negative integer <= 9223372036854775807, got 10{23}$"),
    ("first_seed", 2**63 - 1, r"^first_seed: expected a non-negative integer <= 9223372036854775807, got 9223372036854775811$"),
])
def test_compare_config_refuses_integers_above_the_documented_bounds(field, value, pattern):
    with pytest.raises(ValueError, match=pattern):
        CompareConfig(**{field: value})
