"""muP checked by the coordinate check (initlab.torch.coordcheck): standard-parametrization models grow
after one Adam step, the same models through `mup` stay flat, and each planted muP bug is named."""

import functools
import warnings

import pytest
import torch

from examples import width_models
from initlab.torch import mup as M
from initlab.torch.coordcheck import coordcheck

WIDTHS = (64, 128, 256)
IDS = torch.randint(width_models.VOCAB, (2, 8), generator=torch.Generator().manual_seed(0))  # few tokens:
# muP's limit is width >> tokens per batch; 16 tokens keep widths 64..256 in it (64 tokens made a zero-init
# query's first update shrink like 1/sqrt(width) at these widths).
_g = torch.Generator().manual_seed(0)
XY = (torch.randn(8, width_models.D_IN, generator=_g), torch.randint(width_models.D_OUT, (8,), generator=_g))
# classes to fit (the mean-square loss of a batch without targets has no gradient at muP's zero readout);
# 8 samples for the same reason as 16 tokens above (with 32 the readout's first update shrank by -0.2)


def gpt_mha(width):
    return width_models.gpt(width, depth=1, length=8)


def gpt_plain(width, attention_scale="1/d"):
    return width_models.gpt_plain(width, depth=1, length=8, attention_scale=attention_scale)


def check(factory, **options):
    settings = {"widths": WIDTHS, "steps": 2, "lr": 1e-2, "seeds": 2, "batch": IDS} | options
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", M.MuPWarning)
        return coordcheck(factory, **settings)


def mup_check(factory, plant=None, example=IDS, **options):
    """`check` of `factory` in muP; `plant(model)` breaks each muP model after `mup`."""
    made = M.width_factory(factory, base_width=64, example=example)

    @functools.wraps(factory)
    def build(width):
        model = made(width=width)
        if plant:
            plant(model)
        return model

    return check(build, optimizer=M.optimizer, **options)


@pytest.mark.slow
def test_sp_mlp_grows_after_one_adam_step_and_mup_mlp_is_flat():
    sp = coordcheck(width_models.mlp, widths=WIDTHS, steps=1, lr=1e-2, seeds=1, batch=XY)  # SP breaks at once
    assert sp.verdict == "grows" and "6" in sp.first_broken  # the readout
    mup = coordcheck(M.width_factory(width_models.mlp, base_width=64), widths=WIDTHS, steps=2, lr=1e-2, seeds=1,
                     batch=XY, optimizer=M.optimizer)
    assert mup.verdict == "stable", [(m.name, m.slopes) for m in mup.modules]
    assert max(abs(s) for m in mup.modules for s in m.slopes) < 0.1
    assert all(m.rms[-1] != m.rms[0] for m in mup.modules)  # every layer moved (the loss has a gradient)


@pytest.mark.slow
@pytest.mark.parametrize("factory", [gpt_mha, gpt_plain])
def test_sp_gpt_grows_after_one_adam_step(factory):
    result = check(factory, steps=1)
    assert result.verdict == "grows" and "readout" in [m.name for m in result.modules if m.verdict == "grows"]


@pytest.mark.slow
def test_mup_gpt_with_one_over_d_attention_is_flat():
    result = mup_check(gpt_plain)  # attention logits never count as shrinking (docs/mup.md#attention)
    assert result.verdict == "stable", [(m.name, m.slopes, m.delta_slopes) for m in result.modules
                                        if "stable" not in (m.verdict, m.delta_verdict)]


@pytest.mark.slow
def test_planted_missing_one_over_d_attention_scale_is_warned_and_grows():
    """The planted bug: attention at 1/sqrt(d) under muP. `mup` names the module in a MuPWarning, and the
    check shows its logits about half a power of the width above the 1/d model's."""
    with pytest.warns(M.MuPWarning, match=r"blocks\.0\.attn: attention logits scaled 1/sqrt\(d\)"):
        M.mup(gpt_plain(64, "1/sqrt(d)"), base_width=64, example=IDS)
    bad = mup_check(functools.partial(gpt_plain, attention_scale="1/sqrt(d)"))
    good = mup_check(gpt_plain)
    logits_bad, logits_good = bad.module("blocks.0.attn.logits"), good.module("blocks.0.attn.logits")
    assert logits_bad.verdict == "grows" and "blocks.0.attn.logits" in bad.first_broken
    assert logits_bad.slopes[-1] - logits_good.slopes[-1] == pytest.approx(0.5, abs=0.15)
    mha = mup_check(gpt_mha)  # nn.MultiheadAttention: always 1/sqrt(d)
    assert mha.module("blocks.0.attn.mha.logits").verdict == "grows"


