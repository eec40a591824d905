"""`initlab.torch.initialise` / `apply` on the model families of issue 10: every parameter accounted for,
block by block (attention q/k/v, RNN gates, GPT-2's fused c_attn, transposed convolutions), tied tensors
never silently rewritten, and the report's numbers are the drawn ones."""

from __future__ import annotations

import json
import math
import warnings

import pytest
import torch
from torch import nn
from torch.nn import init as I

from _initlab_families import FAMILIES, convnext, hf_gpt2, lstm, vit
from initlab.torch import ApplyResult, TiedParameterWarning, apply, initialise
from initlab.torch.kinds import inventory

HF = ("hf_bert", "hf_gpt2")
SE_LIMIT = 5  # a sample std within 5 standard errors: a false failure has probability < 1e-6 per block


def std_tolerance(n: int) -> float:
    """Relative tolerance of the sample std of n normal values: 5 SE, SE = 1/sqrt(2n) (uniform laws have a
    smaller SE, so the bound is conservative for them)."""
    return SE_LIMIT / math.sqrt(2 * n)


def assert_std(values: torch.Tensor, expected: float, what: str = ""):
    actual = values.detach().double().std().item()
    assert actual == pytest.approx(expected, rel=std_tolerance(values.numel())), (what, actual, expected)


def blocks_of(result: ApplyResult, model: nn.Module, name: str):
    """(label, drawn block as a tensor, BlockRow) of parameter `name`, through the inventory's own views."""
    entry = next(e for e in inventory(model) if e.name == name)
    row = result.row(name)
    return [(b.label, b.view(entry.parameter), r) for b, r in zip(entry.blocks, row.blocks)]


@pytest.mark.parametrize("family", [pytest.param(f, marks=pytest.mark.slow) if f in HF else f for f in FAMILIES])
def test_every_parameter_appears_once_and_every_drawn_block_has_the_formula_std(family):
    model = FAMILIES[family][0]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TiedParameterWarning)
        result = initialise(model, "he_normal", seed=0)
    names = [name for name, _ in model.named_parameters()]
    assert [row.name for row in result.rows] == names  # each tensor once, in named_parameters() order
    assert len(result.initialised) + len(result.left_alone) == len(names)
    assert all(row.note for row in result.left_alone)  # every tensor left alone says why
    checked = 0
    for row in result.initialised:
        for label, block, expected in blocks_of(result, model, row.name):
            assert tuple(block.shape) == expected.shape
            if row.spec == "he_normal":
                assert expected.std == pytest.approx(math.sqrt(2 / expected.fan_in))  # the report's formula
            if expected.std and block.numel() >= 64:
                assert_std(block, expected.std, (row.name, label))
                checked += 1
            elif expected.std == 0:
                assert torch.all(block == expected.mean), (row.name, label)
    assert checked >= 2


def test_gpt2_he_normal_fills_every_conv1d_and_leaves_the_tied_embedding_with_a_warning():
    model = hf_gpt2(dim=64)
    wte = model.transformer.wte.weight.detach().clone()
    with pytest.warns(TiedParameterWarning, match=r"transformer\.wte\.weight.*tied='skip'"):
        result = initialise(model, "he_normal", seed=0)
    assert torch.equal(model.transformer.wte.weight, wte) and model.lm_head.weight is model.transformer.wte.weight
    assert wte.std().item() == pytest.approx(0.02, rel=0.05)  # GPT-2's own 0.02, not he_normal's 0.125
    row = result.row("lm_head.weight")
    assert not row.done and "tied to lm_head.weight" in row.note and "owner 'transformer.wte'" in row.note
    conv1d = [(n, m) for n, m in model.named_modules() if type(m).__name__ == "Conv1D"]
    assert len(conv1d) == 8
    for name, module in conv1d:  # weight stored (in, out): he_normal's std is sqrt(2 / in) for every column block
        assert result.row(f"{name}.weight").done and torch.count_nonzero(module.bias) == 0
        n_in = module.weight.shape[0]
        blocks = module.weight.split(64, dim=1) if name.endswith("c_attn") else (module.weight,)
        assert len(blocks) == (3 if name.endswith("c_attn") else 1)
        for block in blocks:
            assert_std(block, math.sqrt(2 / n_in), name)
    assert [b.label for b in result.row("transformer.h.0.attn.c_attn.weight").blocks] == ["q", "k", "v"]


