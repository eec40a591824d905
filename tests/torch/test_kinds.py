"""`initlab.torch.kinds`: every parameter once, with its kind, role, blocks (which tile it exactly) and fans."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from _initlab_families import FAMILIES, convnext, hf_gpt2, vit
from initlab.init import Fans
from initlab.torch.kinds import inventory, kind_of, role_under

HF = ("hf_bert", "hf_gpt2")


@pytest.mark.parametrize("family", [pytest.param(f, marks=pytest.mark.slow) if f in HF else f for f in FAMILIES])
def test_every_parameter_once_and_its_blocks_tile_it_exactly_once(family):
    model = FAMILIES[family][0]()
    entries = inventory(model)
    assert [e.name for e in entries] == [name for name, _ in model.named_parameters()]
    for e in entries:
        if e.kind is None:
            assert not e.blocks and e.reason, e.name
            continue
        assert e.blocks, e.name
        count = torch.zeros(e.shape)
        for block in e.blocks:
            view = block.view(count)
            view += 1
            if block.fan is not None and view.dim() >= 2:  # torch layout (out, in, *kernel): out = fan_out / kernel
                kernel = view[0, 0].numel()
                assert view.shape[0] * kernel == block.fan.fan_out, (e.name, block)
        assert torch.all(count == 1), e.name


def test_gpt2_fused_c_attn_is_three_column_blocks_and_lm_head_is_tied_to_the_token_embedding():
    model = hf_gpt2(dim=32)
    entries = {e.name: e for e in inventory(model)}
    c_attn = entries["transformer.h.0.attn.c_attn.weight"]
    assert c_attn.kind == "hf_conv1d" and [b.label for b in c_attn.blocks] == ["q", "k", "v"]
    weight = c_attn.parameter
    for i, block in enumerate(c_attn.blocks):
        assert block.fan == Fans(32, 32)
        assert torch.equal(block.view(weight), weight[:, 32 * i: 32 * (i + 1)].T)
    assert [b.fan for b in entries["transformer.h.0.attn.c_attn.bias"].blocks] == [Fans(32, 32)] * 3
    c_fc = entries["transformer.h.0.mlp.c_fc.weight"]
    assert c_fc.blocks[0].transposed and c_fc.fan == Fans(32, 128)
    wte = entries["transformer.wte.weight"]
    assert "lm_head.weight" not in entries and wte.tied_to == ("lm_head.weight",) and wte.kind == "embedding"
    assert (role_under("lm_head.weight", model), role_under("transformer.wte.weight", model)) == ("weight", "embedding")


def test_multihead_attention_blocks_and_fans():
    mha = nn.MultiheadAttention(8, 2, kdim=4, vdim=6, add_bias_kv=True)
    entries = {e.name: e for e in inventory(mha)}
    assert [(n, e.fan) for n, e in entries.items() if n.endswith("proj_weight")] == [
        ("q_proj_weight", Fans(8, 8)), ("k_proj_weight", Fans(4, 8)), ("v_proj_weight", Fans(6, 8))]
    assert entries["bias_k"].kind is None and "extra key/value row" in entries["bias_k"].reason
    assert entries["out_proj.weight"].kind == "linear"


@pytest.mark.parametrize("conv, fan", [(nn.ConvTranspose2d(64, 8, 4, stride=2), Fans(64 * 16 / 4, 8 * 16)),
                                       (nn.ConvTranspose1d(16, 32, 5, groups=2), Fans(8 * 5, 16 * 5)),
                                       (nn.Conv2d(16, 32, 3, groups=4), Fans(4 * 9, 32 * 9))])
def test_convolution_fans(conv, fan):
    assert inventory(conv)[0].fan == fan


def test_lstm_gates_with_projection_and_two_layers():
    lstm = nn.LSTM(10, 6, num_layers=2, proj_size=3, bidirectional=True)
    entries = {e.name: e for e in inventory(lstm)}
    assert [b.label for b in entries["weight_ih_l0"].blocks] == ["i", "f", "g", "o"]
    assert entries["weight_ih_l0"].fan == Fans(10, 6) and entries["weight_hh_l0"].fan == Fans(3, 6)
    assert entries["weight_ih_l1"].fan == Fans(6, 6)  # input of layer 1: both directions' projections, 2 x 3
    assert entries["weight_hh_l0"].role == "recurrent_weight" and entries["weight_hh_l0"].blocks[0].recurrent
    assert entries["weight_hr_l0_reverse"].fan == Fans(6, 3)
    gru = {e.name: e for e in inventory(nn.GRU(4, 5))}
    assert [b.label for b in gru["bias_hh_l0"].blocks] == ["r", "z", "n"] and gru["bias_hh_l0"].role == "recurrent_bias"


def test_parameters_of_no_layer_say_what_they_look_like():
    reasons = {e.name: e.reason for e in inventory(vit()) if e.kind is None}
    assert set(reasons) == {"cls_token", "pos_embed"}
    assert reasons["cls_token"].startswith("a class token (ViT.cls_token, shape [1, 1, 32])")
    assert reasons["pos_embed"].startswith("a position embedding (ViT.pos_embed")
    gammas = [e for e in inventory(convnext()) if e.kind is None]
    assert [e.name for e in gammas] == ["1.gamma", "2.gamma", "3.gamma"]
    assert all(e.reason.startswith("a per-channel branch scale (LayerScale-style gamma)") for e in gammas)

    class Unknown(nn.Module):
        def __init__(self):
            super().__init__()
            self.alpha, self.kernel = nn.Parameter(torch.zeros(())), nn.Parameter(torch.zeros(3, 3))

    reasons = {e.name: e.reason for e in inventory(Unknown())}
    parametrized = inventory(nn.utils.parametrizations.weight_norm(nn.Linear(3, 2)))
    assert [(e.name, e.kind) for e in parametrized] == [("bias", "linear"), ("parametrizations.weight.original0", None),
                                                       ("parametrizations.weight.original1", None)]
    assert parametrized[1].reason.startswith("a stored original of a parametrized tensor (ParametrizationList.original0")
    assert reasons["alpha"].startswith("a scalar residual gate (ReZero/SkipInit-style alpha)")
    assert reasons["kernel"] == "not a weight or bias of a known layer type (Unknown.kernel, shape [3, 3])"


@pytest.mark.parametrize("module, kind", [
    (nn.Linear(2, 2), "linear"), (nn.Conv3d(1, 1, 1), "conv"), (nn.ConvTranspose3d(1, 1, 1), "conv_transpose"),
    (nn.MultiheadAttention(4, 1), "attention"), (nn.GRU(2, 2), "rnn"), (nn.EmbeddingBag(3, 2), "embedding"),
    (nn.GroupNorm(1, 2), "norm"), (nn.RMSNorm(2), "norm"), (nn.BatchNorm1d(2), "norm"), (nn.PReLU(), None)])
def test_kind_of(module, kind):
    assert kind_of(module) == kind
