"""Features of the peers (PyTorch, Keras, JAX): explicit fan axes, fan_geo_avg, dirac, sparse, Glorot &
Bengio's "standard" init, low-precision outputs and direct float32 draws, each against a hand computation
or the peer's own function (torch) or formula (Keras, JAX: not installed; their source is cited)."""

from __future__ import annotations

import math

import ml_dtypes
import numpy as np
import pytest
import torch

from _initlab_init_stats import KURTOSIS_NORMAL, assert_sample_moments
from initlab.init import FanAxes, canonical, fans, initializer

# ------------------------------------------------------------------------------------------- fan axes


def jax_compute_fans(shape, in_axis=-2, out_axis=-1, batch_axis=()):
    """jax/_src/nn/initializers.py `_compute_fans` (jax-v0.11.0, lines 215-248), transcribed."""
    def size(axes):
        return shape[axes] if isinstance(axes, int) else math.prod(shape[i] for i in axes)
    receptive = math.prod(shape) / size(in_axis) / size(out_axis) / size(batch_axis)
    return size(in_axis) * receptive, size(out_axis) * receptive


@pytest.mark.parametrize(("shape", "axes"), [
    ((32, 8, 16), dict(in_axis=0, out_axis=(1, 2))),                   # Keras MHA query kernel
    ((8, 16, 32), dict(in_axis=(0, 1), out_axis=2)),                   # Keras MHA output kernel
    ((3, 3, 16, 32), {}),                                              # JAX's defaults: Keras conv layout
    ((32, 16, 3, 3), dict(in_axis=1, out_axis=0)),                     # torch conv layout
    ((5, 3, 3, 16, 32), dict(batch_axis=0)),                           # a batch of 5 kernels
    ((4, 6, 7), dict(in_axis=-1, out_axis=-3, batch_axis=(1,))),
])
def test_fan_axes_give_jaxs_fans(shape, axes):
    spec = "variance_scaling" + (f"({', '.join(f'{k}={v}' for k, v in axes.items())})" if axes else "(in_axis=-2)")
    ours = initializer(spec).fans(shape)
    assert tuple(ours) == pytest.approx(jax_compute_fans(shape, **axes), rel=1e-15)


def test_keras_input_output_axes_are_jax_axes_with_the_rest_as_batch():
    # keras/src/initializers/random_initializers.py compute_fans (v3.15.1, lines 663-682): with input_axes and
    # output_axes, fan_in = prod(input axes), fan_out = prod(output axes); no receptive field.
    assert FanAxes(in_axis=(2,), out_axis=(3,), batch_axis=(0, 1)).fans((3, 3, 16, 32)) == (16, 32)


def test_attention_kernel_gets_keras_std_with_its_axes_and_the_dense_reshape_without():
    # Keras' MultiHeadAttention query kernel (d_model=32, heads=8, head_dim=16): EinsumDense sets input_axes=[0],
    # output_axes=[1, 2] (keras/src/layers/core/einsum_dense.py v3.15.1, lines 187-197), so VarianceScaling()
    # (scale 1, fan_in) has std sqrt(1/32) = 0.177. Without axes the (fan_in, fan_out) reshape gives 1/sqrt(256).
    shape = (32, 8, 16)
    default = initializer("variance_scaling")
    with_axes = initializer("variance_scaling(in_axis=0, out_axis=(1, 2))")
    assert default.moments(shape)[1] == pytest.approx(1 / 16, rel=1e-12)          # 0.0625: fan_in 8 * 32
    assert with_axes.moments(shape)[1] == pytest.approx(math.sqrt(1 / 32), rel=1e-12)  # 0.1768
    sample = initializer("variance_scaling(in_axis=0, out_axis=(1, 2), distribution=normal)")((320, 80, 16), rng=3)
    assert_sample_moments(sample, 0.0, math.sqrt(1 / 320), KURTOSIS_NORMAL)


def test_spec_axes_print_canonically_and_round_trip():
    spec = canonical("variance_scaling(out_axis=(1, 2), in_axis=0)")
    assert str(spec) == "variance_scaling(in_axis=0, out_axis=(1, 2))"
    assert canonical(str(spec)) == spec
    assert str(canonical("he_normal(batch_axis=(0,))")) == "he_normal(batch_axis=(0,))"


def test_without_axes_the_fans_are_the_layouts_as_before():
    init = initializer("he_normal")
    assert init.axes is None and init.fans((3, 3, 16, 32)) is None
    assert init.moments((3, 3, 16, 32)) == pytest.approx((0.0, math.sqrt(2 / 144)), rel=1e-15)
    assert initializer("he_normal", layout="torch").moments((32, 16, 3, 3)) == init.moments((3, 3, 16, 32))


def test_axes_override_the_layout_and_a_given_fan():
    init = initializer("lecun_normal(in_axis=1, out_axis=0)")
    assert init.moments((8, 50), fan=fans((1000, 1)))[1] == pytest.approx(math.sqrt(1 / 50))


@pytest.mark.parametrize(("spec", "message"), [
    ("lecun_normal(in_axis=2)", r"^in_axis: axis 2 is out of range for shape \[4, 5\] \(2 dimensions\)$"),
    ("lecun_normal(in_axis=(0, 0))", r"^in_axis: axis 0 of shape \[4, 5\] is already in_axis"),
    ("lecun_normal(out_axis=-2)", r"^out_axis: axis -2 of shape \[4, 5\] is already in_axis"),
])
def test_bad_axes_are_refused_at_the_draw_naming_the_axis_argument(spec, message):
    with pytest.raises(ValueError, match=message):
        initializer(spec)((4, 5), rng=0)


