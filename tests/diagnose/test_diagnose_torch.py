"""diagnose on PyTorch models: the same verdicts as the NumPy engine, the same numbers on the same weights,
conv statistics per channel, and a model left exactly as it was (parameters, grads, buffers, modes, hooks, RNG)."""

import math

import numpy as np
import pytest

from initlab.data import load
from initlab.diagnose import diagnose_mlp, diagnose_torch
from initlab.diagnose.mlp_probe import capture_mlp
from initlab.nn.mlp import MLP

torch = pytest.importorskip("torch")
nn = torch.nn

from initlab.diagnose.torch_probe import capture_torch  # noqa: E402  (needs torch)


@pytest.fixture(scope="module")
def circles():
    X, y = load("circles", n_samples=256, seed=0)
    return torch.tensor(X, dtype=torch.float32), torch.tensor(y)


def deep_relu(init, depth=30, width=100, inplace=False):
    torch.manual_seed(0)
    layers = [nn.Linear(2, width), nn.ReLU(inplace=inplace)]
    for _ in range(depth - 1):
        layers += [nn.Linear(width, width), nn.ReLU(inplace=inplace)]
    net = nn.Sequential(*layers, nn.Linear(width, 1))
    for m in net:
        if isinstance(m, nn.Linear):
            init(m.weight)
            nn.init.zeros_(m.bias)
    return net


def hooks(model):
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
               + len(m._backward_pre_hooks) for m in model.modules())


def snapshot(model):
    return {k: v.detach().clone() for k, v in model.state_dict(keep_vars=True).items()}


def assert_unchanged(model, before):
    after = model.state_dict(keep_vars=True)
    assert after.keys() == before.keys()
    assert all(torch.equal(after[k].detach(), before[k]) for k in before)  # bit-identical, buffers included
    assert hooks(model) == 0


@pytest.mark.parametrize("init, verdict", [(nn.init.xavier_normal_, "vanishing"), (nn.init.kaiming_normal_, "ok")])
def test_30_relu_layers_in_torch_get_the_same_verdicts_and_the_model_is_left_unchanged(circles, init, verdict):
    net = deep_relu(init)
    before = snapshot(net)
    d = diagnose_torch(net, *circles)
    assert d.verdict == verdict, d.evidence
    assert d.model == "Sequential, 31 layers (31 Linear), relu"
    assert [layer.name for layer in d.layers[:2]] == ["0", "2"] and len(d.layers) == 31
    assert all(layer.in_band for layer in d.layers)
    assert_unchanged(net, before)
    assert all(p.grad is None for p in net.parameters())


def test_torch_probe_equals_the_numpy_probe_on_the_same_weights():
    X, y = load("moons", n_samples=64, seed=0)
    mlp = MLP([2, 16, 16, 1], activation=["relu", "tanh"], init="he_normal", seed=1)
    net = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1)).double()
    with torch.no_grad():
        for layer, (W, b) in zip(net[::2], mlp.params):
            layer.weight.copy_(torch.tensor(W.T))
            layer.bias.copy_(torch.tensor(b))
    for ours, theirs in zip(capture_mlp(mlp, X, y), capture_torch(net, torch.tensor(X), torch.tensor(y))):
        for field in ("z", "a", "dz", "weight", "weight_grad", "bias"):
            np.testing.assert_allclose(getattr(theirs, field), getattr(ours, field), rtol=1e-10, atol=1e-16)
        assert (ours.fan_in, ours.fan_out, ours.activation_name) == (theirs.fan_in, theirs.fan_out,
                                                                     theirs.activation_name)
    d_np = diagnose_mlp(mlp, X, y)
    d_torch = diagnose_torch(net, torch.tensor(X), torch.tensor(y))
    for a, b in zip(d_np.layers, d_torch.layers):
        assert a.expected_pre_std == pytest.approx(b.expected_pre_std, rel=1e-10)
        assert a.expected_grad_std == pytest.approx(b.expected_grad_std, rel=1e-10)


def small_cnn():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1),
                         nn.ReLU(inplace=True), nn.Dropout(0.5), nn.Flatten(), nn.Linear(8 * 8 * 8, 10))


