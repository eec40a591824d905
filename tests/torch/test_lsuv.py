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
    with pytest.warns(UserWarning, match=r"lsuv: 2 layer\(s\) did not reach variance 1 \+- 0.1 within max_iter=3"):
        result = lsuv(net, torch.zeros(4, 8), max_iter=3, seed=0)  # zero input: output std 0, no scale helps
    assert not result.converged and [r.converged for r in result.layers] == [False, False]
    assert json.loads(json.dumps(result.to_json()))["converged"] is False
    assert "NO" in str(result)


def test_iterations_stop_at_max_iter():
    with pytest.warns(UserWarning):
        result = lsuv(mlp("relu", depth=2, width=8), gaussian((16, 8), 0), var_tol=1e-300, max_iter=2, seed=0)
    assert all(r.iterations <= 2 for r in result.layers)


def test_the_default_is_the_papers_criterion_on_the_variance_not_on_the_std():
    # A layer whose orthogonal weights give std 1.0495 on the batch: |std - 1| <= 0.05 accepts it as it is,
    # but its variance 1.1015 misses Mishkin & Matas' |Var - 1| < 0.1, so the default rescales it once (a
    # zero-bias Linear is linear in its weight: one rescaling lands on std 1 to rounding).
    x = gaussian((256, 16), seed=1)
    drawn = lsuv(nn.Linear(16, 16), x, std_tol=10.0, seed=0).layers[0]  # accepted as drawn: its own std
    assert drawn.iterations == 0
    x = x * (1.0495 / drawn.std)  # the same orthogonal draw (seed 0) now gives std 1.0495
    before = lsuv(nn.Linear(16, 16), x, std_tol=0.05, seed=0).layers[0]
    assert before.iterations == 0 and before.std == pytest.approx(1.0495, abs=1e-6)  # float32
    after = lsuv(nn.Linear(16, 16), x, seed=0)
    assert after.var_tol == 0.1 and after.std_tol is None
    assert after.layers[0].iterations == 1 and after.layers[0].std == pytest.approx(1.0, abs=1e-6)
    assert json.loads(json.dumps(after.to_json()))["var_tol"] == 0.1


def test_tol_is_std_tols_deprecated_name_with_the_same_result():
    x = gaussian((64, 8), seed=1)
    with pytest.warns(DeprecationWarning, match=r"^lsuv: 'tol' is deprecated; it is the tolerance on the std"):
        old = lsuv(mlp("tanh", 3, 8), x, 1.0, 0.2, seed=0)  # positional, as before
    new = lsuv(mlp("tanh", 3, 8), x, std_tol=0.2, seed=0)
    assert old == new and old.std_tol == 0.2 and old.var_tol is None
    with pytest.warns(DeprecationWarning, match=r"^LsuvResult.tol is deprecated"):
        assert old.tol == 0.2


