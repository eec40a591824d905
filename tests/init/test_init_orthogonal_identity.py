"""orthogonal: (semi-)orthogonal to 1e-6 in every layout and rank; identity: exact values."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from initlab.init import initializer

ATOL = 1e-6


def assert_gram_is_scaled_identity(matrix, gain):
    rows, cols = matrix.shape
    gram = matrix.T @ matrix if rows >= cols else matrix @ matrix.T
    np.testing.assert_allclose(gram, gain**2 * np.eye(min(rows, cols)), rtol=0, atol=ATOL * gain**2)


@pytest.mark.parametrize("gain", [1.0, 2.0, 0.5])
def test_orthogonal_tall_matrix_has_orthonormal_columns_times_gain(gain):
    w = initializer(f"orthogonal(gain={gain})")((400, 250), rng=1)
    assert_gram_is_scaled_identity(w, gain)


@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_orthogonal_wide_matrix_has_orthonormal_rows_times_gain(gain):
    w = initializer(f"orthogonal(gain={gain})")((250, 400), rng=2)
    assert_gram_is_scaled_identity(w, gain)


def test_orthogonal_square_matrix_is_orthogonal_both_ways():
    w = initializer("orthogonal(gain=2)")((64, 64), rng=3)
    np.testing.assert_allclose(w.T @ w, 4 * np.eye(64), atol=4 * ATOL)
    np.testing.assert_allclose(w @ w.T, 4 * np.eye(64), atol=4 * ATOL)


def test_orthogonal_torch_layout_conv_kernel_has_orthonormal_filters_like_torch():
    # torch.nn.init.orthogonal_ views (out, in, kh, kw) as an (out, in*kh*kw) matrix.
    w = initializer("orthogonal(gain=2)", layout="torch")((32, 16, 3, 3), rng=4)
    assert w.shape == (32, 16, 3, 3)
    assert_gram_is_scaled_identity(w.reshape(32, -1), 2.0)
    t = torch.empty(32, 16, 3, 3, dtype=torch.float64)
    torch.nn.init.orthogonal_(t, gain=2.0, generator=torch.Generator().manual_seed(0))
    assert_gram_is_scaled_identity(t.numpy().reshape(32, -1), 2.0)  # the same property in torch


def test_orthogonal_4d_torch_kernel_is_semi_orthogonal_viewed_with_shape0_rows():
    # PyTorch's view: shape[0] rows (output channels), the rest flattened into columns.
    w = initializer("orthogonal", layout="torch")((6, 4, 3, 3), rng=5)
    assert_gram_is_scaled_identity(w.reshape(6, -1), 1.0)
    w = initializer("orthogonal", layout="torch")((64, 2, 2, 2), rng=6)  # tall: 64 rows, 8 columns
    assert_gram_is_scaled_identity(w.reshape(64, -1), 1.0)


def test_orthogonal_keras_layout_conv_kernel_has_orthonormal_output_filters():
    w = initializer("orthogonal", layout="keras")((3, 3, 16, 32), rng=7)
    assert_gram_is_scaled_identity(w.reshape(-1, 32), 1.0)  # 144 x 32: orthonormal columns


@pytest.mark.parametrize("shape", [(400, 250), (250, 400)])
def test_orthogonal_is_haar_so_diagonal_signs_are_balanced(shape):
    # Haar Q is invariant under flipping the sign of any column, so each diagonal entry is positive
    # with probability 1/2: #positive ~ Binomial(k=250, 1/2), std sqrt(k)/2. Without the sign(diag R)
    # fix, LAPACK's Householder QR makes most of them negative (about 50 of 250 positive).
    w = initializer("orthogonal")(shape, rng=8)
    k = min(shape)
    positive = int((np.diag(w) > 0).sum())
    assert abs(positive - k / 2) <= 6 * np.sqrt(k) / 2, positive


def test_orthogonal_different_seeds_give_different_matrices():
    init = initializer("orthogonal")
    assert not np.allclose(init((50, 30), rng=1), init((50, 30), rng=2))


@pytest.mark.parametrize("shape", [(3, 3), (3, 5), (5, 3), (1, 4)])
def test_identity_is_exactly_the_eye_matrix(shape):
    w = initializer("identity")(shape, rng=0)
    assert np.array_equal(w, np.eye(*shape))
    t = torch.empty(*shape[::-1], dtype=torch.float64)
    torch.nn.init.eye_(t)
    assert np.array_equal(w, t.numpy().T)  # torch's eye_ on the transposed (out, in) shape


def test_identity_with_gain_is_exactly_gain_times_eye():
    assert np.array_equal(initializer("eye(gain=2.5)")((4, 6), rng=0), 2.5 * np.eye(4, 6))
    assert np.array_equal(initializer("identity(gain=-1)")((3, 3), rng=0), -np.eye(3))


def test_identity_ignores_the_seed():
    init = initializer("identity")
    assert np.array_equal(init((4, 4), rng=1), init((4, 4), rng=2))


# ---------------------------------------------------------------- delta_orthogonal (Xiao et al. 2018)

@pytest.mark.parametrize(("layout", "shape", "centre"), [
    ("torch", (32, 16, 3, 3), (slice(None), slice(None), 1, 1)),
    ("torch", (16, 16, 5), (slice(None), slice(None), 2)),
    ("torch", (8, 4, 4, 4, 4), (slice(None), slice(None), 1, 1, 1)),  # even kernel: (k - 1) // 2, as JAX
    ("keras", (3, 3, 16, 32), (1, 1)),
    ("numpy", (3, 16, 32), (1,)),
])
def test_delta_orthogonal_is_zero_but_an_orthonormal_centre_tap(layout, shape, centre):
    w = initializer("delta_orthogonal(gain=2)", layout=layout)(shape, rng=9)
    tap = w[centre]
    matrix = tap if layout == "torch" else tap.T  # (out, in): orthonormal columns times the gain
    np.testing.assert_allclose(matrix.T @ matrix, 4 * np.eye(matrix.shape[1]), atol=4 * ATOL)
    rest = w.copy()
    rest[centre] = 0
    assert not rest.any()


def test_delta_orthogonal_conv_preserves_the_norm_of_every_input_exactly():
    # The point of the scheme: a conv with circular padding is an isometry at init, at any depth.
    w = initializer("delta_orthogonal", layout="torch")((24, 16, 3, 3), rng=10)
    conv = torch.nn.Conv2d(16, 24, 3, padding=1, padding_mode="circular", bias=False).double()
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(w))
        x = torch.randn(4, 16, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
        np.testing.assert_allclose(conv(x).flatten(1).norm(dim=1), x.flatten(1).norm(dim=1), rtol=1e-12)


def test_delta_orthogonal_2d_weight_is_orthogonal_with_orthonormal_columns():
    w = initializer("delta_orthogonal", layout="torch")((30, 20), rng=11)
    assert_gram_is_scaled_identity(w, 1.0)


@pytest.mark.parametrize(("layout", "shape"), [("torch", (8, 16, 3, 3)), ("keras", (3, 3, 16, 8))])
def test_delta_orthogonal_with_fewer_outputs_than_inputs_is_refused_naming_the_shape(layout, shape):
    with pytest.raises(ValueError, match=r"^shape: delta_orthogonal needs out channels >= in channels .* in=16, out=8"):
        initializer("delta_orthogonal", layout=layout)(shape, rng=0)