def test_small_cnn_statistics_are_per_channel_and_the_model_is_restored():
    cnn = small_cnn()
    with torch.no_grad():
        cnn[3].bias[[1, 5]] = -1e3  # two channels of the second conv can never fire
    cnn.eval()
    before = snapshot(cnn)
    rng = torch.Generator().manual_seed(1)
    batch, target = torch.randn(32, 1, 8, 8, generator=rng), torch.randint(0, 10, (32,), generator=rng)
    d = diagnose_torch(cnn, batch, target)
    conv1, conv2, head = d.layers
    assert [(s.kind, s.units, s.fan_in, s.activation) for s in d.layers] == [
        ("conv", 8, 9, "identity"), ("conv", 8, 72, "relu"), ("dense", 10, 512, "identity")]
    assert conv2.dead_fraction == 2 / 8
    expected = 9 * float(cnn[0].weight.detach().double().pow(2).mean())
    assert conv1.sigma_w2 == pytest.approx(expected, rel=1e-6)  # captures store float32 (torch_probe doc)
    assert_unchanged(cnn, before)  # batch-norm running statistics restored
    assert not any(m.training for m in cnn.modules())  # still in eval mode


def test_capture_of_a_conv_keeps_channels_on_axis_1_and_fans_as_torch():
    cnn = small_cnn()
    caps = capture_torch(cnn, torch.randn(4, 1, 8, 8, generator=torch.Generator().manual_seed(0)))
    assert caps[0].z.shape == (4, 8, 8, 8) and caps[0].weight.shape == (8, 9)
    assert (caps[1].fan_in, caps[1].fan_out) == nn.init._calculate_fan_in_and_fan_out(cnn[3].weight)
    assert np.array_equal(caps[1].a, np.maximum(caps[1].z, 0))  # ReLU(inplace=True) did not touch z


def test_without_target_the_output_gradient_is_fixed_and_global_rng_untouched():
    net = deep_relu(nn.init.kaiming_normal_, depth=3, width=16, inplace=True)
    batch = torch.randn(8, 2, generator=torch.Generator().manual_seed(0))
    state = torch.random.get_rng_state()
    first, second = capture_torch(net, batch), capture_torch(net, batch)
    assert torch.equal(torch.random.get_rng_state(), state)
    r = torch.randn((8, 1), generator=torch.Generator().manual_seed(0), dtype=torch.float32).double().numpy()
    np.testing.assert_allclose(first[-1].dz, r / 8, rtol=1e-7)  # L = sum(out * r) / n
    assert all(np.array_equal(a.dz, b.dz) for a, b in zip(first, second))


def test_grads_and_requires_grad_are_restored():
    net = deep_relu(nn.init.kaiming_normal_, depth=2, width=8)
    net[0].weight.requires_grad_(False)
    net[2].weight.grad = torch.ones_like(net[2].weight)
    sentinel = net[2].weight.grad
    caps = capture_torch(net, torch.randn(5, 2, generator=torch.Generator().manual_seed(0)))
    assert np.abs(caps[0].weight_grad).sum() > 0  # frozen layer measured anyway
    assert net[0].weight.requires_grad is False and net[0].weight.grad is None
    assert net[2].weight.grad is sentinel and torch.equal(sentinel, torch.ones_like(sentinel))


def test_linear_on_sequences_puts_units_on_axis_1():
    net = nn.Sequential(nn.Linear(6, 4), nn.Tanh(), nn.Linear(4, 3))
    caps = capture_torch(net, torch.randn(2, 5, 6, generator=torch.Generator().manual_seed(0)))
    assert caps[0].z.shape == (2, 4, 5) and caps[0].units == 4


def test_cross_entropy_gradient_of_the_output_is_softmax_minus_onehot_over_n():
    net = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 5))
    batch, target = torch.randn(6, 3, generator=torch.Generator().manual_seed(0)), torch.tensor([0, 1, 2, 3, 4, 0])
    out = capture_torch(net, batch, target)[-1]
    p = torch.softmax(torch.tensor(out.z), dim=1).numpy()
    p[np.arange(6), target.numpy()] -= 1
    np.testing.assert_allclose(out.dz, p / 6, rtol=1e-5, atol=1e-8)


