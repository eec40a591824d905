"""initlab.torch.mup on small hand-built models: the table's learning-rate multipliers, the rescale and
readout multiplier, Conv1D fans, tied readouts, attention found scaled 1/sqrt(d), bad input."""

import copy
import math
import warnings

import pytest
import torch
from torch import nn

from examples.width_models import conv1d_mlp, gpt, gpt_plain
from initlab._errors import ArgumentError
from initlab.torch import apply
from initlab.torch.mup import MuPWarning, applied, mup, optimizer, width_factory


def mlp(width=256, d_in=8, d_out=10):
    torch.manual_seed(0)  # inside the tests' forked RNG (fixture below)
    return nn.Sequential(nn.Linear(d_in, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, d_out))


@pytest.fixture(autouse=True)
def _forked_rng():
    with torch.random.fork_rng(devices=[]):
        yield


# Tensor Programs V, Table 3 relative to the base width (m = 256 / 64 = 4), written out by hand: input
# weights and biases SGD x fan_out (m), hidden weights Adam / fan_in (1/m), the readout's weight Adam
# and SGD eta (its 1/m sits in the forward multiplier), its bias fixed.
ADAM = {"0.weight": 1, "0.bias": 1, "2.weight": 0.25, "2.bias": 1, "4.weight": 1, "4.bias": 1}
SGD = {"0.weight": 4, "0.bias": 4, "2.weight": 1, "2.bias": 4, "4.weight": 4, "4.bias": 1}


@pytest.mark.parametrize("name, table", [("adam", ADAM), ("sgd", SGD)])
def test_lr_multipliers_equal_the_table_on_a_hand_built_mlp(name, table):
    result = mup(mlp(), base_width=64, optimizer=name)
    assert result.width == 256 and result.width_mult == 4.0
    assert result.lr_multipliers == table
    opt = result.optimizer(0.1)
    assert type(opt).__name__ == {"adam": "Adam", "sgd": "SGD"}[name]
    lrs = {n: g["lr"] for g in opt.param_groups for n in g["names"]}
    assert lrs == pytest.approx({n: 0.1 * v for n, v in table.items()})
    decays = {n: g["weight_decay"] for g in result.optimizer(0.1, weight_decay=0.01).param_groups for n in g["names"]}
    assert decays == pytest.approx({n: 0.01 / v for n, v in table.items()})  # MuAdam/MuSGD: lr x decay kept


def test_rescale_and_readout_multiplier_follow_the_mup_package():
    """mup's set_base_shapes: hidden biases x sqrt(m), MuReadout weight and bias x sqrt(m) and its input
    x 1/m; input layer and hidden weights untouched."""
    net = mlp()
    before = copy.deepcopy(net)
    result = mup(net, base_width=64, zero_readout=False, zero_query=False)
    assert torch.equal(net[0].weight, before[0].weight) and torch.equal(net[0].bias, before[0].bias)
    assert torch.equal(net[2].weight, before[2].weight)
    assert torch.allclose(net[2].bias, 2 * before[2].bias)
    assert torch.allclose(net[4].weight, 2 * before[4].weight) and torch.allclose(net[4].bias, 2 * before[4].bias)
    assert result.readout_multiplier == 0.25 and float(net[4].mup_readout_scale) == 0.25
    x = torch.randn(5, 8)
    hidden = net[:4](x)  # the readout is net[4], with its pre-hook
    assert torch.allclose(net(x), nn.functional.linear(hidden / 4, 2 * before[4].weight, 2 * before[4].bias), atol=1e-6)


def test_at_the_base_width_the_model_computes_what_it_did():
    net = mlp(width=64)
    before = copy.deepcopy(net)
    result = mup(net, base_width=64, zero_readout=False)
    x = torch.randn(5, 8)
    assert result.width_mult == 1.0 and torch.equal(net(x), before(x))


def test_readout_is_zero_by_default_and_the_queries_of_attention():
    net = gpt(width=32, depth=1)
    with pytest.warns(MuPWarning):
        result = mup(net, base_width=32, example=torch.zeros(2, 8, dtype=torch.long))
    mha = net.blocks[0].attn.mha
    assert not net.readout.weight.any() and not net.readout.bias.any()
    assert not mha.in_proj_weight[:32].any() and mha.in_proj_weight[32:].abs().min() > 0
    assert set(result.zeroed) == {"readout.weight", "readout.bias", "blocks.0.attn.mha.in_proj_weight[q]",
                                  "blocks.0.attn.mha.in_proj_bias[q]"}