def test_gpt2_tied_owner_fills_the_shared_tensor_once_by_the_embedding_rule_and_error_refuses():
    model = hf_gpt2(dim=64)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TiedParameterWarning)  # an explicit policy does not warn
        result = initialise(model, "he_normal", embedding="normal(std=0.05)", tied="owner", seed=0)
    row = result.row("lm_head.weight")
    assert row.done and row.argument == "embedding" and row.name == "transformer.wte.weight"
    assert model.lm_head.weight is model.transformer.wte.weight
    assert_std(model.transformer.wte.weight, 0.05)
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(ValueError, match=r"^tied: 'transformer\.wte\.weight' is the same tensor as lm_head\.weight"):
        apply(model, "he_normal", tied="error", seed=0)
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), before))


def test_a_module_registered_twice_is_filled_once_without_a_tied_warning():
    shared = nn.Linear(4, 4)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TiedParameterWarning)
        result = initialise(model, "identity(gain=3)", seed=0)
    assert [row.name for row in result.rows] == ["0.weight", "0.bias"] and result.rows[0].tied_to == ("2.weight",)
    assert torch.equal(shared.weight, 3 * torch.eye(4))


def test_multihead_attention_q_k_v_are_blocks_drawn_by_torch_one_after_another():
    e = 64
    mha = initialise(nn.MultiheadAttention(e, 4), "he_normal", bias="normal(std=0.1)", seed=3).model
    g = torch.Generator().manual_seed(3)
    q, k, v = (I.kaiming_normal_(torch.empty(e, e), generator=g) for _ in range(3))
    assert torch.equal(mha.in_proj_weight, torch.cat([q, k, v]))  # torch's numbers, block by block
    for block in mha.in_proj_weight.split(e):
        assert_std(block, math.sqrt(2 / e))
    bias = torch.cat([I.normal_(torch.empty(e), 0, 0.1, generator=g) for _ in range(3)])
    assert torch.equal(mha.in_proj_bias, bias)
    assert torch.equal(mha.out_proj.weight, I.kaiming_normal_(torch.empty(e, e), generator=g))


def test_multihead_attention_xavier_per_block_bound_is_sqrt2_times_torchs_fused_bound():
    e = 64
    mha = apply(nn.MultiheadAttention(e, 4), "xavier_uniform", seed=0)
    per_block, fused = math.sqrt(6 / (2 * e)), math.sqrt(6 / (4 * e))  # fan_out E, not torch's 3E
    for block in mha.in_proj_weight.split(e):
        assert fused * 1.2 < block.abs().max().item() <= per_block


def test_multihead_attention_with_kdim_vdim_fills_q_k_v_proj_weights_with_their_own_fan_in():
    mha = nn.MultiheadAttention(64, 4, kdim=32, vdim=128)
    result = initialise(mha, "he_normal", seed=0)
    for name, fan_in in (("q_proj_weight", 64), ("k_proj_weight", 32), ("v_proj_weight", 128)):
        assert result.row(name).blocks[0].fan_in == fan_in
        assert_std(getattr(mha, name), math.sqrt(2 / fan_in), name)


@pytest.mark.parametrize("conv, fan_in", [(nn.ConvTranspose2d(64, 8, 4, stride=2), 64 * 16 / 4),
                                          (nn.ConvTranspose1d(16, 32, 5, stride=1, groups=2), 8 * 5)])
def test_conv_transpose_he_normal_std_comes_from_its_own_fans_not_torchs(conv, fan_in):
    # fan_in: inputs summed per output entry, in/groups * prod(kernel) / prod(stride); torch would read
    # out/groups * prod(kernel) off the (in, out/groups, *kernel) storage.
    torch_fan_in = I._calculate_fan_in_and_fan_out(conv.weight)[0]
    result = initialise(conv, "he_normal", seed=0)
    assert result.row("weight").blocks[0].fan_in == pytest.approx(fan_in)
    assert_std(conv.weight, math.sqrt(2 / fan_in))
    assert abs(math.log(fan_in / torch_fan_in)) > 0.5  # the two laws are told apart at this tolerance


def test_conv_transpose_torch_default_is_torchs_own_reset_with_the_generator():
    conv = apply(nn.ConvTranspose2d(6, 4, 3, stride=2), "torch_default", bias="torch_default", seed=2)
    g = torch.Generator().manual_seed(2)
    weight = I.kaiming_uniform_(torch.empty(6, 4, 3, 3), a=math.sqrt(5), generator=g)
    bound = 1 / math.sqrt(4 * 9)  # torch's fan_in of the stored weight
    assert torch.equal(conv.weight, weight)
    assert torch.equal(conv.bias, I.uniform_(torch.empty(4), -bound, bound, generator=g))