def test_a_rejected_batch_names_the_batch_argument_and_leaves_no_hooks():
    net = deep_relu(nn.init.kaiming_normal_, depth=2, width=8)
    with pytest.raises(ValueError, match=r"^batch: the model rejected a batch of shape \[4, 3\]: mat1 and mat2"):
        diagnose_torch(net, torch.randn(4, 3))
    assert hooks(net) == 0 and all(p.grad is None for p in net.parameters())


@pytest.mark.parametrize("outputs, labels, message", [
    (4, [0, 1, 2, 4, 3, 0], r"^target: expected class labels 0\.\.3 for a model with 4 outputs, got labels up to 4$"),
    (4, [0, -1, 2, 3, 3, 0],
     r"^target: expected class labels 0\.\.3 for a model with 4 outputs, got labels from -1 to 3$"),
    (1, [0, 1, 2, 1, 0, 0], r"^target: expected labels 0 and 1 for a model with 1 output \(binary cross-entropy\), "
                            r"got labels from 0 to 2$"),
])
def test_labels_out_of_range_are_one_value_error_naming_target(outputs, labels, message):
    # blobs:5 on a 4-output model used to be an IndexError from inside cross_entropy
    net = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, outputs))
    before = snapshot(net)
    with pytest.raises(ValueError, match=message):
        diagnose_torch(net, torch.randn(6, 3), torch.tensor(labels))
    assert_unchanged(net, before)
    assert all(p.grad is None for p in net.parameters())


def test_a_target_of_the_wrong_length_is_refused_before_the_forward_pass():
    calls = []
    net = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    net[0].register_forward_pre_hook(lambda module, args: calls.append(1))
    with pytest.raises(ValueError,
                       match=r"^target: expected 6 integer class labels \(one per sample\), got shape \[5\]"):
        capture_torch(net, torch.randn(6, 3), torch.zeros(5, dtype=torch.long))
    assert calls == []


def test_inplace_relu_gives_the_same_captures_as_out_of_place(circles):
    batch, target = circles
    plain, inplace = deep_relu(nn.init.kaiming_normal_, depth=4, width=16), \
        deep_relu(nn.init.kaiming_normal_, depth=4, width=16, inplace=True)
    assert all(torch.equal(a, b) for a, b in zip(plain.state_dict().values(), inplace.state_dict().values()))
    for ours, theirs in zip(capture_torch(plain, batch, target), capture_torch(inplace, batch, target)):
        for field in ("z", "a", "dz", "weight_grad"):
            np.testing.assert_array_equal(getattr(theirs, field), getattr(ours, field))


def test_the_pass_reseeds_only_the_cpu_generator(monkeypatch):
    # torch.manual_seed inside fork_rng(devices=[]) would also reseed every CUDA device, unrestored
    cuda_seeds = []
    monkeypatch.setattr(torch.cuda, "manual_seed_all", lambda seed: cuda_seeds.append(seed))
    monkeypatch.setattr(torch.cuda, "manual_seed", lambda seed: cuda_seeds.append(seed))
    net = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.5), nn.Linear(8, 2))
    batch = torch.randn(5, 3, generator=torch.Generator().manual_seed(0))
    state = torch.random.get_rng_state()
    first, second = capture_torch(net, batch), capture_torch(net, batch)
    assert cuda_seeds == [] and torch.equal(torch.random.get_rng_state(), state)
    np.testing.assert_array_equal(first[1].z, second[1].z)  # the same dropout mask: the CPU generator was seeded


@pytest.mark.parametrize("conv", [
    nn.Conv2d(4, 6, 3, stride=2, padding=1), nn.Conv2d(4, 6, 5, stride=2), nn.Conv2d(4, 6, 3, stride=3, padding=2),
    nn.Conv2d(4, 6, 3, dilation=2, padding=2), nn.Conv2d(4, 6, (3, 1), stride=(2, 1), padding="valid"),
    nn.Conv2d(4, 6, 3, padding="same", dilation=3), nn.Conv1d(4, 8, 4, stride=2, padding=1, groups=2),
    nn.Conv2d(4, 6, 1, stride=2), nn.Conv3d(2, 3, 3, stride=2, padding=1)],
    ids=lambda c: repr(c).replace(" ", ""))
