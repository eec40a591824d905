"""Layouts and shapes: an initializer is bound to one layout; shapes are validated; known defects."""

from __future__ import annotations

import numpy as np
import pytest

from initlab.init import fans, initializer


def test_torch_layout_initializer_equals_numpy_layout_on_the_transposed_shape_for_fan_laws():
    # Same seed, same fans: the torch-layout draw of (250, 400) has exactly the numpy draw's law
    # and, since values are drawn in C order over the shape, the same numbers reshaped.
    for spec in ["he_normal", "xavier_uniform", "variance_scaling(mode=fan_out)", "torch_default"]:
        numpy_w = initializer(spec)((400, 250), rng=3)
        torch_w = initializer(spec, layout="torch")((250, 400), rng=3)
        assert initializer(spec).moments((400, 250)) == initializer(spec, layout="torch").moments((250, 400))
        np.testing.assert_array_equal(numpy_w.ravel(), torch_w.ravel())


def test_torch_layout_4d_kernel_uses_in_times_receptive_field_as_fan_in():
    init = initializer("he_normal", layout="torch")
    assert init.moments((32, 16, 3, 3)) == pytest.approx((0.0, (2.0 / 144) ** 0.5), rel=1e-15)
    assert initializer("he_normal").moments((3, 3, 16, 32)) == init.moments((32, 16, 3, 3))


def test_fan_override_replaces_the_fans_of_the_shape():
    init = initializer("he_normal")
    assert init.moments((10,), fan=fans((400, 250)))[1] == pytest.approx((2 / 400) ** 0.5)
    w = init((100_000,), rng=0, fan=fans((8, 3)))
    assert abs(w.std() - 0.5) < 6 * 0.5 / (2 * 100_000) ** 0.5  # se of a normal sample std: sigma/sqrt(2n)


def test_scalar_shape_uses_unit_fans_in_numpy_layout():
    assert initializer("he_normal").moments(()) == pytest.approx((0.0, 2 ** 0.5))
    assert np.shape(initializer("he_normal")((), rng=0)) == ()


def test_torch_layout_weight_without_fans_is_a_value_error_like_torch():
    with pytest.raises(ValueError, match=r"shape: torch layout needs at least 2 dimensions"):
        initializer("he_normal", layout="torch")((10,), rng=0)


# ------------------------------------------------------------------------ known defects

@pytest.mark.parametrize("spec", ["zeros", "constant(0.1)", "normal(std=0.01)", "uniform(limit=0.1)",
                                  "truncated_normal(std=0.02)"])
def test_fan_free_schemes_draw_a_1d_bias_in_torch_layout(spec):
    init = initializer(spec, layout="torch")
    assert init((10,), rng=0).shape == (10,)
    init.moments((10,))


def test_initializer_rebinds_an_existing_initializer_to_the_requested_layout():
    init = initializer(initializer("he_normal"), layout="torch")
    assert init.layout == "torch"
    assert init.moments((32, 16, 3, 3)) == pytest.approx((0.0, (2.0 / 144) ** 0.5))


def test_unknown_layout_is_rejected_when_the_initializer_is_built():
    with pytest.raises(ValueError, match=r"layout.*'tf'"):
        initializer("he_normal", layout="tf")


@pytest.mark.parametrize("spec", ["normal", "he_normal", "xavier_normal", "truncated_normal"])
def test_scalar_shape_gives_a_zero_dimensional_ndarray(spec):
    w = initializer(spec)((), rng=0)
    assert isinstance(w, np.ndarray) and w.shape == ()


def test_numpy_integer_dims_are_accepted_in_shapes():
    assert initializer("he_normal")((np.int64(3), 4), rng=0).shape == (3, 4)
