"""Depth schemes: each one's formula proved by exact equality with torch's own draws on the same
torch.Generator (or by the forward it must compute), the model left unchanged on bad input."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import _initlab_families as F
from initlab.torch.depth import (deepnorm, deepnorm_coefficients, delta_orthogonal_convs, depth_mup, fixup,
                                 recommend_depth_scheme, scaled_residual, skipinit)


def snapshot(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def unchanged(model, before) -> bool:
    state = model.state_dict()
    return state.keys() == before.keys() and all(torch.equal(before[k], v) for k, v in state.items())


# ---------------------------------------------------------------- scaled_residual (GPT-2, Megatron-LM)

def test_scaled_residual_draws_every_c_proj_from_n_0_std_over_sqrt_2_n_layers_with_the_generator():
    model = F.hf_gpt2(layers=3)
    before = snapshot(model)
    result = scaled_residual(model, F.tokens(vocab=100), std=0.02, seed=5)
    std = 0.02 / math.sqrt(2 * 3)
    assert result.values["std_out"] == pytest.approx(std, rel=1e-15) == F.gpt2_scaled_residual_std(3)
    g = torch.Generator().manual_seed(5)
    names = [f"transformer.h.{i}.{p}.c_proj.weight" for i in range(3) for p in ("attn", "mlp")]
    assert [name for name, _ in result.changed] == names
    state = model.state_dict()
    for name in names:
        assert torch.equal(state[name], torch.empty(before[name].shape).normal_(0.0, std, generator=g))
    assert all(torch.equal(before[k], state[k]) for k in before if k not in names)


def test_scaled_residual_on_multihead_attention_redraws_out_proj_and_n_layers_overrides_the_count():
    model = F.transformer(depth=2)
    result = scaled_residual(model, F.tokens(), n_layers=8, std=0.1, seed=0)
    assert result.values["std_out"] == pytest.approx(0.1 / 4)
    assert [n for n, _ in result.changed][:2] == ["blocks.0.attn.out_proj.weight", "blocks.0.mlp.2.weight"]


@pytest.mark.slow
def test_scaled_residual_fixes_the_growing_residual_stream_of_the_planted_48_layer_gpt2():
    def stream_growth(model):
        with torch.no_grad():
            hidden = model(F.tokens(vocab=100), output_hidden_states=True).hidden_states
        return float(hidden[-2].pow(2).mean().sqrt() / hidden[1].pow(2).mean().sqrt())  # last block in / first out

    planted = F.gpt2_deep_unscaled(48)
    grown = stream_growth(planted)
    scaled_residual(planted, F.tokens(vocab=100), seed=0)
    library = F.hf_gpt2(layers=48)  # transformers' own init scales c_proj by 1/sqrt(2 * n_layer)
    assert grown > 1.5 * stream_growth(planted)
    assert stream_growth(planted) == pytest.approx(stream_growth(library), rel=0.1)


# ---------------------------------------------------------------- fixup (Zhang, Dauphin & Ma 2019)

def test_fixup_zeroes_last_layers_and_head_and_scales_he_draws_by_l_to_the_minus_half():
    model = F.resnet_plain(blocks=4)
    result = fixup(model, F.images(), seed=3)
    g = torch.Generator().manual_seed(3)
    factor = 4 ** -0.5  # L = 4 branches, m = 2 layers: L^(-1/(2m-2))
    for block in model[2:6]:
        expected = torch.nn.init.kaiming_normal_(torch.empty_like(block.conv1.weight), generator=g) * factor
        assert torch.equal(block.conv1.weight, expected)
        assert not block.conv2.weight.any() and not block.conv1.bias.any() and not block.conv2.bias.any()
    assert not model[-1].weight.any() and not model[-1].bias.any()
    assert ("5.conv1.weight", "he_normal x L^(-1/(2m-2)) = 0.5 (L = 4, m = 2)") in result.changed


def test_fixup_scalars_are_learned_parameters_and_every_block_starts_as_relu_of_its_input():
    model = F.resnet_plain(blocks=3)
    fixup(model, F.images(), seed=0)
    names = [n for n, _ in model.named_parameters() if "fixup" in n]
    assert names[:5] == ["2.conv1.fixup_bias_in", "2.conv1.fixup_bias_out", "2.conv2.fixup_bias_in",
                         "2.conv2.fixup_scale", "2.conv2.fixup_bias_out"]
    x = F.images()
    with torch.no_grad():
        h = model[1](model[0](x))
        for block in model[2:5]:
            assert torch.equal(block(h), torch.relu(h))
            h = block(h)
    model.zero_grad()
    labels = torch.arange(len(x)) % 10
    nn.functional.cross_entropy(model(x), labels).backward()  # the zero head still learns
    assert model[-1].weight.grad.abs().sum() > 0


# ---------------------------------------------------------------- skipinit / ReZero / zero last BN

def test_skipinit_makes_a_pre_ln_transformer_its_embedding_norm_and_head_exactly():
    model = F.transformer(depth=3)
    before = set(model.state_dict())
    result = skipinit(model, F.tokens())
    ids = F.tokens()
    with torch.no_grad():
        x = model.tokens(ids) + model.positions[:, : ids.shape[1]]
        assert torch.equal(model(ids), model.head(model.norm(x)))
    assert set(model.state_dict()) - before == {f"blocks.{i}.{p}.skipinit_alpha" for i in range(3) for p in ("attn", "mlp.2")}
    assert all(name.endswith("skipinit_alpha") for name, _ in result.changed)
    model(ids).sum().backward()
    assert model.blocks[2].mlp[2].skipinit_alpha.grad != 0  # the gate learns


def test_skipinit_zeroes_the_last_bn_of_each_resnet_block_so_each_block_is_relu_of_its_input():
    model = F.resnet()
    result = skipinit(model, F.images())
    assert [n for n, _ in result.changed] == ["3.bn2.weight", "4.bn2.weight", "5.bn2.weight", "6.bn2.weight"]
    model.eval()
    with torch.no_grad():
        h = model[2](model[1](model[0](F.images())))
        assert torch.equal(model[3](h), torch.relu(h))


def test_skipinit_gate_new_adds_alpha_even_after_a_norm_and_existing_refuses_a_branch_without_one():
    resnet = F.resnet()
    skipinit(resnet, F.images(), gate="new")
    assert resnet[3].bn2.skipinit_alpha == 0 and resnet[3].bn2.weight.eq(1).all()
    model = F.transformer()
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"^gate: 'existing': branch 'blocks.0.attn' \(MultiheadAttention\) ends in no norm"):
        skipinit(model, F.tokens(), gate="existing")
    assert unchanged(model, before)


def test_a_scheme_applied_twice_is_refused_naming_the_scalar():
    model = F.transformer()
    skipinit(model, F.tokens())
    with pytest.raises(ValueError, match=r"^model: 'blocks.0.attn' already has 'skipinit_alpha': skipinit was applied"):
        skipinit(model, F.tokens())


# ---------------------------------------------------------------- deepnorm (Wang et al. 2022)

@pytest.mark.parametrize(("n", "m", "expected"), [
    (6, 0, {"encoder": (12 ** 0.25, 48 ** -0.25)}),
    (0, 18, {"decoder": (36 ** 0.25, 144 ** -0.25)}),
    (6, 6, {"encoder": (0.81 * math.exp(5 * math.log(6) / 16), 0.87 * math.exp(-5 * math.log(6) / 16)),
            "decoder": (18 ** 0.25, 72 ** -0.25)}),
    (100, 100, {"encoder": (0.81 * 100 ** (5 / 16), 0.87 * 100 ** (-5 / 16)), "decoder": (300 ** 0.25, 1200 ** -0.25)}),
])
def test_deepnorm_coefficients_are_the_papers(n, m, expected):
    got = deepnorm_coefficients(n, m)
    assert got.keys() == expected.keys()
    for stack in expected:
        assert got[stack] == pytest.approx(expected[stack], rel=1e-12)
    if (n, m) == (6, 0):
        assert got["encoder"] == pytest.approx((1.861210, 0.379918), abs=1e-6)


def post_ln_deepnorm_forward(model, ids, alpha):
    """The DeepNet block written out: LN(alpha x + f(x)) twice per block."""
    x = model.tokens(ids) + model.positions[:, : ids.shape[1]]
    for b in model.blocks:
        x = b.ln1(alpha * x + b.attn(x, x, x, need_weights=False)[0])
        x = b.ln2(alpha * x + b.mlp(x))
    return model.head(x)


def test_deepnorm_hook_computes_ln_of_alpha_x_plus_f_x_and_draws_xavier_with_beta_gains():
    model = F.transformer(pre_norm=False, depth=3)
    result = deepnorm(model, F.tokens(), seed=2)
    alpha, beta = (2 * 3) ** 0.25, (8 * 3) ** -0.25  # N = 3 layers
    assert result.values == pytest.approx({"encoder alpha": alpha, "encoder beta": beta})
    g = torch.Generator().manual_seed(2)
    for block in model.blocks:
        w = block.attn.in_proj_weight
        for rows, gain in ((slice(0, 32), 1.0), (slice(32, 64), 1.0), (slice(64, 96), beta)):
            assert torch.equal(w[rows], torch.nn.init.xavier_normal_(torch.empty(32, 32), gain, generator=g))
        assert torch.equal(block.attn.out_proj.weight, torch.nn.init.xavier_normal_(torch.empty(32, 32), beta, generator=g))
        for layer in (block.mlp[0], block.mlp[2]):
            assert torch.equal(layer.weight, torch.nn.init.xavier_normal_(torch.empty_like(layer.weight), beta, generator=g))
    ids = F.tokens()
    with torch.no_grad():
        hooked = model(ids)
        for handle in result.hooks:  # the written-out forward calls the same modules: without the 1/alpha hooks
            handle.remove()
        # LayerNorm is scale invariant: only its eps (1e-5) tells LN(x + f/alpha) from LN(alpha x + f).
        torch.testing.assert_close(hooked, post_ln_deepnorm_forward(model, ids, alpha), rtol=1e-4, atol=1e-4)
        assert (hooked - model(ids)).abs().max() > 0.01  # and the hooks did change the output


def test_deepnorm_on_bert_gives_query_and_key_gain_1_and_value_dense_and_ffn_beta():
    result = deepnorm(F.hf_bert(), F.tokens(vocab=100), seed=0)
    beta = result.values["encoder beta"]
    done = dict(result.changed)
    prefix = "encoder.layer.1"
    assert done[f"{prefix}.attention.self.query.weight"] == done[f"{prefix}.attention.self.key.weight"] == "xavier_normal(gain=1)"
    for name in ("attention.self.value", "attention.output.dense", "intermediate.dense", "output.dense"):
        assert done[f"{prefix}.{name}.weight"] == f"xavier_normal(gain={beta:.4g})"


def test_deepnorm_encoder_decoder_uses_each_stacks_coefficients():
    with torch.random.fork_rng(devices=[]):  # nn.Transformer draws at construction: the global RNG stays untouched
        torch.manual_seed(0)
        model = nn.Transformer(16, 2, num_encoder_layers=2, num_decoder_layers=3, dim_feedforward=32, dropout=0.0,
                               batch_first=True)
    g = torch.Generator().manual_seed(1)
    example = (torch.randn(2, 5, 16, generator=g), torch.randn(2, 4, 16, generator=g))
    result = deepnorm(model, example, encoder_layers=2, decoder_layers=3, seed=0)
    coefficients = deepnorm_coefficients(2, 3)
    scales = {n: f for n, f in result.changed if n.endswith("deepnorm_scale")}
    assert len(scales) == 2 * 2 + 3 * 3  # encoder: attention + FFN; decoder: self, cross attention + FFN
    assert scales["encoder.layers.1.linear2.deepnorm_scale"].startswith(f"1/alpha = {1 / coefficients['encoder'][0]:.4g}")
    assert scales["decoder.layers.0.multihead_attn.deepnorm_scale"].startswith(f"1/alpha = {1 / coefficients['decoder'][0]:.4g}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        fresh = nn.Transformer(16, 2, num_encoder_layers=2, num_decoder_layers=3, dim_feedforward=32, dropout=0.0,
                               batch_first=True)
    with pytest.raises(ValueError, match=r"^encoder_layers: the model has branches inside and outside 'encoder\*'"):
        deepnorm(fresh, example, seed=0)  # the layer counts cannot be guessed for an encoder-decoder


# ---------------------------------------------------------------- depth-muP, delta-orthogonal convs

class Block(nn.Module):
    def __init__(self, width=6):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(width, width), nn.Linear(width, width)

    def forward(self, x):
        return x + self.fc2(torch.relu(self.fc1(x)))


def test_depth_mup_multiplies_each_branch_by_sqrt_base_depth_over_depth():
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = nn.Sequential(*[Block() for _ in range(8)])
    x = torch.randn(3, 6, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = x
        for block in model:
            expected = expected + math.sqrt(2 / 8) * block.fc2(torch.relu(block.fc1(expected)))
    result = depth_mup(model, x, base_depth=2)
    assert result.values == {"depth": 8, "base_depth": 2, "scale": 0.5}
    with torch.no_grad():
        torch.testing.assert_close(model(x), expected, rtol=0, atol=0)
    assert "0.fc2.depth_mup_scale" in model.state_dict() and not any("depth_mup" in n for n, _ in model.named_parameters())


def test_delta_orthogonal_convs_make_a_linear_conv_chain_an_exact_isometry_and_list_what_they_left():
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        convs = [nn.Conv2d(4, 8, 3, padding=1, padding_mode="circular"),
                 *[nn.Conv2d(8, 8, 3, padding=1, padding_mode="circular") for _ in range(9)]]
        model = nn.Sequential(*convs, nn.Conv2d(8, 4, 1), nn.Flatten(), nn.Linear(4 * 36, 3)).double()
    result = delta_orthogonal_convs(model, seed=0)
    assert len(result.changed) == 10
    assert dict(result.left) == {"10.weight": "out 4 < in 8 channels: no delta-orthogonal kernel",
                                 "12.weight": "not a convolution"}
    x = torch.randn(2, 4, 6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        y = model[:10](x)
    torch.testing.assert_close(y.flatten(1).norm(dim=1), x.flatten(1).norm(dim=1), rtol=1e-12, atol=0)


def test_delta_orthogonal_is_a_registry_scheme_usable_in_apply():
    from initlab.torch import apply
    model = apply(nn.Sequential(nn.Conv2d(3, 6, 3)), "delta_orthogonal(gain=2)", seed=0)
    centre = model[0].weight[:, :, 1, 1]
    torch.testing.assert_close(centre.T @ centre, 4 * torch.eye(3), rtol=0, atol=1e-6)


# ---------------------------------------------------------------- recommendation and bad input

@pytest.mark.parametrize(("family", "scheme", "message"), [
    ("resnet", scaled_residual, r"^model: branch '3.bn2' ends in a norm \(BatchNorm2d\).*use skipinit"),
    ("resnet", fixup, r"^model: branch '3.bn2' has the norm layer '3.bn1': Fixup is for residual networks without"),
    ("hf_gpt2", deepnorm, r"^model: DeepNorm is for post-LN blocks.*'transformer.h.0.attn.c_proj'.*use scaled_residual"),
])
def test_a_scheme_that_does_not_fit_the_architecture_refuses_it_saying_what_to_use_and_changes_nothing(family, scheme, message):
    factory, batch = F.FAMILIES[family]
    model = factory()
    before = snapshot(model)
    with pytest.raises(ValueError, match=message):
        scheme(model, batch(), seed=0)
    assert unchanged(model, before)


@pytest.mark.parametrize(("family", "scheme"), [
    ("transformer_pre_ln", "scaled_residual"), ("hf_gpt2", "scaled_residual"), ("vit", "scaled_residual"),
    ("transformer_post_ln", "deepnorm"), ("hf_bert", "deepnorm"), ("torch_encoder", "deepnorm"),
    ("resnet", "skipinit"), ("mobilenet", "skipinit"), ("lstm", "none"), ("embedding", "none"),
])
def test_recommend_depth_scheme_follows_the_architecture(family, scheme):
    factory, batch = F.FAMILIES[family]
    recommendation = recommend_depth_scheme(factory(), batch())
    assert recommendation.scheme == scheme
    assert recommendation.call.startswith(scheme) or scheme == "none"


def test_recommend_depth_scheme_for_unnormalised_resnet_and_plain_conv_chain():
    assert recommend_depth_scheme(F.resnet_plain(), F.images()).scheme == "fixup"
    assert recommend_depth_scheme(F.conv_chain(depth=16), F.images()).scheme == "delta_orthogonal_convs"
    assert "no example given" in recommend_depth_scheme(F.transformer()).why


@pytest.mark.parametrize(("call", "message"), [
    (lambda m: scaled_residual(m, F.tokens(), std=-1, seed=0), r"^std: expected a positive number, got -1"),
    (lambda m: scaled_residual(m, F.tokens(), n_layers=0, seed=0), r"^n_layers: expected a positive integer, got 0"),
    (lambda m: scaled_residual(m, F.tokens()), r"^generator, seed: give exactly one"),
    (lambda m: skipinit(m, F.tokens(), gate="bogus"), r"^gate: expected auto, new or existing, got 'bogus'"),
    (lambda m: deepnorm_coefficients(-1, 2), r"^encoder_layers: expected a non-negative integer, got -1"),
    (lambda m: depth_mup(m, F.tokens(), depth=0), r"^depth: expected a positive integer, got 0"),
    (lambda m: scaled_residual("model", F.tokens(), seed=0), r"^model: expected a torch.nn.Module, got str"),
    (lambda m: skipinit(F.conv_chain(depth=3), F.images()), r"^model: found no residual branch"),
])
def test_bad_input_is_one_line_naming_the_argument_and_changes_nothing(call, message):
    model = F.transformer()
    before = snapshot(model)
    with pytest.raises(ValueError, match=message):
        call(model)
    assert unchanged(model, before)
    assert not any(m._forward_hooks for m in model.modules())


def test_no_scheme_touches_torchs_global_rng():
    state = torch.get_rng_state()
    scaled_residual(F.transformer(), F.tokens(), seed=0)
    deepnorm(F.transformer(pre_norm=False), F.tokens(), seed=0)
    fixup(F.resnet_plain(), F.images(), seed=0)
    assert torch.equal(torch.get_rng_state(), state)
