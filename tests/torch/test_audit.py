"""initlab.torch.audit: the scheme each parameter tensor matches, and the flags on planted bugs."""

import math

import pytest
import torch
from _initlab_families import FAMILIES, hf_bert, hf_gpt2, seeded, zero_head
from torch import nn

from initlab._errors import ArgumentError
from initlab.audit_flags import FLAGS
from initlab.torch import apply, audit
from initlab.torch.scheme_match import ALPHA

TORCH_DEFAULT = "torch_default (kaiming_uniform a=sqrt(5))"
RNN_DEFAULT = "(torch's RNN default, 1/sqrt(hidden_size))"


def _generator(seed=0):
    return torch.Generator().manual_seed(seed)


@seeded
def _linear(fan_in=512, fan_out=128):
    return nn.Linear(fan_in, fan_out)


def _rows(model, **kwargs):
    return {row.name: row for row in audit(model, **kwargs).rows}


def test_linear_at_torch_default_matches_torch_default_weight_and_bias():
    rows = _rows(_linear())
    for name in ("weight", "bias"):
        row = rows[name]
        assert (row.match, row.scheme, row.flags) == (TORCH_DEFAULT, "torch_default", ())
        assert row.p_value >= ALPHA
        assert row.expected_std == pytest.approx(1 / math.sqrt(3 * 512))  # U(+-1/sqrt(fan_in)), the weight's fans
    assert (rows["weight"].fan_in, rows["weight"].fan_out, rows["weight"].shape) == (512, 128, (128, 512))


# A (128, 512) weight: fan_in 512 and fan_out 128 differ, so each scheme below has its own std (he_normal
# 0.0625, xavier_normal 0.0559, lecun_normal 0.0442, he_normal(mode=fan_out) 0.125), far apart for a KS
# test on 20,000 of the 65,536 entries.
KNOWN = [
    (lambda w, g: nn.init.kaiming_normal_(w, generator=g), "he_normal"),
    (lambda w, g: nn.init.kaiming_uniform_(w, generator=g), "he_uniform"),
    (lambda w, g: nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu", generator=g),
     "he_normal(mode=fan_out)"),
    (lambda w, g: nn.init.xavier_uniform_(w, generator=g), "xavier_uniform"),
    (lambda w, g: nn.init.xavier_normal_(w, generator=g), "xavier_normal"),
    (lambda w, g: nn.init.normal_(w, std=0.02, generator=g), "normal(std=0.02)"),
    (lambda w, g: nn.init.trunc_normal_(w, std=0.02, a=-0.04, b=0.04, generator=g),
     "truncated_normal(std=0.02, a=-0.04, b=0.04)"),
    (lambda w, g: nn.init.uniform_(w, -0.05, 0.05, generator=g), "uniform(limit=0.05)"),
    (lambda w, g: nn.init.uniform_(w, generator=g), "uniform(low=0, high=1)"),
]


@pytest.mark.parametrize("init, expected", KNOWN, ids=[expected for _, expected in KNOWN])
def test_torch_nn_init_draws_match_their_scheme(init, expected):
    model = _linear()
    with torch.no_grad():
        init(model.weight, _generator(1))
    row = _rows(model)["weight"]
    assert (row.match, row.flags) == (expected, ())
    assert row.p_value >= ALPHA


@pytest.mark.parametrize("scheme", ["lecun_normal", "variance_scaling", "variance_scaling(scale=2)",
                                    "variance_scaling(mode=fan_avg)", "he_uniform(mode=fan_out)"])
def test_initlab_apply_draws_match_their_scheme(scheme):
    model = apply(_linear(), scheme, seed=2)
    rows = _rows(model)
    assert (rows["weight"].match, rows["weight"].flags) == (scheme, ())
    assert rows["bias"].match == "zeros"


@pytest.mark.parametrize("init, expected", [
    (nn.init.zeros_, "zeros"), (nn.init.ones_, "ones"), (lambda w: nn.init.constant_(w, 0.5), "constant(value=0.5)"),
    (lambda w: nn.init.orthogonal_(w, generator=_generator(3)), "orthogonal"),
    (lambda w: nn.init.orthogonal_(w, gain=2.0, generator=_generator(3)), "orthogonal(gain=2)"),
    (nn.init.eye_, "identity"),
])
def test_exact_checks_name_constants_orthogonal_and_identity_without_a_p_value(init, expected):
    model = _linear()
    with torch.no_grad():
        init(model.weight)
    row = _rows(model)["weight"]
    assert (row.match, row.p_value) == (expected, None)