def test_gpt_classes_embeddings_as_inputs_and_the_last_linear_as_readout():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MuPWarning)
        result = mup(gpt(width=64, depth=1), base_width=32, example=torch.zeros(2, 8, dtype=torch.long))
    classes = {p.name: p.cls for p in result.parameters}
    assert result.inputs == ("embed", "pos") and result.readout == "readout" and result.width_mult == 2.0
    assert classes["embed.weight"] == classes["pos.weight"] == "input"
    assert classes["blocks.0.attn.mha.in_proj_weight"] == classes["blocks.0.mlp.2.weight"] == "hidden"
    assert classes["blocks.0.ln1.weight"] == "vector" and classes["readout.bias"] == "fixed"
    assert result.lr_multipliers["blocks.0.mlp.0.weight"] == 0.5 and result.lr_multipliers["embed.weight"] == 1


def test_conv1d_weights_are_read_transposed():
    """A Conv1D (in, out) readout of 256 -> 10 is read as fan_in 256 (the width), not 10."""
    result = mup(conv1d_mlp(width=256), base_width=64, zero_readout=False)
    assert result.width == 256 and result.lr_multipliers["2.weight"] == 0.25
    assert [p.cls for p in result.parameters if p.name.endswith("weight")] == ["input", "hidden", "readout"]


def test_scheme_redraws_with_initlab_exact_draws_before_the_rescale():
    net, twin = conv1d_mlp(width=128), conv1d_mlp(width=128)
    mup(net, base_width=64, scheme="lecun_normal", seed=3, zero_readout=False)
    apply(twin, "lecun_normal", seed=3)
    assert torch.equal(net[0].weight, twin[0].weight) and torch.equal(net[2].weight, twin[2].weight)
    assert torch.allclose(net[4].weight, math.sqrt(2) * twin[4].weight)
    assert net[2].weight.std().item() == pytest.approx(128 ** -0.5, rel=4 / math.sqrt(128 * 128))


def test_tied_readout_keeps_the_embedding():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed, self.fc, self.head = nn.Embedding(20, 64), nn.Linear(64, 64), nn.Linear(64, 20, bias=False)
            self.head.weight = self.embed.weight

        def forward(self, ids):
            return self.head(torch.relu(self.fc(self.embed(ids))))

    net = Tied()
    table = net.embed.weight.detach().clone()
    result = mup(net, base_width=16, example=torch.zeros(2, 3, dtype=torch.long))
    assert torch.equal(net.embed.weight, table)  # neither rescaled nor zeroed
    assert result.readout == "head" and result.width == 64 and float(net.head.mup_readout_scale) == 0.25
    assert {p.name: p.cls for p in result.parameters}["embed.weight"] == "input"