def test_conv_outputs_per_input_counts_what_autograd_counts(conv):
    # with all-ones weights and dz = 1, d(sum out)/dx at an input entry is the number of outputs reading it
    from initlab.diagnose.torch_probe import conv_outputs_per_input
    spatial = (11, 10, 9)[:conv.weight.dim() - 2]
    x = torch.ones(1, conv.in_channels, *spatial, dtype=torch.float64, requires_grad=True)
    weight = torch.ones_like(conv.weight, dtype=torch.float64)
    out = conv._conv_forward(x, weight, None)
    (grad,) = torch.autograd.grad(out.sum(), x)
    ours = conv_outputs_per_input(conv, spatial, tuple(out.shape[2:]))
    assert ours == pytest.approx(float(grad.mean()), rel=1e-12)


def strided_cnn(seed, stride):
    torch.manual_seed(seed)
    layers = []
    for i in range(4):
        layers += [nn.Conv2d(3 if i == 0 else 32, 32, 3, stride=stride, padding=1), nn.ReLU()]
    side = 32 // stride ** 4
    net = nn.Sequential(*layers, nn.Flatten(), nn.Linear(32 * side * side, 10))
    for m in net:
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight)
            nn.init.zeros_(m.bias)
    return net


def test_strided_convs_backward_theory_follows_the_measured_gradients():
    # Four He convs of stride 2 (32x32 -> 2x2): each reads an input position ~prod(kernel)/prod(stride) = 9/4 times,
    # not 9, so the per-entry gradient rms halves per layer going back. Measured over these 8 seeds, log(measured /
    # expected) at the four convs has means 0.06, 0.05, 0.03, 0.01 and seed-to-seed sds <= 0.12 (0.04 for the mean):
    # |mean| < 0.15 leaves > 2 sd of room, and the fan without the stride misses by -0.85, -1.6, -2.3 at the convs
    # before the last (a ratio 0.43 at the first strided step).
    logs = []
    for seed in range(8):
        batch = torch.randn(32, 3, 32, 32, generator=torch.Generator().manual_seed(100 + seed))
        d = diagnose_torch(strided_cnn(seed, 2), batch)
        logs.append([math.log(s.grad_rms / s.expected_grad_std) for s in d.layers[:-1]])
        assert d.verdict == "ok", d.evidence  # per-entry rms halves per layer, the per-sample norm does not
    assert np.abs(np.mean(logs, axis=0)).max() < 0.15


def test_bad_targets_are_refused():
    net = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 5))
    with pytest.raises(ValueError, match=r"target: expected 6 integer class labels .* got shape \[6, 2\]"):
        capture_torch(net, torch.randn(6, 3), torch.zeros(6, 2, dtype=torch.long))
    with pytest.raises(TypeError, match=r"batch: expected a torch.Tensor or a dict of tensors "
                                        r"\(called as model\(\*\*batch\)\), got ndarray"):
        capture_torch(net, np.zeros((6, 3)))


def test_gelu_nets_are_recommended_auto():
    torch.manual_seed(0)
    layers = [nn.Linear(2, 64), nn.GELU()]
    for _ in range(19):
        layers += [nn.Linear(64, 64), nn.GELU()]
    net = nn.Sequential(*layers, nn.Linear(64, 1))
    d = diagnose_torch(net, torch.randn(128, 2, generator=torch.Generator().manual_seed(0)))
    assert d.verdict == "vanishing"  # torch's default init: sigma_w2 = 1/3
    assert d.recommendation["scheme"] == "auto"


def test_relu6_saturates_at_its_flat_top_and_leaky_relu_units_never_count_as_dead(circles):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 64), nn.ReLU6(), nn.Linear(64, 64), nn.ReLU6(), nn.Linear(64, 1))
    for m in net[::2]:
        nn.init.normal_(m.weight, std=3.0)
        nn.init.constant_(m.bias, 6.0)  # most pre-activations above 6: gradient 0
    d = diagnose_torch(net, *circles)
    assert [s.activation for s in d.layers] == ["ReLU6", "ReLU6", "identity"]
    assert d.verdict == "saturated" and "of ReLU6 outputs within 0.01 of 6 " in d.evidence[0]
    leaky = nn.Sequential(nn.Linear(2, 64), nn.LeakyReLU(), nn.Linear(64, 1))
    with torch.no_grad():
        leaky[0].bias.fill_(-100.0)  # every unit below 0 on every sample: its gradient is still 0.01
    d = diagnose_torch(leaky, *circles)
    assert d.layers[0].dead_fraction is None and d.verdict != "dead"