def test_lstm_orthogonal_recurrent_blocks_are_orthogonal_per_gate_and_input_blocks_he():
    model = lstm(dim=64, hidden=32, layers=2)
    result = initialise(model, "he_normal", recurrent="orthogonal", seed=0)
    hidden = 32
    for layer in (0, 1):
        w_hh = getattr(model.rnn, f"weight_hh_l{layer}")
        for gate in w_hh.split(hidden):  # i, f, g, o: each an orthogonal H x H matrix
            torch.testing.assert_close(gate @ gate.T, torch.eye(hidden), atol=1e-5, rtol=0)
        w_ih = getattr(model.rnn, f"weight_ih_l{layer}")
        for gate in w_ih.split(hidden):
            assert_std(gate, math.sqrt(2 / w_ih.shape[1]))
    row = result.row("rnn.weight_hh_l0")
    assert row.argument == "recurrent" and [b.label for b in row.blocks] == ["i", "f", "g", "o"]


def test_embedding_keeps_by_default_and_a_spec_draws_it_with_the_padding_row_zero():
    model = nn.Sequential(nn.Embedding(500, 16, padding_idx=3), nn.Linear(16, 4))
    table = model[0].weight.detach().clone()
    result = initialise(model, "he_normal", seed=0)
    assert torch.equal(model[0].weight, table) and "embedding='keep'" in result.row("0.weight").note
    result = initialise(model, "he_normal", embedding="normal(std=0.02)", seed=0)
    assert result.row("0.weight").argument == "embedding" and "padding row 3" in result.row("0.weight").note
    assert torch.count_nonzero(model[0].weight[3]) == 0
    assert_std(torch.cat([model[0].weight[:3], model[0].weight[4:]]), 0.02)


def test_norm_layers_get_weight_one_bias_zero_unless_keep():
    model = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.BatchNorm1d(8))
    with torch.no_grad():
        for p in model[1:].parameters():
            p.fill_(0.5)
    apply(model, "he_normal", norm="keep", seed=0)
    assert all(torch.all(p == 0.5) for p in model[1:].parameters())
    result = initialise(model, "he_normal", seed=0)
    for norm in (model[1], model[2]):
        assert torch.all(norm.weight == 1) and torch.all(norm.bias == 0)
    assert {result.row(n).argument for n in ("1.weight", "1.bias", "2.weight", "2.bias")} == {"norm"}


def test_vit_result_lists_cls_token_and_pos_embed_with_reasons_and_serialises():
    model = vit()
    result = initialise(model, "he_normal", seed=0)
    alone = {row.name: row.note for row in result.left_alone}
    assert set(alone) == {"cls_token", "pos_embed"}
    assert alone["cls_token"].startswith("a class token") and alone["pos_embed"].startswith("a position embedding")
    document = json.loads(json.dumps(result.to_json()))
    assert document["summary"] == {"parameters": 32, "initialised": 30, "left_alone": 2,
                                   "values_initialised": sum(p.numel() for n, p in model.named_parameters()
                                                             if n not in alone),
                                   "values": sum(p.numel() for p in model.parameters())}
    row = next(r for r in document["parameters"] if r["name"] == "blocks.0.attn.in_proj_weight")
    assert [(b["label"], b["fan_in"], b["fan_out"]) for b in row["blocks"]] == [("q", 32, 32), ("k", 32, 32),
                                                                                ("v", 32, 32)]
    text = str(result)
    assert text.startswith("initialised 30 of 32 parameter tensors (scheme='he_normal'")
    assert "blocks.0.attn.in_proj_weight" in text and "q, k, v (32, 32)" in text
    assert "left alone: 2" in text and "cls_token" in text.split("left alone: 2")[1]


def test_overrides_give_gpt2_its_scaled_residual_projections_and_fill_a_layerscale_gamma():
    layers, std = 4, 0.02
    model = hf_gpt2(layers=layers, dim=64)
    scaled = std / math.sqrt(2 * layers)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TiedParameterWarning)
        result = initialise(model, f"normal(std={std})", overrides={"*.c_proj.weight": f"normal(std={scaled})"},
                            seed=0)
    for i in range(layers):
        block = model.transformer.h[i]
        assert_std(block.attn.c_attn.weight, std)
        assert_std(block.mlp.c_fc.weight, std)
        for projection in (block.attn.c_proj, block.mlp.c_proj):
            assert_std(projection.weight, scaled)
    row = result.row("transformer.h.0.mlp.c_proj.weight")
    assert row.argument == "overrides" and row.note == "pattern '*.c_proj.weight'"
    assert row.blocks[0].std == pytest.approx(scaled)
    model = convnext()
    result = initialise(model, "he_normal", overrides={"*.gamma": "constant(0.5)"}, seed=0)
    assert all(torch.all(model[i].gamma == 0.5) for i in (1, 2, 3))
    assert result.row("1.gamma").argument == "overrides" and not result.left_alone


