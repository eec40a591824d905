"""Synthetic datasets through `initlab.data.load`: shapes, balance, determinism, semantics, errors."""

import numpy as np
import pytest

from initlab.data import DATASETS, load

TWO_CLASS_2D = ["circles", "moons", "xor", "spirals", "blobs"]


@pytest.mark.parametrize("spec", TWO_CLASS_2D)
def test_two_class_sets_have_shape_dtype_and_balanced_labels(spec):
    X, y = load(spec, n_samples=200, seed=3)
    assert X.shape == (200, 2) and X.dtype == np.float64 and X.flags.c_contiguous
    assert y.shape == (200,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [100, 100]


@pytest.mark.parametrize("spec", [*TWO_CLASS_2D, "gaussian:4", "spirals:3", "blobs:4"])
def test_same_seed_is_bit_identical_and_other_seed_differs(spec):
    X1, y1 = load(spec, n_samples=60, seed=7)
    X2, y2 = load(spec, n_samples=60, seed=7)
    X3, _ = load(spec, n_samples=60, seed=8)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


def test_generator_seed_gives_same_data_as_equal_int_seed_generator():
    X1, _ = load("moons", n_samples=30, seed=np.random.default_rng(5))
    X2, _ = load("moons", n_samples=30, seed=np.random.default_rng(5))
    assert np.array_equal(X1, X2)


def test_load_leaves_global_numpy_random_state_untouched():
    before = np.random.get_state()[1].copy()
    load("xor", n_samples=50, seed=1)
    load("circles", n_samples=50, seed=1)
    assert np.array_equal(np.random.get_state()[1], before)


def test_circles_without_noise_lie_on_radius_one_and_one_half():
    X, y = load("circles", n_samples=100, noise=0.0, seed=0)
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius[y == 0], 1.0, atol=1e-12)
    np.testing.assert_allclose(radius[y == 1], 0.5, atol=1e-12)


def test_circles_default_noise_is_0_05():
    X, y = load("circles", n_samples=2000, seed=0)
    residual = np.hypot(X[:, 0], X[:, 1])[y == 0] - 1.0
    assert 0.04 < residual.std() < 0.06


def test_moons_noise_changes_points_but_not_labels():
    X0, y0 = load("moons", n_samples=50, noise=0.0, seed=2)
    X1, y1 = load("moons", n_samples=50, noise=0.3, seed=2)
    assert np.array_equal(y0, y1)
    assert not np.allclose(X0, X1)


def test_xor_without_noise_labels_one_where_signs_differ_and_inputs_in_square():
    X, y = load("xor", n_samples=400, noise=0.0, seed=4)
    assert np.abs(X).max() <= 1.0
    assert np.array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(np.int64))
    quadrants = np.bincount((X[:, 0] > 0) * 2 + (X[:, 1] > 0), minlength=4)
    assert quadrants.min() > 70  # each of the 4 quadrants gets ~100 points


def test_xor_noise_is_added_to_inputs():
    X, y = load("xor", n_samples=2000, noise=0.5, seed=4)
    assert np.abs(X).max() > 1.2
    assert np.bincount(y).tolist() == [1000, 1000]


def test_spirals_k_arms_give_k_balanced_classes_within_unit_disk():
    X, y = load("spirals:3", n_samples=301, noise=0.0, seed=0)
    assert np.bincount(y).tolist() == [101, 100, 100]
    assert np.hypot(X[:, 0], X[:, 1]).max() <= 1.0 + 1e-12


def test_spirals_without_noise_have_angle_determined_by_radius_and_arm():
    X, y = load("spirals:2", n_samples=40, noise=0.0, seed=0)
    r = np.hypot(X[:, 0], X[:, 1])
    expected = 2 * np.pi * y / 2 + 2 * np.pi * r
    np.testing.assert_allclose(X, r[:, None] * np.column_stack([np.cos(expected), np.sin(expected)]), atol=1e-12)


def test_blobs_k_centers_give_k_classes():
    X, y = load("blobs:4", n_samples=100, seed=0)
    assert X.shape == (100, 2) and np.bincount(y).tolist() == [25, 25, 25, 25]


def test_blobs_noise_is_cluster_std():
    X, y = load("blobs", n_samples=4000, noise=0.5, seed=0)
    stds = [X[y == k].std(axis=0) for k in (0, 1)]
    np.testing.assert_allclose(stds, 0.5, rtol=0.1)


def test_gaussian_d_has_d_standard_normal_features_and_balanced_labels():
    X, y = load("gaussian:20", n_samples=1000, seed=0)
    assert X.shape == (1000, 20)
    assert abs(X.mean()) < 0.02 and abs(X.std() - 1) < 0.02
    assert np.bincount(y).tolist() == [500, 500]


def test_datasets_lists_every_spec_name():
    assert DATASETS == ("circles", "moons", "blobs", "spirals", "xor", "gaussian", "teacher", "digits", "images",
                        "file")


def test_unknown_dataset_suggests_the_close_name():
    with pytest.raises(ValueError, match=r"^data: unknown dataset 'circels' \(did you mean 'circles'\?\)"):
        load("circels")


@pytest.mark.parametrize("n_samples", [0, -3, 2.5, True, "10"])
def test_n_samples_must_be_a_positive_integer(n_samples):
    with pytest.raises(ValueError, match=rf"^n_samples: expected a positive integer, got {n_samples!r}"):
        load("moons", n_samples=n_samples)


@pytest.mark.parametrize("noise", [-1, float("nan"), float("inf"), "0.1"])
def test_noise_must_be_a_non_negative_number(noise):
    with pytest.raises(ValueError, match=r"^noise: expected a non-negative number, got "):
        load("moons", noise=noise)


def test_noise_message_shows_the_value():
    with pytest.raises(ValueError, match=r"^noise: expected a non-negative number, got -1$"):
        load("moons", noise=-1)


def test_noise_is_refused_for_a_set_without_noise():
    with pytest.raises(ValueError, match=r"^noise: dataset 'gaussian' has no noise setting.*got 0.1"):
        load("gaussian:3", noise=0.1)


def test_image_size_is_refused_for_non_image_sets():
    with pytest.raises(ValueError, match=r"^image_size: only 'images:PATH'.*'moons'.*got 8"):
        load("moons", image_size=8)


@pytest.mark.parametrize("spec, param", [("blobs:1", "centers"), ("spirals:x", "arms"), ("gaussian:0", "n_features")])
def test_bad_parameter_names_spec_rule_and_value(spec, param):
    value = spec.split(":")[1]
    with pytest.raises(ValueError, match=rf"^data: '{spec}': {param} must be an integer >= \d, got '{value}'$"):
        load(spec)


def test_parameter_on_a_set_without_parameter_is_refused():
    with pytest.raises(ValueError, match=r"^data: dataset 'moons' takes no parameter, got 'moons:3'$"):
        load("moons:3")


def test_fewer_samples_than_classes_is_refused():
    with pytest.raises(ValueError, match=r"^n_samples: 'spirals:5' has 5 classes.*got 3$"):
        load("spirals:5", n_samples=3)


def test_negative_seed_is_refused():
    with pytest.raises(ValueError, match=r"^seed: expected an integer seed in \[0, 2\*\*63 - 1\], got -1"):
        load("moons", seed=-1)


def test_non_string_spec_is_a_type_error():
    with pytest.raises(TypeError, match=r"^data: expected a dataset spec string"):
        load(3)
