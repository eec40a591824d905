"""`train_test_split` (deterministic, stratified) and `standardize` (train statistics only)."""

import numpy as np
import pytest

from initlab.data import load, standardize, train_test_split


def _unbalanced():
    y = np.array([0] * 60 + [1] * 30 + [2] * 10)
    X = np.arange(200.0).reshape(100, 2)
    return X, y


def test_split_sizes_follow_test_fraction_and_rows_stay_paired():
    X, y = _unbalanced()
    X_train, y_train, X_test, y_test = train_test_split(X, y, test_fraction=0.3, seed=0)
    assert X_train.shape == (70, 2) and X_test.shape == (30, 2)
    assert y_train.shape == (70,) and y_test.shape == (30,)
    both = np.concatenate([X_train, X_test])
    assert sorted(both[:, 0].tolist()) == X[:, 0].tolist()  # a permutation, nothing lost or repeated
    labels = np.concatenate([y_train, y_test])
    np.testing.assert_array_equal(labels, y[(both[:, 0] // 2).astype(int)])  # X row i still has label y[i]


def test_split_is_stratified_for_integer_labels():
    X, y = _unbalanced()
    _, y_train, _, y_test = train_test_split(X, y, test_fraction=0.3, seed=5)
    assert np.bincount(y_test).tolist() == [18, 9, 3]
    assert np.bincount(y_train).tolist() == [42, 21, 7]


def test_split_same_seed_is_identical_and_other_seed_differs():
    X, y = load("moons", n_samples=100, seed=0)
    a = train_test_split(X, y, seed=3)
    b = train_test_split(X, y, seed=3)
    c = train_test_split(X, y, seed=4)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not np.array_equal(a[2], c[2])


def test_split_float_targets_are_not_stratified_but_split():
    X = np.arange(20.0).reshape(10, 2)
    y = np.linspace(0.1, 1.0, 10)
    X_train, y_train, X_test, y_test = train_test_split(X, y, test_fraction=0.2)
    assert X_test.shape == (2, 2) and y_test.dtype == np.float64
    np.testing.assert_array_equal(y_test, y[(X_test[:, 0] // 2).astype(int)])


def test_zero_test_fraction_returns_everything_for_training_and_empty_test_arrays():
    X, y = _unbalanced()
    X_train, y_train, X_test, y_test = train_test_split(X, y, test_fraction=0)
    np.testing.assert_array_equal(X_train, X)
    np.testing.assert_array_equal(y_train, y)
    assert X_test.shape == (0, 2) and y_test.shape == (0,) and y_test.dtype == y.dtype


@pytest.mark.parametrize("fraction", [1, 1.0, -0.1, 2, "0.2", True, float("nan")])
def test_test_fraction_must_be_in_zero_one(fraction):
    X, y = _unbalanced()
    with pytest.raises(ValueError, match=r"^test_fraction: expected a number in \[0, 1\), got "):
        train_test_split(X, y, test_fraction=fraction)


def test_split_leaving_no_training_rows_is_reported():
    X, y = np.zeros((4, 1)), np.linspace(0, 1, 4)
    with pytest.raises(ValueError, match=r"^test_fraction: 0.9 of 4 rows leaves no rows for training$"):
        train_test_split(X, y, test_fraction=0.9)


def test_stratified_split_with_a_singleton_class_is_reported():
    X, y = np.zeros((5, 1)), np.array([0, 0, 1, 1, 2])
    with pytest.raises(ValueError, match=r"^y: class 2 has only 1 sample"):
        train_test_split(X, y)


def test_stratified_split_with_fewer_test_rows_than_classes_is_reported():
    X, y = _unbalanced()
    with pytest.raises(ValueError, match=r"^test_fraction: 0.01 of 100 rows gives 1 test and 99 training rows, fewer than the 3 classes"):
        train_test_split(X, y, test_fraction=0.01)


def test_split_shape_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"^X: expected a 2-D array .*got shape \(4,\)$"):
        train_test_split(np.zeros(4), np.zeros(4))
    with pytest.raises(ValueError, match=r"^y: expected a 1-D array .*2-D float targets .*got shape \(4, 1\) of int64$"):
        train_test_split(np.zeros((4, 2)), np.zeros((4, 1), dtype=np.int64))
    with pytest.raises(ValueError, match=r"^y: expected a 1-D array .*got shape \(4, 1, 1\) of float64$"):
        train_test_split(np.zeros((4, 2)), np.zeros((4, 1, 1)))
    with pytest.raises(ValueError, match=r"^y: expected 4 labels to match the rows of X, got 3$"):
        train_test_split(np.zeros((4, 2)), np.zeros(3))


def test_standardize_gives_train_mean_zero_std_one_and_applies_train_stats_to_test():
    rng = np.random.default_rng(0)
    X_train = rng.normal(loc=[5.0, -3.0], scale=[2.0, 0.1], size=(200, 2))
    X_test = rng.normal(loc=[5.0, -3.0], scale=[2.0, 0.1], size=(50, 2))
    train_s, test_s = standardize(X_train, X_test)
    np.testing.assert_allclose(train_s.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(train_s.std(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose(test_s, (X_test - X_train.mean(0)) / X_train.std(0), rtol=1e-12)
    assert not np.allclose(test_s.mean(axis=0), 0.0, atol=1e-12)  # test data is not re-centred


def test_standardize_constant_column_is_divided_by_one():
    X_train = np.array([[0.1, 1.0], [0.1, 3.0], [0.1, 5.0]])
    train_s, test_s = standardize(X_train, np.array([[1.1, 3.0]]))
    np.testing.assert_allclose(train_s[:, 0], 0.0, atol=1e-15)
    np.testing.assert_allclose(test_s[0], [1.0, 0.0], atol=1e-12)
    assert np.all(np.isfinite(train_s))


def test_standardize_accepts_an_empty_test_set():
    train_s, test_s = standardize(np.array([[1.0], [3.0]]), np.zeros((0, 1)))
    assert train_s.tolist() == [[-1.0], [1.0]] and test_s.shape == (0, 1)


def test_standardize_shape_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"^X_train: expected a non-empty 2-D array .*got shape \(0, 2\)$"):
        standardize(np.zeros((0, 2)), np.zeros((1, 2)))
    with pytest.raises(ValueError, match=r"^X_test: expected a 2-D array with 2 columns like X_train, got shape \(1, 3\)$"):
        standardize(np.zeros((2, 2)), np.zeros((1, 3)))