def test_attention_scaled_one_over_sqrt_d_is_found_and_named():
    ids = torch.zeros(2, 8, dtype=torch.long)
    with pytest.warns(MuPWarning, match=r"blocks\.0\.attn: attention logits scaled 1/sqrt\(d\)"):
        result = mup(gpt_plain(width=64, depth=1), base_width=32, example=ids)
    assert [a.module for a in result.attention] == ["blocks.0.attn"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", MuPWarning)
        mup(gpt_plain(width=64, depth=1, attention_scale="1/d"), base_width=32, example=ids)
        net = gpt_plain(width=64, depth=1)
        fixed = mup(net, base_width=32, example=ids, attention="fix")
    assert net.blocks[0].attn.scale == pytest.approx(math.sqrt(16 / 2) / 16)  # d = 16, m = 2
    assert fixed.warnings == () and len(fixed.attention_fixed) == 1


def test_scaled_dot_product_attention_without_scale_is_found():
    class Sdpa(nn.Module):
        def __init__(self, scale=None):
            super().__init__()
            self.qkv, self.out, self.scale = nn.Linear(32, 96), nn.Linear(32, 4), scale

        def forward(self, x):
            q, k, v = self.qkv(x).chunk(3, -1)
            return self.out(nn.functional.scaled_dot_product_attention(q, k, v, scale=self.scale))

    x = torch.randn(2, 5, 32)
    with pytest.warns(MuPWarning, match="F.scaled_dot_product_attention without scale="):
        assert [a.module for a in mup(Sdpa(), 16, example=x).attention] == ["Sdpa"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", MuPWarning)
        assert mup(Sdpa(1 / 32), 16, example=x).attention == ()


def test_width_factory_and_optimizer_callable():
    make = width_factory(lambda width: mlp(width), base_width=64, optimizer="sgd")
    net = make(width=128)
    assert applied(net).width_mult == 2.0
    opt = optimizer(net, 0.5)
    assert type(opt).__name__ == "SGD" and sorted(g["lr"] for g in opt.param_groups) == [0.5, 1.0]
    with pytest.raises(ArgumentError, match="^model: Sequential was not put in muP"):
        optimizer(mlp(), 0.1)


@pytest.mark.parametrize("kwargs, message", [
    ({"base_width": 0}, "^base_width: "),
    ({"optimizer": "adamw"}, "^optimizer: "),
    ({"depth_scale": "1/L"}, "^depth_scale: "),
    ({"depth_scale": "1/sqrt(L)"}, "^example: needed with depth_scale"),
    ({"attention": "ignore"}, "^attention: "),
    ({"readout": "9"}, "^readout: not a weight layer"),
    ({"inputs": ["x"]}, "^inputs: not a weight layer"),
    ({"seed": 0}, "^scheme: generator/seed given without a scheme"),
    ({"scheme": "lecun_normal"}, "^generator: with scheme"),
    ({"width": -3}, "^width: "),
])
def test_bad_input_is_one_line_naming_the_argument_and_leaves_the_model(kwargs, message):
    net = mlp()
    state = copy.deepcopy(net.state_dict())
    with pytest.raises(ArgumentError, match=message) as caught:
        mup(net, **{"base_width": 64, **kwargs})
    assert "\n" not in str(caught.value)
    assert all(torch.equal(state[k], v) for k, v in net.state_dict().items()) and not net._forward_pre_hooks


def test_mup_twice_is_refused():
    net = mlp()
    mup(net, base_width=64)
    with pytest.raises(ArgumentError, match="^model: mup was applied to this model already"):
        mup(net, base_width=64)


def test_hugging_face_gpt2_tied_head_fused_query_and_scaling():
    """GPT-2 (transformers): lm_head tied to wte keeps the embedding, the q columns of the fused Conv1D
    c_attn are zeroed, and attention='fix' sets the `scaling` its forward reads."""
    from transformers import GPT2Config, GPT2LMHeadModel
    config = GPT2Config(vocab_size=50, n_embd=64, n_layer=1, n_head=4, n_positions=8, bos_token_id=0, eos_token_id=0)
    model = GPT2LMHeadModel(config)
    ids = torch.randint(50, (2, 8), generator=torch.Generator().manual_seed(0))
    wte = model.transformer.wte.weight.detach().clone()
    result = mup(model, base_width=16, example=ids, attention="fix")
    attn = model.transformer.h[0].attn
    assert result.readout == "lm_head" and result.width == 64 and torch.equal(model.transformer.wte.weight, wte)
    assert not attn.c_attn.weight[:, :64].any() and attn.c_attn.weight[:, 64:].abs().min() > 0
    assert attn.scaling == pytest.approx(math.sqrt(16 / 4) / 16) and result.warnings == ()
    assert result.lr_multipliers["transformer.h.0.attn.c_attn.weight"] == 0.25


def test_bad_learning_rate_or_decay_is_one_line():
    result = mup(mlp(), base_width=64)
    with pytest.raises(ArgumentError, match=r"^lr: expected a positive number, got 0$"):
        result.optimizer(0)
    with pytest.raises(ArgumentError, match=r"^weight_decay: expected a number >= 0, got -1$"):
        result.param_groups(0.1, weight_decay=-1)


def test_an_input_lstm_has_only_its_first_input_weights_as_input():
    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn, self.head = nn.LSTM(6, 32, num_layers=2, batch_first=True), nn.Linear(32, 3)

        def forward(self, x):
            return self.head(self.rnn(x)[0])

    classes = {p.name: p.cls for p in mup(Tagger(), base_width=8, example=torch.randn(2, 5, 6)).parameters}
    assert classes["rnn.weight_ih_l0"] == "input" and classes["rnn.weight_hh_l0"] == "hidden"
    assert classes["rnn.weight_ih_l1"] == classes["rnn.weight_hh_l1"] == "hidden" and classes["head.weight"] == "readout"