@pytest.mark.parametrize(("spec", "message"), [
    ("lecun_normal(in_axis=0.5)", "in_axis: expected an axis or a tuple of axes"),
    ("lecun_normal(out_axis=())", "out_axis: expected at least one axis"),
    ("lecun_normal(in_axis=true)", "in_axis: expected an axis"),
    ("lecun_normal(in_axis=((1, 2), 3))", "is not a number, true/false, a word or a tuple of numbers"),
    ("orthogonal(in_axis=0)", "'orthogonal' has no parameter 'in_axis'"),
])
def test_bad_axis_values_are_refused_when_the_initializer_is_built(spec, message):
    with pytest.raises(ValueError, match=message):
        initializer(spec)


# ------------------------------------------------------------------------------ other schemes


@pytest.mark.parametrize(("shape", "groups"), [((8, 4, 3, 3), 2), ((6, 6, 5), 1), ((4, 2, 3, 2, 3), 1), ((3, 5, 3, 3), 1)])
def test_dirac_is_torchs_dirac_in_torch_layout_and_its_transpose_in_numpy_layout(shape, groups):
    expected = torch.nn.init.dirac_(torch.empty(shape, dtype=torch.float64), groups).numpy()
    ours = initializer(f"dirac(groups={groups})", layout="torch")(shape, rng=0)
    assert np.array_equal(ours, expected)
    keras_shape = (*shape[2:], shape[1], shape[0])
    numpy_layout = initializer(f"dirac(groups={groups})")(keras_shape, rng=0)
    assert np.array_equal(numpy_layout, np.moveaxis(expected, (0, 1), (-1, -2)))


def test_sparse_has_ceil_sparsity_zeros_per_input_in_both_layouts():
    w = initializer("sparse(sparsity=0.3)", layout="torch")((10, 40), rng=1)  # (out, in): columns are inputs
    assert ((w == 0).sum(axis=0) == math.ceil(0.3 * 10)).all()
    w = initializer("sparse(sparsity=0.3)")((40, 10), rng=1)                # (in, out): rows are inputs
    assert ((w == 0).sum(axis=1) == math.ceil(0.3 * 10)).all()


def test_glorot_standard_is_the_papers_u_of_one_over_sqrt_n():
    # Glorot & Bengio 2010, eq. 1: W ~ U[-1/sqrt(n), 1/sqrt(n)], n = the previous layer's size (fan_in).
    w = initializer("glorot_standard")((400, 250), rng=2)
    assert np.abs(w).max() <= 1 / math.sqrt(400) and np.abs(w).max() > 0.999 / math.sqrt(400)
    assert initializer("glorot_standard").moments((400, 250))[1] == pytest.approx(1 / math.sqrt(3 * 400), rel=1e-12)


@pytest.mark.parametrize("spec", [None, np.zeros(3), 1.5, 3, ["he_normal"]])
def test_a_spec_that_is_not_a_string_is_a_type_error_naming_init(spec):
    with pytest.raises(TypeError, match=r"^init: expected a spec string like 'he_normal'"):
        initializer(spec)


# ---------------------------------------------------------------------------------- dtypes


def test_float32_is_drawn_in_float32_directly_unless_exact():
    # The direct draw is NumPy's float32 ziggurat scaled in float32 (hand computation below); exact=True is the
    # float64 draw rounded. The two differ: they are different streams.
    std = np.float32(math.sqrt(2 / 300))
    direct = initializer("he_normal")((300, 40), rng=4, dtype="float32")
    assert np.array_equal(direct, np.random.default_rng(4).standard_normal((300, 40), dtype=np.float32) * std)
    exact = initializer("he_normal")((300, 40), rng=4, dtype="float32", exact=True)
    assert np.array_equal(exact, (np.random.default_rng(4).standard_normal((300, 40)) * math.sqrt(2 / 300))
                          .astype(np.float32))
    assert not np.array_equal(direct, exact)


def test_uniform_float32_direct_draw_is_low_plus_width_times_a_float32_uniform():
    bound = math.sqrt(6 / (300 + 40))
    ours = initializer("xavier_uniform")((300, 40), rng=5, dtype="float32")
    u = np.random.default_rng(5).random((300, 40), dtype=np.float32)
    assert np.array_equal(ours, u * np.float32(2 * bound) + np.float32(-bound))


@pytest.mark.parametrize(("name", "dtype"), [("float16", np.float16), ("bfloat16", ml_dtypes.bfloat16)])
def test_low_precision_is_the_float32_draw_rounded_or_with_exact_the_float64_draw(name, dtype):
    init = initializer("he_normal")
    low = init((200, 30), rng=6, dtype=name)
    assert low.dtype == np.dtype(dtype)
    assert np.array_equal(low, init((200, 30), rng=6, dtype="float32").astype(dtype))
    assert np.array_equal(init((200, 30), rng=6, dtype=name, exact=True), init((200, 30), rng=6).astype(dtype))


def test_truncated_and_orthogonal_laws_round_the_float64_draw_whatever_exact_says():
    for spec in ("variance_scaling", "orthogonal"):
        init = initializer(spec)
        assert np.array_equal(init((20, 30), rng=7, dtype="float32"), init((20, 30), rng=7).astype(np.float32))


def test_exact_must_be_a_bool():
    with pytest.raises(ValueError, match=r"^exact: expected true or false, got 'yes'$"):
        initializer("he_normal")((2, 2), rng=0, exact="yes")