def test_modules_the_theory_does_not_cover_are_named_in_the_evidence():
    from initlab.diagnose import diagnose_torch
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
    batch = torch.randn(16, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    d = diagnose_torch(model, batch)
    assert "not covered by the chain theory: BatchNorm2d x1; judged on measured rms instead" in d.evidence
    assert all(math.isnan(s.expected_pre_std) for s in d.layers)  # no chain theory where it does not apply
    plain = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
    d = diagnose_torch(plain, batch.reshape(16, 64)[:, :4])
    assert not any("not covered" in line for line in d.evidence) and not math.isnan(d.layers[0].expected_pre_std)


def test_residual_additions_are_named_in_the_evidence():
    from initlab.diagnose import diagnose_torch

    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(6, 6), nn.Linear(6, 6)

        def forward(self, x):
            return x + self.b(self.a(x).relu())

    batch = torch.randn(32, 6, generator=torch.Generator().manual_seed(0))
    evidence = diagnose_torch(Residual(), batch).evidence
    assert ("not covered by the chain theory: 1 residual additions or concatenations; judged on measured rms "
            "instead") in evidence


# --- attention, RNN and embedding layers; dict batches; output selection (issue 10) -----------------

from initlab.diagnose import VERDICTS  # noqa: E402
import _initlab_families as families  # noqa: E402  (tests/torch, on sys.path through tests/conftest.py)


def test_captures_of_a_token_transformer_have_their_kinds_module_types_and_layouts():
    model = families.transformer()
    ids = families.tokens()
    before = snapshot(model)
    caps = capture_torch(model, ids)
    assert [(c.name, c.kind, c.module_type) for c in caps[:3]] == [
        ("tokens", "embedding", "Embedding"), ("blocks.0.attn", "attention", "MultiheadAttention"),
        ("blocks.0.mlp.0", "dense", "Linear")]
    embed, attn = caps[0], caps[1]
    assert embed.z.shape == (8, 32, 12) and attn.z.shape == (8, 32, 12)  # (n, units, positions)
    with torch.no_grad():
        looked_up = model.tokens(ids).movedim(-1, 1).numpy()
    np.testing.assert_array_equal(embed.z, looked_up)
    assert embed.fan_in == 1 and embed.weight.shape == (32, 50)  # the table's transpose: one row per unit
    out_proj = model.blocks[0].attn.out_proj.weight.detach().numpy()
    assert attn.weight.shape == (32, 32) and np.shares_memory(attn.weight, out_proj)  # a view, not a copy
    assert all(c.z.dtype == np.float32 and not c.weight.flags.writeable for c in caps)
    assert caps[2].a is not caps[2].z and caps[3].a is caps[3].z  # a is z itself where no activation follows
    assert_unchanged(model, before)


def test_rnn_captures_put_each_units_gate_rows_side_by_side():
    model = families.lstm()
    caps = capture_torch(model, families.tokens())
    rnn = caps[1]
    assert (rnn.kind, rnn.module_type, rnn.z.shape, rnn.fan_in) == ("rnn", "LSTM", (8, 32, 12), 32)
    hh = model.rnn.weight_hh_l0.detach().numpy()  # (4 * 32, 32): gates i, f, g, o
    assert rnn.weight.shape == (32, 4 * 32)
    np.testing.assert_array_equal(rnn.weight[5], np.concatenate([hh[g * 32 + 5] for g in range(4)]))


def test_hf_bert_dict_batch_and_output_selection():
    bert = families.hf_bert()
    ids = families.tokens(vocab=100)
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    default = diagnose_torch(bert, batch)  # last_hidden_state: the pooler is not reached
    assert [line for line in default.evidence if line.startswith("not diagnosed: pooler.dense")]
    pooled = diagnose_torch(bert, batch, output="pooler_output")
    assert pooled.layers[-1].name == "pooler.dense" and pooled.layers[-1].activation == "tanh"
    with pytest.raises(ValueError, match=r"^output: the model's output has no key 'logits'; its keys: "
                                         r"last_hidden_state, pooler_output"):
        diagnose_torch(bert, batch, output="logits")


def test_a_model_without_parameters_is_refused_before_any_pass():
    with pytest.raises(ValueError, match=r"^model: Sequential has no parameters: nothing to diagnose"):
        diagnose_torch(nn.Sequential(nn.ReLU()), torch.zeros(2, 3))


@pytest.mark.slow
@pytest.mark.parametrize("family", list(families.FAMILIES))
def test_every_family_is_diagnosed_and_left_unchanged(family):
    make, data = families.FAMILIES[family]
    model = make()
    before = snapshot(model)
    d = diagnose_torch(model, data())
    assert d.verdict in VERDICTS
    assert len(d.layers) >= 3 and all(math.isfinite(layer.pre_std) for layer in d.layers)
    assert_unchanged(model, before)


class _FinalStateHead(nn.Module):
    """A head on the last layer's final hidden state h_n[-1], not on the output sequence."""

    def __init__(self, cell, recurrent_std=None, bidirectional=False):
        super().__init__()
        torch.manual_seed(0)
        self.cell = cell
        self.rnn = getattr(nn, cell)(16, 32, num_layers=2, batch_first=True, bidirectional=bidirectional)
        self.head = nn.Linear(32, 5)
        if recurrent_std is not None:  # the planted bug: N(0, std^2) recurrent weights
            generator = torch.Generator().manual_seed(1)
            with torch.no_grad():
                for name, p in self.rnn.named_parameters():
                    if name.startswith("weight_hh"):
                        p.normal_(0, recurrent_std, generator=generator)

    def forward(self, x):
        out, h = self.rnn(x)
        h = h[0] if self.cell == "LSTM" else h  # (h_n, c_n) for an LSTM
        return self.head(h[-1])


def _sequences():
    return torch.randn(64, 10, 16, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("cell", ["LSTM", "GRU"])
def test_an_rnn_whose_final_hidden_state_feeds_the_head_is_captured_from_h_n(cell):
    model = _FinalStateHead(cell)
    before = snapshot(model)
    x = _sequences()
    rnn = capture_torch(model, x)[0]
    assert (rnn.name, rnn.kind, rnn.module_type, rnn.z.shape) == ("rnn", "rnn", cell, (64, 32))
    with torch.no_grad():
        out = model.rnn(x)
    h_n = out[1][0] if cell == "LSTM" else out[1]
    np.testing.assert_allclose(rnn.z, h_n[-1].numpy(), rtol=1e-5, atol=1e-7)  # the last layer's h_n (no_grad kernels round differently)
    head = model.head.weight.detach().numpy()  # dL/dh = r @ W / n, r the fixed random output gradient
    r = torch.randn(64, 5, generator=torch.Generator().manual_seed(0)).numpy()
    np.testing.assert_allclose(rnn.dz, r @ head / 64, rtol=1e-5, atol=1e-8)
    assert_unchanged(model, before)


def test_a_bidirectional_rnns_final_states_sit_side_by_side_as_in_its_output():
    model = _FinalStateHead("GRU", bidirectional=True)
    rnn = capture_torch(model, _sequences())[0]
    with torch.no_grad():
        h_n = model.rnn(_sequences())[1]
    np.testing.assert_allclose(rnn.z, torch.cat([h_n[-2], h_n[-1]], dim=1).numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("cell", ["LSTM", "GRU"])
@pytest.mark.parametrize("std, verdict", [(3.0, "saturated"), (None, "ok")])
def test_saturated_gates_are_found_when_the_head_reads_h_n(cell, std, verdict):
    d = diagnose_torch(_FinalStateHead(cell, std), _sequences())
    assert [layer.name for layer in d.layers] == ["rnn", "head"]
    assert d.verdict == verdict
    assert not [line for line in d.evidence if line.startswith("not diagnosed")]
