"""`initlab.torch.coordcheck`: the recorded rms and the slopes equal a hand computation on a linear model;
an SP MLP is stable at step 0 and grows after one Adam step; a residual MLP without branch scaling grows
with depth; attention logits are measured where the model computes them; bad input is one ArgumentError."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from examples.width_models import gpt, gpt_plain, residual_mlp  # noqa: E402
from initlab._errors import ArgumentError  # noqa: E402
from initlab.torch.coordcheck import coordcheck  # noqa: E402
from initlab.torch.coordcheck_hooks import Recorder  # noqa: E402
from initlab.torch.coordcheck_result import module_check  # noqa: E402

D_IN, N = 6, 5
POWER = 0.5  # the constant weight of the linear model is width ** POWER


def constant_linear(width: int) -> nn.Module:
    """Linear(D_IN, width) without bias, every weight width ** POWER: output y_ij = width**POWER * sum_k x_ik."""
    model = nn.Sequential(nn.Linear(D_IN, width, bias=False))
    with torch.no_grad():
        model[0].weight.fill_(width ** POWER)
    return model


def hand_rms(x: np.ndarray, width: int, lr: float) -> list[float]:
    """rms of the output at steps 0 and 1 of SGD on mean(y^2), written out: every row of W is w = a * 1, the
    gradient of mean over (N, width) of (W x_i)_j^2 for each row is (2 / (N width)) sum_i (w . x_i) x_i."""
    a = width ** POWER
    w = np.full(D_IN, a)
    y0 = x @ w  # every output unit gives the same value per sample
    grad = 2.0 / (N * width) * (y0 @ x)
    y1 = x @ (w - lr * grad)
    return [float(np.sqrt(np.mean(y0 ** 2))), float(np.sqrt(np.mean(y1 ** 2))), float(np.sqrt(np.mean((y1 - y0) ** 2)))]


def test_rms_and_slopes_of_a_linear_model_match_the_hand_computation():
    x = torch.randn(N, D_IN, generator=torch.Generator().manual_seed(3), dtype=torch.float64).float()
    widths, lr = (4, 16, 64, 256), 1e-3
    result = coordcheck(constant_linear, widths, steps=1, optimizer="sgd", lr=lr, seeds=2, batch=x,
                        loss=lambda out, targets: out.square().mean())
    (check,) = result.modules
    expected = np.array([hand_rms(x.double().numpy(), w, lr) for w in widths]).T  # [step][width], update
    expected, update = expected[:2], expected[2]
    np.testing.assert_allclose(check.rms, expected, rtol=1e-5)  # float32 forward passes
    # a difference of float32 outputs of size <= ~50 (rounding ~3e-6 each) for an update >= 3e-4: within 1%
    np.testing.assert_allclose(check.delta[1], update, rtol=2e-2)
    assert check.delta[0] == [0.0] * 4
    slopes = [np.polyfit(np.log(widths), np.log(row), 1)[0] for row in expected]
    assert check.slopes == pytest.approx(slopes, abs=1e-5)
    assert check.slopes[0] == pytest.approx(POWER, abs=1e-5)  # rms = width**POWER * rms(sum_k x_k)
    assert check.slope_spread == pytest.approx([0.0, 0.0], abs=1e-9)  # the init ignores the seed
    assert check.role == "embedding" and check.verdict == "grows" and check.broken_at == 0


def sp_mlp(width: int) -> nn.Module:
    """Standard parametrization (PyTorch's default init), no biases: at init no output depends on width."""
    return nn.Sequential(nn.Linear(16, width, bias=False), nn.ReLU(), nn.Linear(width, width, bias=False),
                         nn.ReLU(), nn.Linear(width, 10, bias=False))


def test_sp_mlp_is_stable_at_init_and_grows_after_one_adam_step():
    result = coordcheck(sp_mlp, (32, 64, 128, 256), steps=1, lr=1e-2, seeds=2, input_shape=(16,))
    roles = {m.name: m.role for m in result.modules}
    assert roles == {"0": "embedding", "1": "hidden", "2": "hidden", "3": "hidden", "4": "readout"}
    # rms over >= 32 x 10 numbers per model: each log rms is within ~0.05; slopes over log(8) = 2.1 within ~0.03
    assert all(abs(m.slopes[0]) < 0.1 for m in result.modules), [m.slopes for m in result.modules]
    # Adam moves every weight by ~lr, so a width-w layer's output moves by ~lr * w: its update's slope is ~1
    assert result.module("2").delta_slopes[1] > 0.6 and result.module("4").delta_slopes[1] > 0.6
    assert result.module("0").delta_slopes[1] == pytest.approx(0.0, abs=0.1)  # fan-in 16 whatever the width
    assert result.module("2").slopes[1] > 0.15 and result.module("4").slopes[1] > 0.3  # the output follows
    assert result.module("2").verdict == "grows" and result.module("2").broken_at == 1
    assert result.verdict == "grows" and result.first_broken[0] in {"2", "3", "4"}


def test_an_embedding_learning_rate_scaled_down_like_a_hidden_layer_is_caught_by_its_update():
    def adam_embedding_lr_over_width(model, lr):  # the planted bug: lr * 32 / width on the input layer
        width = model[0].out_features
        return torch.optim.Adam([{"params": model[0].parameters(), "lr": lr * 32 / width},
                                 {"params": [p for m in model[1:] for p in m.parameters()]}], lr=lr)

    result = coordcheck(sp_mlp, (32, 64, 128, 256), steps=2, lr=1e-2, seeds=2, input_shape=(16,),
                        optimizer=adam_embedding_lr_over_width)
    embedding = result.module("0")
    assert embedding.verdict == "stable"  # its output stays at its init size: rms alone cannot tell
    assert embedding.delta_slopes[1] == pytest.approx(-1.0, abs=0.1)  # Adam's update is ~lr: ~1/width here
    assert (embedding.delta_verdict, embedding.delta_broken_at) == ("shrinks", 1)


def test_depth_check_of_an_unscaled_residual_mlp_grows_from_init():
    result = coordcheck(residual_mlp, depths=(2, 4, 8, 16), steps=1, seeds=2, input_shape=(16,))
    assert result.axis == "depth" and result.sizes == [2, 4, 8, 16]
    names = [m.name for m in result.modules]
    assert names[0] == "input" and names[-1] == "readout" and "blocks.-1" in names and "blocks.0" in names
    assert "blocks.1" not in names  # the second block of depth 2 is the last: compared as blocks.-1
    # the first block sees the same input at every depth; the last block's output sums every branch before it
    assert abs(result.module("blocks.0").slopes[0]) < 0.05
    assert result.module("blocks.-1").slopes[0] > 0.1 and result.module("blocks.-1").verdict == "grows"
    assert result.module("input").role == "embedding" and result.module("readout").role == "readout"
    assert result.verdict == "grows"


def test_torch_global_rng_is_left_alone_and_runs_repeat_exactly():
    state = torch.random.get_rng_state()
    first = coordcheck(sp_mlp, (8, 16, 32), steps=1, seeds=1, input_shape=(16,))
    assert torch.equal(torch.random.get_rng_state(), state)
    second = coordcheck(sp_mlp, (8, 16, 32), steps=1, seeds=1, input_shape=(16,))
    assert [m.rms for m in first.modules] == [m.rms for m in second.modules]


def logits_rms(q: torch.Tensor, k: torch.Tensor, scale: float) -> float:
    with torch.no_grad():
        return float(((q.double() @ k.double().transpose(-1, -2)) * scale).square().mean().sqrt())


def test_attention_logits_of_multihead_attention_are_recomputed_from_its_inputs():
    model = gpt(width=16, depth=1)
    ids = torch.randint(64, (3, 8), generator=torch.Generator().manual_seed(0))
    recorder = Recorder(model)
    with torch.no_grad():
        model(ids)
    recorder.step()
    found, _ = recorder.remove()
    mha = model.blocks[0].attn.mha
    x = model.blocks[0].ln1(model.embed(ids) + model.pos(torch.arange(8)))
    q, k = (nn.functional.linear(x, w, b) for w, b in zip(mha.in_proj_weight.split(16)[:2],
                                                           mha.in_proj_bias.split(16)[:2]))
    q, k = (t.reshape(3, 8, 4, 4).transpose(1, 2) for t in (q, k))
    assert found["blocks.0.attn.mha.logits"][0] == pytest.approx(logits_rms(q, k, 4 ** -0.5), rel=1e-5)
    assert "blocks.0.attn.mha.logits" in recorder.attention


def test_plain_attention_logits_are_read_from_the_identity_the_model_passes_them_through():
    result = coordcheck(gpt_plain, (8, 16, 32), steps=1, seeds=1, input_shape=(8,), vocab=64, n_samples=4)
    logits = [m for m in result.modules if m.role == "attention logits"]
    assert [m.name for m in logits] == [f"blocks.{i}.attn.logits" for i in range(4)]
    assert {m.role for m in result.modules} == {"embedding", "hidden", "attention logits", "readout"}
    assert result.module("embed").role == "embedding" and result.module("readout").role == "readout"


@pytest.mark.slow
def test_hugging_face_gpt2_attention_logits_come_from_c_attn():
    from _initlab_families import hf_gpt2
    model = hf_gpt2(layers=1, dim=16, heads=2)
    ids = torch.randint(100, (2, 6), generator=torch.Generator().manual_seed(0))
    recorder = Recorder(model)
    seen = {}
    handle = model.transformer.h[0].attn.c_attn.register_forward_hook(lambda m, a, out: seen.setdefault("qkv", out))
    with torch.no_grad():
        model(ids)
    handle.remove()
    recorder.step()
    found, _ = recorder.remove()
    q, k = (t.reshape(2, 6, 2, 8).transpose(1, 2) for t in seen["qkv"].split(16, dim=-1)[:2])
    assert found["transformer.h.0.attn.logits"][0] == pytest.approx(logits_rms(q, k, 8 ** -0.5), rel=1e-5)


def test_zero_rms_everywhere_is_stable_and_a_non_finite_rms_grows():
    sizes = [8, 16, 32]
    zero = module_check("readout", "readout", np.zeros((1, 2, 3)), sizes)
    assert zero.slopes == [0.0, 0.0] and zero.verdict == "stable"
    diverged = module_check("h", "hidden", np.array([[[1.0, 1.0, 1.0], [1.0, 1.0, math.inf]]]), sizes)
    assert diverged.verdict == "grows" and diverged.broken_at == 1 and diverged.to_json()["slopes"] == [0.0, None]


def test_attention_logits_may_shrink():  # muP's 1/d scale makes them vanish early in training, by design
    vanishing = np.array([[[1.0, 1.0, 1.0], [1.0, 0.5, 0.25]]])
    assert module_check("attn.logits", "attention logits", vanishing, [8, 16, 32]).verdict == "stable"
    assert module_check("attn.logits", "attention logits", vanishing[..., ::-1], [8, 16, 32]).verdict == "grows"


def test_shrinking_only_at_init_is_stable_but_shrinking_at_the_last_step_is_not():
    sizes = [8, 16, 32]
    at_init = np.array([[[1.0, 0.5, 0.25], [1.0, 1.0, 1.0]]])  # muP's readout: O(1/width) at init, O(1) after
    assert module_check("readout", "readout", at_init, sizes).verdict == "stable"
    vanishing = np.array([[[1.0, 1.0, 1.0], [1.0, 0.5, 0.25], [1.0, 0.5, 0.25]]])
    check = module_check("h", "hidden", vanishing, sizes)
    assert (check.verdict, check.broken_at) == ("shrinks", 1)


@pytest.mark.parametrize("kwargs, message", [
    (dict(widths=(64, 32, 128)), "widths: expected at least 3 increasing positive integers, got [64, 32, 128]"),
    (dict(widths=(16, 32)), "widths: expected at least 3 increasing positive integers, got [16, 32]"),
    (dict(widths=(8, 16, 32), lr=0.0), "lr: expected a positive number, got 0.0"),
    (dict(widths=(8, 16, 32), steps=0), "steps: expected a positive integer, got 0"),
    (dict(widths=(8, 16, 32), width_arg="hidden"), "width_arg: the factory"),
    (dict(depths=(1, 2, 3)), "depth_arg: the factory"),
    (dict(widths=(8, 16, 32), optimizer="lbfgs"), "optimizer: expected one of adam, sgd"),
])
def test_bad_input_is_one_argument_error_naming_it(kwargs, message):
    with pytest.raises(ArgumentError) as caught:
        coordcheck(sp_mlp, input_shape=(16,), **kwargs)
    assert str(caught.value).startswith(message)


def test_a_model_whose_output_is_not_floating_is_refused():
    def argmax_model(width):
        model = nn.Sequential(nn.Linear(4, width))
        model.register_forward_hook(lambda module, args, out: out.argmax(-1))  # replaces the output
        return model

    with pytest.raises(ArgumentError, match=r"^factory: the model's output is not floating \(torch.int64\)"):
        coordcheck(argmax_model, (8, 16, 32), input_shape=(4,))
