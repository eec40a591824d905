"""Parity with torch.nn.init: same law (two-sample KS) on the same fan geometry, same gains, same fans.

Layouts: initlab's numpy layout is (fan_in, fan_out), torch's is (out, in, *kernel). A numpy
(400, 250) weight has the fans of a torch (250, 400) tensor; `layout="torch"` takes torch shapes.
Torch is always seeded through an explicit torch.Generator passed as `generator=`.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from _initlab_init_stats import FAN_IN, KS_ALPHA, SHAPE, by_first
from initlab.init import fans, gain, initializer

TORCH_SHAPE = SHAPE[::-1]  # (out=250, in=400): the same fans as numpy (400, 250)


def torch_sample(fill, shape, seed, repeats=1, **kwargs):
    """Values of `fill(tensor, **kwargs, generator=g)` on float64 tensors of `shape`, flattened."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(repeats):
        t = torch.empty(shape, dtype=torch.float64)
        fill(t, **kwargs, generator=g)
        out.append(t.numpy().ravel())
    return np.concatenate(out)


def initlab_sample(spec, shape, seed, repeats=1, layout="numpy"):
    init, rng = initializer(spec, layout=layout), np.random.default_rng(seed)
    return np.concatenate([init(shape, rng).ravel() for _ in range(repeats)])


def assert_same_law(ours, theirs):
    """Two-sample KS: with >= 1e5 values per side a real difference in scale of even 1% gives
    p < 1e-10, while equal laws give p > 1e-3 with probability 0.999 (fixed seeds: deterministic)."""
    p = stats.ks_2samp(ours, theirs).pvalue
    assert p > KS_ALPHA, f"KS p-value {p:.3g}: laws differ"


def assert_different_law(ours, theirs):
    p = stats.ks_2samp(ours, theirs).pvalue
    assert p < 1e-6, f"KS p-value {p:.3g}: the test cannot tell these laws apart"


# ------------------------------------------------------------------------------ KS parity

@pytest.mark.parametrize(("spec", "fill", "kwargs"), by_first([
    ("normal(mean=0.3, std=2)", torch.nn.init.normal_, dict(mean=0.3, std=2.0)),
    ("uniform", torch.nn.init.uniform_, {}),
    ("uniform(low=-1, high=3)", torch.nn.init.uniform_, dict(a=-1.0, b=3.0)),
    ("xavier_uniform", torch.nn.init.xavier_uniform_, {}),
    ("xavier_uniform(gain=1.41)", torch.nn.init.xavier_uniform_, dict(gain=1.41)),
    ("xavier_normal", torch.nn.init.xavier_normal_, {}),
    ("glorot_normal(gain=3)", torch.nn.init.xavier_normal_, dict(gain=3.0)),
    ("he_uniform", torch.nn.init.kaiming_uniform_, {}),
    ("kaiming_uniform(mode=fan_out, nonlinearity=relu)", torch.nn.init.kaiming_uniform_,
     dict(mode="fan_out", nonlinearity="relu")),
    ("he_uniform(a=0.2)", torch.nn.init.kaiming_uniform_, dict(a=0.2)),
    ("he_uniform(nonlinearity=tanh)", torch.nn.init.kaiming_uniform_, dict(nonlinearity="tanh")),
    ("he_normal", torch.nn.init.kaiming_normal_, {}),
    ("he_normal(mode=fan_out)", torch.nn.init.kaiming_normal_, dict(mode="fan_out")),
    ("kaiming_normal(a=0.2, nonlinearity=leaky_relu)", torch.nn.init.kaiming_normal_,
     dict(a=0.2, nonlinearity="leaky_relu")),
    ("truncated_normal", torch.nn.init.trunc_normal_, {}),
    ("truncated_normal(mean=0.5, std=2, a=-1, b=4)", torch.nn.init.trunc_normal_,
     dict(mean=0.5, std=2.0, a=-1.0, b=4.0)),
    ("orthogonal(gain=2)", torch.nn.init.orthogonal_, dict(gain=2.0)),
]))
def test_numpy_layout_weight_matches_torch_init_on_transposed_shape_ks(spec, fill, kwargs):
    ours = initlab_sample(spec, SHAPE, seed=1)
    theirs = torch_sample(fill, TORCH_SHAPE, seed=2, **kwargs)
    assert_same_law(ours, theirs)


