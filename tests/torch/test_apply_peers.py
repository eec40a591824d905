"""initlab.torch.apply with the peers' features: fan axes per parameter (overrides), dirac and sparse against
torch.nn.init's own functions on the same generator, zero-element tensors warn as torch does."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from initlab.torch import initialise


class EinsumAttention(nn.Module):
    """A query projection stored as Keras stores it: an einsum kernel (d_model, heads, head_dim)."""

    def __init__(self, d_model=64, heads=8, head_dim=16):
        super().__init__()
        self.w_q = nn.Parameter(torch.empty(d_model, heads, head_dim))
        self.out = nn.Linear(heads * head_dim, d_model)

    def forward(self, x):
        return self.out(torch.einsum("bd,dhk->bhk", x, self.w_q).flatten(1))


def test_override_with_axes_gives_an_einsum_kernel_its_fan_in():
    model = EinsumAttention()
    result = initialise(model, "lecun_normal", overrides={"w_q": "variance_scaling(in_axis=0, out_axis=(1, 2))"},
                        seed=0)
    block = result.row("w_q").blocks[0]
    assert (block.fan_in, block.fan_out) == (64, 128)
    assert block.std == pytest.approx(math.sqrt(1 / 64), rel=1e-12)  # without axes: the torch layout's 1/sqrt(128 * 16)
    n = model.w_q.numel()
    assert abs(float(model.w_q.detach().std()) - math.sqrt(1 / 64)) < 6 * math.sqrt(1 / 64) / math.sqrt(2 * n)


def test_axes_that_are_torchs_own_fans_still_draw_with_torchs_function():
    model = nn.Linear(30, 20)
    initialise(model, "he_normal(in_axis=1, out_axis=0)", seed=3)
    expected = nn.init.kaiming_normal_(torch.empty(20, 30), generator=torch.Generator().manual_seed(3))
    assert torch.equal(model.weight, expected)


def test_bad_axes_on_a_parameter_are_refused_before_anything_is_written():
    model = EinsumAttention()
    before = model.out.weight.detach().clone()
    with pytest.raises(ValueError, match=r"^overrides: 'variance_scaling\(in_axis=3\)' cannot fill .*in_axis: axis 3 "
                                         r"is out of range"):
        initialise(model, "he_normal", overrides={"w_q": "variance_scaling(in_axis=3)"}, seed=0)
    assert torch.equal(model.out.weight, before)


def test_dirac_fills_a_conv_exactly_as_torchs_dirac():
    model = nn.Conv2d(4, 8, 3, groups=2)
    initialise(model, "dirac(groups=2)", seed=0)
    assert torch.equal(model.weight, nn.init.dirac_(torch.empty(8, 2, 3, 3), 2))


def test_sparse_values_are_torchs_sparse_values_and_its_zero_count_per_column():
    # torch.nn.init.sparse_ draws its values with the generator but its zero positions with torch.randperm(rows)
    # on the global RNG (torch/nn/init.py, v2.13.0, line 758): initlab draws the positions from the generator.
    model = nn.Linear(40, 30, bias=False)
    initialise(model, "sparse(sparsity=0.2, std=0.05)", seed=5)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        theirs = nn.init.sparse_(torch.empty(30, 40), 0.2, 0.05, generator=torch.Generator().manual_seed(5))
    ours = model.weight.detach()
    both = (ours != 0) & (theirs != 0)
    assert both.sum() > 0.5 * ours.numel()
    assert torch.equal(ours[both], theirs[both])
    assert ((ours == 0).sum(dim=0) == math.ceil(0.2 * 30)).all()
    assert ((theirs == 0).sum(dim=0) == math.ceil(0.2 * 30)).all()


def test_a_zero_element_parameter_warns_as_torch_does_and_stays_empty():
    with pytest.warns(UserWarning):  # torch's own reset warns too
        model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 0, bias=False))
    with pytest.warns(UserWarning, match=r"^Initializing zero-element tensors is a no-op \(shape \[0, 4\]\)$"):
        initialise(model, "he_normal", seed=0)
    assert model[1].weight.shape == (0, 4)