@pytest.mark.slow
def test_planted_unscaled_readout_is_named():
    """muP's rescale and learning rates, but the readout's 1/m multiplier taken away: the readout grows."""
    result = mup_check(gpt_plain, plant=lambda model: model.readout.mup_readout_scale.fill_(1.0))
    assert result.verdict == "grows" and result.first_broken == ["readout"]
    mlp = coordcheck(M.width_factory(width_models.mlp, base_width=64), widths=WIDTHS, steps=2, lr=1e-2, seeds=2,
                     batch=XY, optimizer=lambda model, lr: _unscaled(model, lr))
    assert mlp.first_broken == ["6"] and mlp.module("6").slopes[-1] > 0.5


def _unscaled(model, lr):
    model[-1].mup_readout_scale.fill_(1.0)
    return M.optimizer(model, lr)


def _embedding_like_hidden(model, lr):
    """The planted bug: the token embedding's Adam learning rate divided by m, as a hidden layer's is."""
    result = M.applied(model)
    groups = [{"params": [p], "lr": lr * result.lr_multipliers[name] / (result.width_mult if name == "embed.weight" else 1)}
              for name, p in model.named_parameters()]
    return torch.optim.Adam(groups, lr=lr)


@pytest.mark.slow
def test_planted_embedding_learning_rate_scaled_like_hidden_is_named():
    """The embedding's output keeps its O(1) init either way; its update (the check's `delta`) is 1/m too small."""
    made = M.width_factory(gpt_plain, base_width=64, example=IDS)
    good = check(made, optimizer=M.optimizer, steps=3)
    bad = check(made, optimizer=_embedding_like_hidden, steps=3)
    assert good.verdict == "stable", [(m.name, m.delta_slopes) for m in good.modules if m.delta_verdict != "stable"]
    embed = bad.module("embed")
    assert embed.verdict == "stable" and embed.delta_verdict == "shrinks" and "embed" in bad.first_broken
    assert embed.delta_slopes[-1] == pytest.approx(-1.0, abs=0.2)


def _torch_fan_factory(width):
    """conv1d_mlp initialised by torch.nn.init's LeCun rule on the stored (in, out) tensor, whose fan_in torch
    reads as the output size: the planted wrong-fan bug."""
    model = width_models.conv1d_mlp(width)
    for layer in model[::2]:
        torch.nn.init.kaiming_normal_(layer.weight, nonlinearity="linear")  # LeCun, fan_in as torch reads it
    return model


def _inventory_fan_factory(width):
    """The same model, LeCun-drawn by initlab with the inventory's fans (Conv1D read transposed)."""
    from initlab.torch import apply
    model = width_models.conv1d_mlp(width)
    apply(model, "lecun_normal", generator=torch.Generator().manual_seed(torch.initial_seed()))
    return model


@pytest.mark.slow
def test_planted_wrong_fan_for_a_conv1d_weight_is_named():
    options = {"widths": WIDTHS, "steps": 2, "lr": 1e-3, "seeds": 2, "batch": XY, "optimizer": M.optimizer}
    good = coordcheck(M.width_factory(_inventory_fan_factory, base_width=64), **options)
    bad = coordcheck(M.width_factory(_torch_fan_factory, base_width=64), **options)
    assert good.verdict == "stable", [(m.name, m.slopes) for m in good.modules]
    assert bad.module("0").verdict == "shrinks" and "0" in bad.first_broken  # the input layer: fan_in read as width
    assert bad.module("0").slopes[0] == pytest.approx(-0.5, abs=0.1)


def residual_mlp(depth, width=64):
    return width_models.residual_mlp(width=width, depth=depth)


@pytest.mark.slow
def test_depth_scale_keeps_the_residual_mlp_flat_over_depth():
    depths, x = (2, 4, 8, 16, 32), XY[0]
    options = {"depths": depths, "depth_arg": "depth", "steps": 2, "lr": 1e-2, "seeds": 2, "batch": XY}
    plain = coordcheck(M.width_factory(residual_mlp, base_width=64, example=x), optimizer=M.optimizer, **options)
    scaled = coordcheck(M.width_factory(residual_mlp, base_width=64, example=x, depth_scale="1/sqrt(L)"),
                        optimizer=M.optimizer, **options)
    assert plain.verdict == "grows" and plain.module("blocks").slopes[0] > 0.25  # sqrt(1 + c L): slope -> 0.5
    branches = {"blocks.0.fc2", "blocks.-1.fc2"}  # the first and last block's branch output (the check aligns them)
    assert all(m.verdict == "stable" for m in scaled.modules if m.name not in branches), \
        [(m.name, m.slopes) for m in scaled.modules if m.verdict != "stable"]
    for name in branches:  # each branch adds sqrt(1 / L) of its output to the stream: slope -1/2, by design
        assert scaled.module(name).slopes == pytest.approx([-0.5] * 3, abs=0.1)