@pytest.mark.parametrize("kwargs, message", [
    (dict(target_std=0), r"^target_std: expected a positive number, got 0"),
    (dict(tol=-0.1), r"^tol: expected a positive number, got -0.1"),
    (dict(var_tol=0), r"^var_tol: expected a positive number, got 0"),
    (dict(std_tol=-1), r"^std_tol: expected a positive number, got -1"),
    (dict(var_tol=0.1, std_tol=0.05), r"^var_tol, std_tol: give at most one tolerance"),
    (dict(tol=0.1, std_tol=0.05), r"^tol, std_tol: tol is the old name of std_tol; give one"),
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
    class SkipsAfterTracing(nn.Module):  # like stochastic depth: the discovery pass is not the one that calibrates
        def __init__(self):
            super().__init__()
            self.a, self.b, self.calls = nn.Linear(4, 4), nn.Linear(4, 4), 0

        def forward(self, x):
            self.calls += 1
            return self.b(self.a(x)) if self.calls <= 1 else self.a(x)

    with pytest.raises(ValueError, match=r"^model: the forward pass on the batch never called layer 'b' \("):
        lsuv(SkipsAfterTracing(), gaussian((8, 4), 0), seed=0)


# --- the families of issue 10 (tests/torch/_initlab_families.py) -----------------------------------


import _initlab_families as families  # noqa: E402
from _initlab_families import family_batch, projection_stds  # noqa: E402

SLOW_FAMILIES = {"resnet", "mobilenet", "hf_bert", "hf_gpt2"}


@pytest.mark.parametrize("family", [pytest.param(f, marks=pytest.mark.slow) if f in SLOW_FAMILIES else f
                                    for f in families.FAMILIES])
def test_every_projection_of_every_family_has_unit_std_on_a_fresh_batch(family):
    # 128 samples per batch; calibrated to 2% on one batch, checked to 5% on another (the batch-to-batch
    # change of a head's std over 128 x 5..10 outputs is a few percent).
    model = families.FAMILIES[family][0]()
    result = lsuv(model, family_batch(family, 1), std_tol=0.02, seed=0)
    assert result.converged
    stds = projection_stds(model, family_batch(family, 2))
    calibrated = {layer.name for layer in result.layers}
    tied = {name.rsplit(".", 1)[0] for name, reason in result.left_alone if reason.startswith("tied")}
    assert set(stds) - calibrated == tied  # every projection was calibrated but a tied one (GPT-2's lm_head)
    off = {name: round(std, 3) for name, std in stds.items() if name in calibrated and abs(std - 1) > 0.05}
    assert not off, off


def test_gpt2s_tied_lm_head_and_its_embedding_are_left_alone():
    model = families.hf_gpt2()
    table = model.transformer.wte.weight.detach().clone()
    result = lsuv(model, family_batch("hf_gpt2", 1), seed=0)
    assert model.lm_head.weight is model.transformer.wte.weight and torch.equal(model.transformer.wte.weight, table)
    reasons = dict(result.left_alone)
    assert reasons["lm_head.weight"] == "tied to layer 'transformer.wte' (called first); lsuv does not rewrite a " \
                                        "shared tensor"
    assert reasons["transformer.wte.weight"].startswith("embedding: looked up, not multiplied")
    assert {"transformer.h.0.attn.c_attn", "transformer.h.1.mlp.c_proj"} <= {r.name for r in result.layers}


def test_vit_reports_its_cls_token_position_embedding_and_norms_as_left_alone():
    model = families.vit()
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    result = lsuv(model, family_batch("vit", 1), seed=0)
    reasons = dict(result.left_alone)
    assert set(reasons) == {name for name in before if name in ("cls_token", "pos_embed") or ".ln" in name
                            or name.startswith("norm.")}
    assert "(ViT.cls_token, shape [1, 1, 32])" in reasons["cls_token"]  # initlab.torch.kinds' reason
    assert reasons["blocks.0.ln1.weight"].startswith("normalization layer")
    assert all(torch.equal(p, before[name]) for name, p in model.named_parameters() if name in reasons)
    assert [r.name for r in result.layers][1:5] == ["blocks.0.attn.q", "blocks.0.attn.k", "blocks.0.attn.v",
                                                    "blocks.0.attn.out_proj"]


@pytest.mark.parametrize("cell, gates", [(nn.LSTM, 4), (nn.GRU, 3)])
def test_rnn_recurrent_gate_blocks_are_orthogonal_and_input_gates_have_unit_std(cell, gates):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        rnn, first = cell(6, 16, num_layers=2, batch_first=True), cell(6, 16, batch_first=True)
    x = gaussian((64, 10, 6), seed=1)
    result = lsuv(rnn, x, seed=0, std_tol=0.01)
    assert [r.name for r in result.layers] == [f"weight_ih_l{l}.{g}" for l in range(2)
                                               for g in families_gates(cell)]
    for l in range(2):
        hh = getattr(rnn, f"weight_hh_l{l}").detach()
        for i in range(gates):
            block = hh[i * 16:(i + 1) * 16]
            torch.testing.assert_close(block @ block.T, torch.eye(16), atol=1e-5, rtol=0)
        assert torch.count_nonzero(getattr(rnn, f"bias_ih_l{l}")) == 0
    with torch.no_grad():  # layer 1's input: layer 0's output sequence, from a one-layer copy of layer 0
        first.load_state_dict({k: v for k, v in rnn.state_dict().items() if k.endswith("_l0")})
        inputs = {0: x, 1: first(x)[0]}
        for l in range(2):
            w = getattr(rnn, f"weight_ih_l{l}")
            for i in range(gates):
                std = float((inputs[l].reshape(-1, inputs[l].shape[-1]) @ w[i * 16:(i + 1) * 16].T).std())
                assert std == pytest.approx(1.0, abs=0.01)


def families_gates(cell) -> tuple[str, ...]:
    return ("i", "f", "g", "o") if cell is nn.LSTM else ("r", "z", "n")


def test_dict_batches_are_called_as_keyword_arguments():
    model = families.hf_bert()
    ids = family_batch("hf_bert", 1)
    result = lsuv(model, {"input_ids": ids, "attention_mask": torch.ones_like(ids)}, seed=0)
    assert result.converged and result.layers[0].name == "encoder.layer.0.attention.self.query"


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_batch_with_non_finite_values_is_refused_and_the_model_left_unchanged(bad):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(16, 4, generator=torch.Generator().manual_seed(0))
    x[3, 1] = bad
    with pytest.raises(ValueError, match=r"^batch: expected finite numbers, got 1 NaN or infinite value\(s\)$"):
        lsuv(model, x, seed=0)
    with pytest.raises(ValueError, match=r"^batch: .* in 'x'$"):
        lsuv(model, {"x": x}, seed=0)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in before.items())