@pytest.mark.parametrize(("spec", "fill", "kwargs"), by_first([
    ("he_normal", torch.nn.init.kaiming_normal_, {}),
    ("he_uniform(mode=fan_out, nonlinearity=tanh)", torch.nn.init.kaiming_uniform_,
     dict(mode="fan_out", nonlinearity="tanh")),
    ("xavier_normal", torch.nn.init.xavier_normal_, {}),
    ("orthogonal", torch.nn.init.orthogonal_, {}),
]))
def test_torch_layout_weight_matches_torch_init_on_the_same_shape_ks(spec, fill, kwargs):
    ours = initlab_sample(spec, TORCH_SHAPE, seed=3, layout="torch")
    theirs = torch_sample(fill, TORCH_SHAPE, seed=4, **kwargs)
    assert_same_law(ours, theirs)


def test_ks_has_power_he_normal_differs_from_torch_xavier_normal():
    # std sqrt(2/400) = 0.071 vs sqrt(2/650) = 0.055.
    assert_different_law(initlab_sample("he_normal", SHAPE, seed=5),
                         torch_sample(torch.nn.init.xavier_normal_, TORCH_SHAPE, seed=6))


def test_ks_has_power_forgetting_the_layout_transpose_changes_the_law():
    # A torch tensor of shape (400, 250) has fan_in 250, not 400: std sqrt(2/250) vs sqrt(2/400).
    assert_different_law(initlab_sample("he_normal", SHAPE, seed=7),
                         torch_sample(torch.nn.init.kaiming_normal_, SHAPE, seed=8))


def _torch_module(factory, seed):
    # nn.Linear / nn.Conv2d draw their default parameters from the global generator and take no
    # `generator=`; fork_rng restores the global state on exit, so the seed does not leak.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return factory()


def test_torch_default_weight_matches_nn_linear_weight_ks():
    layer = _torch_module(lambda: torch.nn.Linear(*SHAPE), seed=9)  # Linear(in=400, out=250)
    assert tuple(layer.weight.shape) == TORCH_SHAPE
    theirs = layer.weight.detach().double().numpy().ravel()
    assert_same_law(initlab_sample("torch_default", SHAPE, seed=10), theirs)
    assert np.abs(theirs).max() <= 1 / math.sqrt(FAN_IN)


def test_torch_default_bias_matches_nn_linear_bias_ks():
    fan_in, fan_out = 8, 100_000  # many outputs so the bias alone has 1e5 values
    layer = _torch_module(lambda: torch.nn.Linear(fan_in, fan_out), seed=11)
    theirs = layer.bias.detach().double().numpy()
    ours = initializer("torch_default")((fan_out,), 12, fan=fans((fan_in, fan_out)))
    assert_same_law(ours, theirs)
    bound = 1 / math.sqrt(fan_in)
    assert np.abs(ours).max() <= bound and np.abs(theirs).max() <= bound
    # Power: the bias law depends on the weight's fan_in (8), not on the bias length.
    assert_different_law(initializer("torch_default")((fan_out,), 12), theirs)


CONV_TORCH = (32, 16, 3, 3)  # (out, in, kh, kw)
CONV_KERAS = (3, 3, 16, 32)  # (kh, kw, in, out)


def test_conv_kernel_fans_agree_between_torch_and_keras_layouts():
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(CONV_TORCH))
    assert tuple(fans(CONV_TORCH, "torch")) == expected == (144, 288)
    assert tuple(fans(CONV_KERAS, "keras")) == tuple(fans(CONV_KERAS, "numpy")) == expected


@pytest.mark.parametrize(("spec", "fill", "kwargs"), by_first([
    ("he_normal", torch.nn.init.kaiming_normal_, {}),
    ("he_uniform(mode=fan_out, nonlinearity=relu)", torch.nn.init.kaiming_uniform_,
     dict(mode="fan_out", nonlinearity="relu")),
    ("xavier_uniform", torch.nn.init.xavier_uniform_, {}),
]))
def test_conv_kernel_in_torch_and_numpy_layouts_matches_torch_init_on_conv2d_shape_ks(spec, fill, kwargs):
    repeats = 22  # 22 kernels of 4608 values: ~1e5 per side
    theirs = torch_sample(fill, CONV_TORCH, seed=13, repeats=repeats, **kwargs)
    assert_same_law(initlab_sample(spec, CONV_TORCH, seed=14, repeats=repeats, layout="torch"), theirs)
    assert_same_law(initlab_sample(spec, CONV_KERAS, seed=15, repeats=repeats, layout="numpy"), theirs)


