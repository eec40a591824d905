"""Randomness is explicit: same seed -> bit-identical; Generator or int seed; dtypes; bad rng types."""

from __future__ import annotations

import numpy as np
import pytest

from initlab.init import SCHEMES, initializer

SHAPE = (20, 30)
PARAMETRISED = ["normal(std=10)", "uniform(limit=0.12)", "uniform(low=-1, high=3)", "epsilon_uniform(epsilon=0.12)",
                "he_normal(mode=fan_out)", "he_uniform(nonlinearity=tanh)",
                "kaiming_normal(a=0.2, nonlinearity=leaky_relu)", "xavier_uniform(gain=1.41)",
                "truncated_normal(std=0.5, a=-1, b=1)", "truncated_normal(std=0.5, bounds=sigma)",
                "variance_scaling(distribution=normal)", "variance_scaling(mode=fan_avg, distribution=uniform)",
                "orthogonal(gain=2)", "constant(value=0.3)"]
ALL_SPECS = [*SCHEMES, *PARAMETRISED]
DETERMINISTIC = {"zeros", "ones", "constant", "constant(value=0.3)", "identity", "dirac"}
RANDOM_SPECS = [s for s in ALL_SPECS if s not in DETERMINISTIC]
SHAPE_OF = {"dirac": (3, 20, 30)}  # a convolution kernel (3 to 5 dimensions)


def shape_of(spec):
    return SHAPE_OF.get(spec, SHAPE)


@pytest.mark.parametrize("spec", ALL_SPECS)
def test_same_int_seed_gives_bit_identical_weights(spec):
    init = initializer(spec)
    assert np.array_equal(init(shape_of(spec), rng=123), init(shape_of(spec), rng=123))


@pytest.mark.parametrize("spec", RANDOM_SPECS)
def test_different_seeds_give_different_weights(spec):
    init = initializer(spec)
    a, b = init(SHAPE, rng=123), init(SHAPE, rng=124)
    assert not np.any((a == b) & (a != 0)), "independent continuous draws should share no value (sparse: but 0)"


@pytest.mark.parametrize("spec", RANDOM_SPECS)
def test_int_seed_equals_passing_default_rng_of_that_seed(spec):
    init = initializer(spec)
    assert np.array_equal(init(SHAPE, rng=77), init(SHAPE, rng=np.random.default_rng(77)))


def test_a_shared_generator_advances_between_draws():
    init, rng = initializer("he_normal"), np.random.default_rng(0)
    assert not np.array_equal(init(SHAPE, rng), init(SHAPE, rng))


@pytest.mark.parametrize("spec", ALL_SPECS)
def test_exact_float32_weights_are_the_float64_draw_cast(spec):
    init = initializer(spec)
    w32, w64 = init(shape_of(spec), rng=5, dtype=np.float32, exact=True), init(shape_of(spec), rng=5, dtype=np.float64)
    assert w32.dtype == np.float32 and w64.dtype == np.float64
    assert np.array_equal(w32, w64.astype(np.float32))


def test_dtype_given_as_string_is_accepted():
    assert initializer("he_normal")(SHAPE, rng=0, dtype="float32").dtype == np.float32


@pytest.mark.parametrize("dtype", [np.int64, "int8", "complex128", "nonsense", "float128"])
def test_non_float32_64_dtype_is_a_value_error_naming_dtype(dtype):
    with pytest.raises(ValueError, match="dtype"):
        initializer("he_normal")(SHAPE, rng=0, dtype=dtype)


@pytest.mark.parametrize("rng", [None, 1.5, "0", np.random.RandomState(0), True])
def test_rng_that_is_not_an_int_or_generator_is_a_type_error(rng):
    with pytest.raises(TypeError, match="rng"):
        initializer("he_normal")(SHAPE, rng=rng)


def test_negative_seed_is_a_value_error():
    with pytest.raises(ValueError, match=r"rng.*-1"):
        initializer("he_normal")(SHAPE, rng=-1)


def test_numpy_integer_seed_is_accepted():
    init = initializer("he_normal")
    assert np.array_equal(init(SHAPE, rng=np.int64(3)), init(SHAPE, rng=3))


def test_shape_with_a_zero_dimension_gives_an_empty_array_without_drawing():
    init, rng = initializer("he_normal"), np.random.default_rng(0)
    with pytest.warns(UserWarning, match=r"^Initializing zero-element tensors is a no-op \(shape \[0, 5\]\)$"):
        empty = init((0, 5), rng)
    assert empty.shape == (0, 5) and empty.dtype == np.float64
    assert np.array_equal(init(SHAPE, rng), init(SHAPE, 0))  # the generator was not advanced


def test_bare_int_shape_means_one_dimension():
    assert initializer("normal")(7, rng=0).shape == (7,)
