"""`initlab.torch.lsuv` (Mishkin & Matas 2016): unit output std per layer, on a fresh batch too."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from _initlab_torch_nets import small_cnn
from initlab.torch import lsuv
from initlab.torch.measure import gaussian, layer_stds, mlp


@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu"])
@pytest.mark.slow
def test_every_linear_output_of_a_30x256_mlp_has_unit_std_on_a_fresh_batch(activation):
    # lsuv on one batch, checked on another: the batch-to-batch change of a layer's output std over
    # 512 x 256 entries is what the 10% must absorb (measured: relu >= 0.98, tanh >= 0.998, gelu >= 0.93).
    net = mlp(activation)
    result = lsuv(net, gaussian((512, 256), seed=1), seed=0)
    assert result.converged and len(result.layers) == 30
    assert all(abs(layer.std - 1) <= 0.1 for layer in result.layers)
    stds = layer_stds(net, gaussian((512, 256), seed=2))
    assert len(stds) == 30 and torch.all((stds - 1).abs() <= 0.1), stds


def test_every_layer_output_of_a_small_cnn_has_unit_std_on_a_fresh_batch():
    net = small_cnn()
    lsuv(net, gaussian((64, 3, 16, 16), seed=1), seed=0)
    stds = layer_stds(net, gaussian((64, 3, 16, 16), seed=2))
    assert len(stds) == 3 and torch.all((stds - 1).abs() <= 0.1), stds


def test_reported_stds_are_what_a_full_forward_pass_measures():
    # lsuv reruns a rescaled layer alone on its captured input; the full model must agree.
    net, x = mlp("gelu", depth=6, width=64), gaussian((128, 64), seed=1)
    result = lsuv(net, x, seed=0)
    measured = layer_stds(net, x).tolist()
    assert [r.std for r in result.layers] == pytest.approx(measured, rel=1e-6)


def test_lsuv_leaves_no_hook_behind_and_keeps_the_users_own():
    net = small_cnn()
    mine = net[0].register_forward_hook(lambda m, i, o: None)
    lsuv(net, gaussian((8, 3, 16, 16), seed=1), seed=0)
    assert list(net[0]._forward_hooks) == [mine.id]
    mine.remove()
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in net.modules())
    x = gaussian((8, 3, 16, 16), seed=2)
    with torch.no_grad():
        assert torch.equal(net(x), net(x))


def test_weights_are_orthogonal_up_to_the_scale_and_biases_zero():
    net = small_cnn()
    lsuv(net, gaussian((16, 3, 16, 16), seed=1), seed=0)
    w = net[2].weight.detach().flatten(1)  # (32, 144): orthonormal rows times one scale
    gram = w @ w.T
    torch.testing.assert_close(gram / gram[0, 0], torch.eye(32), atol=1e-5, rtol=0)
    assert all(torch.count_nonzero(m.bias) == 0 for m in (net[0], net[2], net[6]))


def test_same_seed_is_bit_identical():
    a, b = mlp("tanh", depth=4, width=32), mlp("tanh", depth=4, width=32)
    x = gaussian((64, 32), seed=3)
    lsuv(a, x, seed=9), lsuv(b, x, seed=9)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_a_layer_that_cannot_converge_is_reported_and_warned_not_raised():
    net = mlp("relu", depth=2, width=8)
    with pytest.warns(UserWarning, match=r"lsuv: 2 layer\(s\) did not reach std 1 \+- 0.1 within max_iter=3"):
        result = lsuv(net, torch.zeros(4, 8), max_iter=3, seed=0)  # zero input: output std 0, no scale helps
    assert not result.converged and [r.converged for r in result.layers] == [False, False]
    assert json.loads(json.dumps(result.to_json()))["converged"] is False
    assert "NO" in str(result)


def test_iterations_stop_at_max_iter():
    with pytest.warns(UserWarning):
        result = lsuv(mlp("relu", depth=2, width=8), gaussian((16, 8), 0), tol=1e-300, max_iter=2, seed=0)
    assert all(r.iterations <= 2 for r in result.layers)


@pytest.mark.parametrize("kwargs, message", [
    (dict(target_std=0), r"^target_std: expected a positive number, got 0"),
    (dict(tol=-0.1), r"^tol: expected a positive number, got -0.1"),
    (dict(max_iter=0), r"^max_iter: expected a positive integer, got 0"),
])
def test_bad_arguments_are_value_errors_naming_them(kwargs, message):
    with pytest.raises(ValueError, match=message):
        lsuv(mlp("relu", 2, 8), gaussian((4, 8), 0), seed=0, **kwargs)


def test_a_batch_the_model_rejects_is_a_value_error_naming_batch_with_torchs_message():
    with pytest.raises(ValueError, match=r"^batch: the model rejected a batch of shape \[4, 7\]: mat1 and mat2"):
        lsuv(mlp("relu", 2, 8), gaussian((4, 7), 0), seed=0)


def test_neither_generator_nor_seed_is_an_error():
    with pytest.raises(ValueError, match=r"^generator, seed: give exactly one"):
        lsuv(mlp("relu", 2, 8), gaussian((4, 8), 0))


def batch_norm_net() -> nn.Sequential:
    return nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 16),
                         nn.BatchNorm1d(16), nn.Tanh(), nn.Linear(16, 2))


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_buffers_modes_and_the_global_rng_are_left_as_they_were(training):
    net = batch_norm_net().train(training)
    with torch.no_grad():
        net[1].running_mean.fill_(0.5)
    buffers = {name: b.clone() for name, b in net.named_buffers()}
    torch.manual_seed(123)
    rng = torch.get_rng_state()
    lsuv(net, gaussian((64, 8), seed=1), seed=0)
    assert torch.equal(torch.get_rng_state(), rng)
    assert all(torch.equal(b, buffers[name]) for name, b in net.named_buffers())
    assert int(net[5].num_batches_tracked) == 0 and torch.all(net[1].running_mean == 0.5)
    assert all(m.training == training for m in net.modules())


def test_dropout_draws_come_from_the_seed_not_from_torchs_global_rng():
    x, nets = gaussian((64, 8), seed=1), []
    for global_seed in (1, 2):
        torch.manual_seed(global_seed)
        nets.append(batch_norm_net())
        lsuv(nets[-1], x, seed=7)
    assert all(torch.equal(p, q) for p, q in zip(nets[0].parameters(), nets[1].parameters()))


def test_an_eval_mode_model_is_calibrated_on_batch_statistics_as_in_training():
    net = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 16)).eval()
    with torch.no_grad():
        net[1].running_mean.fill_(0.5)  # eval mode would normalise by these, not by the batch's
    x = gaussian((64, 8), seed=1)
    result = lsuv(net, x, seed=0)
    assert not net.training
    train_stds, eval_stds = layer_stds(net.train(), x), layer_stds(net.eval(), x)
    assert result.layers[1].std == pytest.approx(train_stds[1].item(), rel=1e-6)
    assert result.layers[1].std != pytest.approx(eval_stds[1].item(), rel=0.05)


def test_a_layer_the_calibration_pass_skips_is_a_value_error_naming_it():
    class SkipsAfterTracing(nn.Module):  # like stochastic depth: the traced forward is not the one that runs
        def __init__(self):
            super().__init__()
            self.a, self.b, self.calls = nn.Linear(4, 4), nn.Linear(4, 4), 0

        def forward(self, x):
            self.calls += 1
            return self.b(self.a(x)) if self.calls <= 2 else self.a(x)

    with pytest.raises(ValueError, match=r"^model: the forward pass on the batch never called layer 'b' \("):
        lsuv(SkipsAfterTracing(), gaussian((8, 4), 0), seed=0)