def test_torch_default_conv_kernel_matches_nn_conv2d_weight_ks():
    conv = _torch_module(lambda: torch.nn.Conv2d(16, 32, 3), seed=16)
    theirs = conv.weight.detach().double().numpy().ravel()  # 4608 values
    ours = initlab_sample("torch_default", CONV_TORCH, seed=17, repeats=22, layout="torch")
    assert_same_law(ours, theirs)
    assert np.abs(ours).max() <= 1 / math.sqrt(144)


# ------------------------------------------------------------------------------ gains

@pytest.mark.parametrize(("activation", "param"), [
    ("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None),
    ("conv_transpose1d", None), ("conv_transpose2d", None), ("conv_transpose3d", None),
    ("sigmoid", None), ("tanh", None), ("relu", None), ("selu", None),
    ("leaky_relu", None), ("leaky_relu", 0), ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5.0)),
])
def test_gain_equals_torch_calculate_gain(activation, param):
    assert gain(activation, param) == pytest.approx(torch.nn.init.calculate_gain(activation, param), rel=1e-15)


def test_gain_values_are_the_published_constants():
    assert gain("tanh") == pytest.approx(5 / 3, rel=1e-15)
    assert gain("relu") == pytest.approx(math.sqrt(2), rel=1e-15)
    assert gain("selu") == 0.75
    assert gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)), rel=1e-15)
    assert gain("leaky_relu", math.sqrt(5)) ** 2 == pytest.approx(1 / 3, rel=1e-14)


def test_gain_of_unknown_activation_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match=r"nonlinearity.*'swishy'"):
        gain("swishy")
    with pytest.raises(ValueError, match=r"did you mean 'tanh'"):
        gain("tahn")


@pytest.mark.parametrize("param", [float("nan"), float("inf"), "0.2", True])
def test_gain_leaky_relu_rejects_a_non_finite_or_non_number_slope(param):
    with pytest.raises(ValueError, match="param"):
        gain("leaky_relu", param)


# ------------------------------------------------------------------------------ fans

def _torch_fans(torch_shape):
    return torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(torch_shape))


def _numpy_to_torch(shape):
    """(*kernel, in, out) -> (out, in, *kernel)."""
    return (shape[-1], shape[-2], *shape[:-2])


@pytest.mark.parametrize("shape", [(400, 25), (25, 400), (7, 7), (5, 16, 32), (3, 3, 16, 32), (1, 5, 3, 8),
                                   (2, 3, 4, 5, 6)])
@pytest.mark.parametrize("layout", ["numpy", "keras"])
def test_numpy_and_keras_fans_equal_torch_fans_of_the_torch_layout_shape(shape, layout):
    assert tuple(fans(shape, layout)) == _torch_fans(_numpy_to_torch(shape))


@pytest.mark.parametrize("shape", [(250, 400), (400, 25), (32, 16, 3, 3), (8, 4, 5), (2, 3, 4, 5, 6)])
def test_torch_layout_fans_equal_torch_calculate_fan_in_and_fan_out(shape):
    assert tuple(fans(shape, "torch")) == _torch_fans(shape)


@pytest.mark.parametrize("layout", ["numpy", "keras"])
def test_one_dimensional_shape_has_equal_fans_in_numpy_and_keras_layouts(layout):
    assert tuple(fans((17,), layout)) == (17, 17)
    assert tuple(fans(17, layout)) == (17, 17)
    assert tuple(fans((), layout)) == (1, 1)


def test_torch_layout_one_dimensional_shape_is_a_value_error_like_torch():
    with pytest.raises(ValueError, match=r"shape.*\[17\]"):
        fans((17,), "torch")
    with pytest.raises(ValueError):
        _torch_fans((17,))


def test_fans_unknown_layout_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match=r"layout.*'tf'"):
        fans((3, 4), "tf")


def test_fans_by_mode_gives_fan_in_fan_out_and_average():
    f = fans((400, 250))
    assert (f.by_mode("fan_in"), f.by_mode("fan_out"), f.by_mode("fan_avg")) == (400, 250, 325.0)
    with pytest.raises(ValueError, match=r"mode.*'fan_sum'"):
        f.by_mode("fan_sum")
