"""`initlab.torch.apply`: torch.nn.init's own numbers for its schemes, initlab's laws for the others."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats
from torch import nn
from torch.nn import init as I

from initlab.init import initializer
from initlab.torch import apply
from initlab.torch.apply import numpy_rng

KS_ALPHA = 1e-3  # equal laws pass with probability 0.999; fixed seeds make each run deterministic


def model() -> nn.Module:
    return nn.Sequential(nn.Conv1d(3, 8, 5), nn.ReLU(), nn.Conv2d(8, 6, 3, bias=False), nn.Flatten(),
                         nn.Linear(24, 10), nn.Tanh(), nn.Linear(10, 4))


def layer_modules(net):
    return [m for m in net.modules() if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d))]


def torch_default_bias(t, g, weight):
    fan_in = I._calculate_fan_in_and_fan_out(weight)[0]
    return I.uniform_(t, -1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in), generator=g)


# (scheme, bias, fill weight, fill bias): the fills are what a user would call by hand.
NORMAL_BIAS = ("normal(std=0.1)", lambda t, g, w: I.normal_(t, 0.0, 0.1, generator=g))
TORCH_EQUIVALENT = [
    ("zeros", *NORMAL_BIAS, lambda t, g: I.zeros_(t)),
    ("ones", *NORMAL_BIAS, lambda t, g: I.ones_(t)),
    ("constant(0.3)", *NORMAL_BIAS, lambda t, g: I.constant_(t, 0.3)),
    ("normal(mean=0.5, std=2)", *NORMAL_BIAS, lambda t, g: I.normal_(t, 0.5, 2.0, generator=g)),
    ("uniform", *NORMAL_BIAS, lambda t, g: I.uniform_(t, generator=g)),
    ("uniform(limit=0.1)", *NORMAL_BIAS, lambda t, g: I.uniform_(t, -0.1, 0.1, generator=g)),
    ("uniform(low=-1, high=3)", *NORMAL_BIAS, lambda t, g: I.uniform_(t, -1.0, 3.0, generator=g)),
    ("truncated_normal(std=0.02)", *NORMAL_BIAS, lambda t, g: I.trunc_normal_(t, 0, 0.02, -2, 2, generator=g)),
    ("truncated_normal(mean=1, std=0.5, a=-1, b=2, bounds=sigma)", *NORMAL_BIAS,
     lambda t, g: I.trunc_normal_(t, 1.0, 0.5, 0.5, 2.0, generator=g)),
    ("xavier_uniform", *NORMAL_BIAS, lambda t, g: I.xavier_uniform_(t, generator=g)),
    ("glorot_normal(gain=2)", *NORMAL_BIAS, lambda t, g: I.xavier_normal_(t, 2.0, generator=g)),
    ("he_normal", *NORMAL_BIAS, lambda t, g: I.kaiming_normal_(t, generator=g)),
    ("kaiming_uniform(a=0.1, mode=fan_out)", *NORMAL_BIAS,
     lambda t, g: I.kaiming_uniform_(t, 0.1, "fan_out", generator=g)),
    ("he_normal(nonlinearity=tanh)", *NORMAL_BIAS,
     lambda t, g: I.kaiming_normal_(t, nonlinearity="tanh", generator=g)),
    ("he_uniform(nonlinearity=identity)", *NORMAL_BIAS,
     lambda t, g: I.kaiming_uniform_(t, nonlinearity="linear", generator=g)),
    ("orthogonal(gain=1.5)", *NORMAL_BIAS, lambda t, g: I.orthogonal_(t, 1.5, generator=g)),
    ("torch_default", "torch_default", torch_default_bias,
     lambda t, g: I.kaiming_uniform_(t, math.sqrt(5), generator=g)),
]


@pytest.mark.parametrize("scheme, bias, fill_bias, fill_weight", TORCH_EQUIVALENT, ids=[c[0] for c in TORCH_EQUIVALENT])
def test_torch_equivalent_schemes_are_bit_identical_to_torch_nn_init_with_the_same_generator(
        scheme, bias, fill_bias, fill_weight):
    net = apply(model(), scheme, bias=bias, generator=torch.Generator().manual_seed(7))
    g = torch.Generator().manual_seed(7)
    for m in layer_modules(net):  # module order, weight then bias
        assert torch.equal(m.weight, fill_weight(torch.empty_like(m.weight), g)), (scheme, m)
        if m.bias is not None:
            assert torch.equal(m.bias, fill_bias(torch.empty_like(m.bias), g, m.weight)), (scheme, m)


def test_identity_on_dense_weights_is_eye_times_gain_and_refuses_conv_weights():
    net = apply(nn.Sequential(nn.Linear(3, 5), nn.Linear(5, 2)), "identity(gain=2)", seed=0)
    assert torch.equal(net[0].weight, 2 * torch.eye(5, 3)) and torch.equal(net[1].weight, 2 * torch.eye(2, 5))
    with pytest.raises(ValueError, match=r"^scheme: 'identity' cannot fill weight \[8, 3, 5\] of layer '0': "
                                         r"shape: 'identity' needs exactly 2 dimensions"):
        apply(model(), "identity", seed=0)


def test_numpy_path_scheme_on_conv2d_has_its_law_ks():
    # lecun_normal on Conv2d(16, 32, 3): N(0, 1/fan_in), fan_in = 16 * 3 * 3 = 144; 4608 values.
    w = apply(nn.Conv2d(16, 32, 3), "lecun_normal", seed=3).weight.detach().double().numpy().ravel()
    assert stats.kstest(w, stats.norm(0, 1 / 12).cdf).pvalue > KS_ALPHA
    assert stats.kstest(w, stats.norm(0, math.sqrt(2) / 12).cdf).pvalue < 1e-6  # He's law is told apart


def test_numpy_path_uniform_variance_scaling_on_conv1d_uses_fan_out_with_the_kernel_ks():
    # fan_out = 64 * 5 = 320: U(-L, L), L = sqrt(3 * 2 / 320).
    w = apply(nn.Conv1d(8, 64, 5), "variance_scaling(scale=2, mode=fan_out, distribution=uniform)", seed=4)
    limit = math.sqrt(6 / 320)
    values = w.weight.detach().double().numpy().ravel()
    assert stats.kstest(values, stats.uniform(-limit, 2 * limit).cdf).pvalue > KS_ALPHA


def test_numpy_path_draws_are_initlabs_with_the_documented_seeding():
    net = apply(nn.Sequential(nn.Linear(6, 4), nn.Conv1d(4, 2, 3)), "lecun_uniform", seed=11)
    g = torch.Generator().manual_seed(11)
    init = initializer("lecun_uniform", layout="torch")
    for m in (net[0], net[1]):
        expected = init(tuple(m.weight.shape), numpy_rng(g))
        np.testing.assert_array_equal(m.weight.detach().numpy(), expected.astype(np.float32))
        assert torch.count_nonzero(m.bias) == 0  # zeros: no draw


def test_same_seed_is_bit_identical_and_a_generator_moves_on():
    for scheme in ("he_normal", "lecun_normal", "critical(activation=tanh)"):
        a, b = apply(model(), scheme, seed=5), apply(model(), scheme, seed=5)
        assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters())), scheme
    g = torch.Generator().manual_seed(5)
    first, second = apply(model(), "he_normal", generator=g), apply(model(), "he_normal", generator=g)
    assert not torch.equal(first[0].weight, second[0].weight)


def test_bias_options():
    net = nn.Sequential(nn.Linear(100, 5000), nn.Linear(5000, 3))
    assert torch.count_nonzero(apply(net, "he_normal", seed=0)[0].bias) == 0  # default zeros
    assert torch.all(apply(net, "he_normal", bias="constant(0.5)", seed=0)[1].bias == 0.5)
    # A fan-based scheme as a bias uses its weight's fans: std sqrt(2 / 100) for the 5000 biases.
    # The sample std of 5000 normals has relative SE 1/sqrt(2 * 5000) = 1%; allow 5 SE.
    std = apply(net, "lecun_normal", bias="he_normal", seed=0)[0].bias.std().item()
    assert std == pytest.approx(math.sqrt(2 / 100), rel=0.05)


def test_model_without_layers_is_a_value_error_naming_model():
    with pytest.raises(ValueError, match=r"^model: found no nn.Linear or nn.Conv"):
        apply(nn.Sequential(nn.ReLU()), "he_normal", seed=0)


@pytest.mark.parametrize("kwargs", [{}, {"seed": 0, "generator": torch.Generator()}])
def test_exactly_one_of_generator_and_seed(kwargs):
    with pytest.raises(ValueError, match=r"^generator, seed: give exactly one"):
        apply(model(), "he_normal", **kwargs)


def test_bad_seed_and_bad_names_are_value_errors_naming_the_argument():
    with pytest.raises(ValueError, match=r"^seed: expected a non-negative integer, got -1"):
        apply(model(), "he_normal", seed=-1)
    with pytest.raises(ValueError, match=r"^scheme: unknown scheme 'he_norml' \(did you mean 'he_normal'\?\)"):
        apply(model(), "he_norml", seed=0)
    with pytest.raises(ValueError, match=r"^bias: unknown scheme 'zeroes' \(did you mean 'zeros'\?\)"):
        apply(model(), "he_normal", bias="zeroes", seed=0)
    with pytest.raises(ValueError, match=r"^bias: 'orthogonal' cannot fill bias \[8\] of layer '0'"):
        apply(model(), "he_normal", bias="orthogonal", seed=0)


def test_float64_models_are_filled_in_float64():
    net = apply(model().double(), "lecun_normal", bias="normal(std=1)", seed=0)
    assert all(p.dtype == torch.float64 for p in net.parameters())


class RegisteredLateFirst(nn.Module):
    """Registration order (late, unused, early) differs from execution order (early, late)."""

    def __init__(self):
        super().__init__()
        self.late, self.unused, self.early = nn.Linear(4, 2), nn.Linear(2, 2), nn.Linear(3, 4)

    def forward(self, x):
        return self.late(torch.relu(self.early(x)))


def test_layers_are_filled_in_registration_order_not_execution_order_and_unused_layers_too():
    net = apply(RegisteredLateFirst(), "he_normal", bias="normal(std=0.1)", generator=torch.Generator().manual_seed(3))
    g = torch.Generator().manual_seed(3)
    for m in (net.late, net.unused, net.early):  # what a loop over net.modules() visits
        assert torch.equal(m.weight, I.kaiming_normal_(torch.empty_like(m.weight), generator=g))
        assert torch.equal(m.bias, I.normal_(torch.empty_like(m.bias), 0.0, 0.1, generator=g))


def test_an_error_at_draw_time_leaves_every_parameter_and_the_generator_unchanged():
    # he_normal on a LayerNorm weight passes the shape check but has no fans: it fails after the Linear
    # and the attention blocks were drawn, and nothing is written.
    net = nn.Sequential(nn.Linear(6, 6), nn.MultiheadAttention(6, 2), nn.LayerNorm(6))
    before = [p.detach().clone() for p in net.parameters()]
    g = torch.Generator().manual_seed(4)
    state = g.get_state()
    with pytest.raises(ValueError, match=r"^norm: 'he_normal' cannot fill norm weight \[6\] of layer '2': "):
        apply(net, "he_normal", norm="he_normal", generator=g)
    assert all(torch.equal(p, q) for p, q in zip(net.parameters(), before))
    assert torch.equal(g.get_state(), state)


def test_a_block_the_scheme_cannot_fill_is_named_with_its_parameter_and_block_and_nothing_is_written():
    net = nn.Sequential(nn.Linear(4, 4, bias=False), nn.MultiheadAttention(8, 2))
    before = [p.detach().clone() for p in net.parameters()]
    with pytest.raises(ValueError, match=r"^bias: 'orthogonal' cannot fill bias \[24\] of layer '1' "
                                         r"\(parameter 'in_proj_bias', block 'q' \[8\]\): shape: 'orthogonal' needs"):
        apply(net, "he_normal", bias="orthogonal", seed=0)
    with pytest.raises(ValueError, match=r"^scheme: 'identity' cannot fill weight \[2, 3, 3\] of layer '1' "
                                         r"\(parameter 'weight', block 'weight' \[3, 2, 3\]\)"):
        apply(nn.Sequential(nn.Linear(2, 2), nn.ConvTranspose1d(2, 3, 3)), "identity", seed=0)
    assert all(torch.equal(p, q) for p, q in zip(net.parameters(), before))


def test_bad_policy_and_specs_of_the_new_arguments_name_them():
    with pytest.raises(ValueError, match=r"^tied: unknown tied policy 'own' \(did you mean 'owner'\?\)"):
        apply(model(), "he_normal", tied="own", seed=0)
    with pytest.raises(ValueError, match=r"^embedding: unknown scheme 'kep'.*\(or 'keep' to leave them"):
        apply(model(), "he_normal", embedding="kep", seed=0)
    with pytest.raises(ValueError, match=r"^recurrent: unknown scheme 'orthogonl' \(did you mean 'orthogonal'\?\)"):
        apply(model(), "he_normal", recurrent="orthogonl", seed=0)


def test_lazy_parameters_are_refused_naming_the_model_and_low_precision_is_drawn_in_float32():
    with pytest.raises(ValueError, match=r"^model: has uninitialized \(lazy\) parameters \(0\.weight, 0\.bias\): run "
                                         r"one forward pass first"):
        apply(nn.Sequential(nn.LazyLinear(3)), "he_normal", seed=0)
    net = apply(nn.Linear(64, 64).to(torch.bfloat16), "orthogonal", seed=0)  # torch has no bfloat16 QR
    expected = I.orthogonal_(torch.empty(64, 64), generator=torch.Generator().manual_seed(0)).to(torch.bfloat16)
    assert net.weight.dtype == torch.bfloat16 and torch.equal(net.weight, expected)