def test_an_override_naming_a_tied_tensor_fills_it_once_without_a_warning():
    model = hf_gpt2(dim=64)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TiedParameterWarning)
        result = initialise(model, "he_normal", overrides={"lm_head.weight": "normal(std=0.1)"}, tied="error", seed=0)
    assert result.row("lm_head.weight").note == "pattern 'lm_head.weight'; tied to lm_head.weight: filled once"
    assert_std(model.lm_head.weight, 0.1)


def test_bad_overrides_name_the_argument_and_leave_the_model_unchanged():
    model = vit()
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(ValueError, match=r"^overrides: pattern '\*\.c_proj\.weight' matches no parameter \(or block\) "
                                         r"of ViT"):
        apply(model, "he_normal", overrides={"cls_token": "zeros", "*.c_proj.weight": "zeros"}, seed=0)
    with pytest.raises(ValueError, match=r"^overrides: 'cls_token': unknown scheme 'zeroes' \(did you mean 'zeros'"):
        apply(model, "he_normal", overrides={"cls_token": "zeroes"}, seed=0)
    with pytest.raises(TypeError, match=r"^overrides: expected a dict of glob pattern -> spec string"):
        apply(model, "he_normal", overrides=["cls_token"], seed=0)
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), before))


def test_keep_everywhere_with_one_override_changes_only_what_the_pattern_names_and_does_not_warn():
    model = hf_gpt2(layers=2, dim=64)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    with warnings.catch_warnings():
        warnings.simplefilter("error", TiedParameterWarning)  # no rule would write the tied matrix: no warning
        result = initialise(model, "keep", bias="keep", norm="keep", overrides={"*.c_proj.weight": "zeros"}, seed=0)
    for name, p in model.named_parameters():
        assert torch.equal(p, before[name]) != name.endswith("c_proj.weight"), name
    assert result.row("transformer.h.0.ln_1.weight").note == "norm='keep': norm layers keep the model's own init"
    assert len(result.initialised) == 4


def test_block_overrides_set_an_lstm_forget_bias_and_zero_gpt2_queries_leaving_the_other_blocks_to_their_rule():
    model = lstm(hidden=32)
    result = initialise(model, "he_normal", overrides={"rnn.bias_*:f": "ones"}, seed=0)
    for name in ("bias_ih_l0", "bias_hh_l0"):
        i, f, g, o = getattr(model.rnn, name).split(32)
        assert torch.all(f == 1) and all(torch.all(b == 0) for b in (i, g, o))
        row = result.row(f"rnn.{name}")
        assert (row.spec, row.argument) == ("i, g, o: zeros; f: ones", "i, g, o: bias; f: overrides")
    model = hf_gpt2(dim=64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TiedParameterWarning)
        initialise(model, "he_normal", overrides={"*.c_attn.weight:q": "zeros"}, seed=0)
    for block in model.transformer.h:
        q, k, v = block.attn.c_attn.weight.split(64, dim=1)
        assert torch.count_nonzero(q) == 0
        assert_std(torch.cat([k, v]), math.sqrt(2 / 64))


def test_a_block_override_under_keep_changes_that_block_only_and_says_what_the_others_kept():
    model = lstm(hidden=32)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    result = initialise(model, "keep", bias="keep", overrides={"rnn.bias_ih_l0:f": "constant(2)"}, seed=0)
    for name, p in model.named_parameters():
        if name != "rnn.bias_ih_l0":
            assert torch.equal(p, before[name]), name
    i, f, g, o = model.rnn.bias_ih_l0.split(32)
    assert torch.all(f == 2) and torch.equal(torch.cat([i, g, o]), torch.cat([before["rnn.bias_ih_l0"].split(32)[k]
                                                                           for k in (0, 2, 3)]))
    assert result.row("rnn.bias_ih_l0").note == ("pattern 'rnn.bias_ih_l0:f'; other blocks: bias='keep': biases keep "
                                                 "the model's own init")