def test_orthogonal_is_checked_per_block_of_an_lstm_recurrent_weight():
    # Four gate blocks, each orthogonal: the (4H, H) tensor's columns have norm 2, not 1.
    lstm = seeded(lambda: nn.LSTM(16, 32))()
    with torch.no_grad():
        for k in range(4):
            nn.init.orthogonal_(lstm.weight_hh_l0[32 * k: 32 * (k + 1)], generator=_generator(k))
    rows = _rows(lstm)
    assert rows["weight_hh_l0"].match == "orthogonal"
    assert rows["weight_ih_l0"].match == f"uniform(limit=0.1768) {RNN_DEFAULT}"


def test_a_tied_output_layer_is_one_row_flagged_tied():
    model = seeded(lambda: nn.Sequential(nn.Embedding(100, 16), nn.Linear(16, 100, bias=False)))()
    model[1].weight = model[0].weight
    rows = audit(model).rows
    assert [(row.name, row.flags, row.tied_to) for row in rows] == [("0.weight", ("tied",), ("1.weight",))]
    assert rows[0].match == "normal(std=1)"  # nn.Embedding's default


@pytest.mark.slow  # imports transformers (seconds)
def test_tied_lm_head_of_hf_gpt2_is_one_row_flagged_tied():
    model = hf_gpt2()
    rows = audit(model).rows
    assert [row.name for row in rows] == [name for name, _ in model.named_parameters()]
    assert "lm_head.weight" not in [row.name for row in rows]
    tied = [row for row in rows if "tied" in row.flags]
    assert [(row.name, row.tied_to, row.match) for row in tied] == [
        ("transformer.wte.weight", ("lm_head.weight",), "normal(std=0.02)")]


def test_two_identical_weights_are_flagged_identical_but_equal_zero_biases_are_not():
    model = seeded(lambda: nn.Sequential(nn.Linear(64, 64), nn.Linear(64, 64), nn.Linear(64, 64)))()
    with torch.no_grad():
        model[2].weight.copy_(model[0].weight)
        for layer in model:
            layer.bias.zero_()
    rows = _rows(model)
    assert rows["0.weight"].flags == rows["2.weight"].flags == ("identical",)
    assert (rows["0.weight"].identical_to, rows["2.weight"].identical_to) == (("2.weight",), ("0.weight",))
    assert rows["1.weight"].flags == () and all(rows[f"{k}.bias"].flags == () for k in range(3))


def test_a_nan_is_flagged_and_the_statistics_are_of_the_finite_entries():
    model = _linear()
    with torch.no_grad():
        model.weight[3, 4] = float("nan")
        model.weight[5, 6] = float("inf")
    row = _rows(model)["weight"]
    finite = model.weight.detach()[torch.isfinite(model.weight.detach())]
    assert row.flags == ("non_finite",)
    assert row.std == pytest.approx(float(finite.std(correction=0)), rel=1e-5)
    assert row.mean == pytest.approx(float(finite.mean()), abs=1e-7)
    assert row.match == TORCH_DEFAULT


def test_he_normal_with_a_std_30_percent_too_large_is_he_normal_flagged_std_off():
    model = _linear(fan_in=256, fan_out=256)
    with torch.no_grad():
        nn.init.kaiming_normal_(model.weight, generator=_generator(4)).mul_(1.3)
    row = _rows(model)["weight"]
    assert (row.match, row.flags) == ("he_normal", ("std_off",))
    assert row.expected_std == pytest.approx(math.sqrt(2 / 256))
    assert row.std / row.expected_std == pytest.approx(1.3, rel=0.02)  # 65,536 entries: std error 0.3%
    assert row.p_value < ALPHA


def test_a_small_tensor_30_percent_off_is_within_sampling_error_and_not_flagged():
    # 16 values: the std estimate's standard error is 1/sqrt(32) = 18%, so 30% is not evidence.
    model = _linear(fan_in=16, fan_out=16)
    with torch.no_grad():
        model.bias.mul_(1.3)
    assert "std_off" not in _rows(model)["bias"].flags


def test_zero_head_weight_is_flagged_zero_and_layer_scale_gamma_is_not():
    rows = _rows(zero_head("transformer_pre_ln"))
    assert (rows["head.weight"].match, rows["head.weight"].flags) == ("zeros", ("zero",))
    assert (rows["head.bias"].match, rows["head.bias"].flags) == ("zeros", ())  # a zero bias is by design
    convnext = _rows(FAMILIES["convnext"][0]())
    assert (convnext["1.gamma"].match, convnext["1.gamma"].flags) == ("constant(value=1e-06)", ())


def test_constant_nonzero_weight_is_flagged_constant():
    model = _linear()
    with torch.no_grad():
        model.weight.fill_(0.01)
    assert _rows(model)["weight"].flags == ("constant",)


HF_FAMILIES = ("hf_bert", "hf_gpt2")  # these import transformers: seconds, so in the slow suite


@pytest.mark.parametrize("family", [pytest.param(family, marks=[pytest.mark.slow] if family in HF_FAMILIES else [])
                                    for family in FAMILIES])
def test_every_family_audits_one_row_per_parameter_with_no_false_flag(family):
    model = FAMILIES[family][0]()
    rows = audit(model).rows
    assert [row.name for row in rows] == [name for name, _ in model.named_parameters()]
    expected = {"hf_gpt2": {"tied"}, "torch_encoder": {"identical"}}.get(family, set())
    assert {flag for row in rows for flag in row.flags} == expected
    for row in rows:
        if row.kind == "norm":
            assert row.match == ("ones" if row.role == "norm_weight" else "zeros"), row.name
        if row.kind in ("linear", "conv") and row.role == "weight" and not family.startswith("hf_"):
            assert row.match == TORCH_DEFAULT, row.name


def test_torch_encoder_layers_start_as_copies_of_one_another():
    # nn.TransformerEncoder deep-copies its layer: every layer starts with the same weights.
    rows = _rows(FAMILIES["torch_encoder"][0]())
    assert rows["layers.0.linear1.weight"].identical_to == ("layers.1.linear1.weight",)
    assert rows["layers.0.self_attn.in_proj_weight"].match == "xavier_uniform (fans of the stored tensor: 32, 96)"


@pytest.mark.slow
def test_hf_bert_embeddings_are_normal_002_and_its_layer_norms_ones_and_zeros():
    rows = audit(hf_bert()).rows
    by_name = {row.name: row for row in rows}
    for name in ("word_embeddings", "position_embeddings", "token_type_embeddings"):
        assert by_name[f"embeddings.{name}.weight"].match == "normal(std=0.02)", name
    norms = [row for row in rows if "LayerNorm" in row.name]
    assert len(norms) == 10 and all(row.match == ("ones" if row.name.endswith("weight") else "zeros") for row in norms)
    dense = [row for row in rows if row.kind == "linear" and row.role == "weight"]
    assert len(dense) == 13 and {row.match for row in dense} == {"normal(std=0.02)"}


def test_lstm_at_its_default_matches_torch_rnn_default():
    rows = _rows(FAMILIES["lstm"][0]())  # hidden 32: U(+-1/sqrt(32))
    for name in ("rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0"):
        assert rows[name].match == f"uniform(limit=0.1768) {RNN_DEFAULT}", name
    assert rows["embed.weight"].match == "normal(std=1)"


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_other_float_dtypes_audit_alike(dtype):
    rows = _rows(_linear().to(dtype))
    assert [(row.match, row.flags) for row in rows.values()] == [(TORCH_DEFAULT, ())] * 2


def test_same_seed_same_audit_and_the_model_and_global_rng_are_left_alone():
    model = _linear()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rng = torch.random.get_rng_state()
    first, second = audit(model, seed=5), audit(model, seed=5)
    assert first == second
    assert torch.equal(torch.random.get_rng_state(), rng)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


@pytest.mark.slow
def test_summary_counts_flags_and_matches():
    summary = audit(hf_gpt2()).summary
    assert summary["parameters"] == 28 and summary["flagged"] == 1
    assert summary["flags"] == {flag: int(flag == "tied") for flag in FLAGS}
    assert summary["matches"]["normal(std=0.02)"] == 6 and summary["sample_size"] == 20_000


@pytest.mark.parametrize("call, message", [
    (lambda: audit("model"), "model: expected a torch.nn.Module, got str"),
    (lambda: audit(nn.ReLU()), "model: ReLU has no parameters: nothing to audit"),
    (lambda: audit(nn.Linear(4, 4, device="meta")), "model: parameter 'weight' is on the meta device (it has no values yet)"),
    (lambda: audit(_linear(), seed=-1), "seed: expected a non-negative integer, got -1"),
    (lambda: audit(_linear(), sample_size=10), "sample_size: expected an integer >= 100, got 10"),
])
def test_bad_input_names_the_argument(call, message):
    with pytest.raises(ArgumentError) as error:
        call()
    assert str(error.value) == message
