"""diagnose on the model families practitioners train (tests/torch/_initlab_families.py): library-default
models get `ok`, each planted bug its verdict, and the recommended fix, applied as its Python line says,
makes the verdict `ok`. Residual, normalized, attention and recurrent models are judged on measured
quantities compared like with like (initlab.diagnose.measured), not on the chain theory."""

import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import initlab  # noqa: E402
import initlab.torch  # noqa: E402,F401 - the fixes' Python lines call initlab.torch.apply
from initlab.data import load  # noqa: E402
from initlab.diagnose import diagnose_mlp, diagnose_torch  # noqa: E402
from initlab.nn.mlp import MLP  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "torch"))
import _initlab_families as families  # noqa: E402


def family(name):
    factory, batch = families.FAMILIES[name]
    return factory(), batch()


def test_convnext_layerscale_is_ok_and_named_as_an_intentionally_small_branch():
    # LayerScale gamma = 1e-6 scales every block's gradient by 1e-6: by design, and compared block with block
    d = diagnose_torch(*family("convnext"))
    assert d.verdict == "ok", d.evidence
    assert any(line.startswith("intentionally small branches: 3 (1.gamma, 2.gamma, 3.gamma: a small branch scale "
                               "(LayerScale gamma, 1e-06))") for line in d.evidence)
    assert d.evidence[0].startswith("same layer across blocks, per unit, within 10x:")


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(families.FAMILIES))
def test_every_library_default_family_is_ok(name):
    d = diagnose_torch(*family(name))
    assert d.verdict == "ok", d.evidence
    assert d.recommendation is None
    assert any(line.startswith("not covered by the chain theory: ") for line in d.evidence)


def _apply_fix(model, recommendation):
    """Run the recommendation's Python line(s) as a user would paste them."""
    exec(recommendation["python"], {"initlab": initlab, "torch": torch, "re": re, "model": model})


PLANTED = {  # name: (verdict, start of the first evidence line)
    "post_ln_std1": ("exploding", "attention logits explode in blocks.0.attn: q.k/sqrt(d) has std "),
    "gpt2_deep_unscaled": ("exploding", "the residual stream grows more than 3x: rms 0.0297 -> 0.112 over 48 blocks "
                                        "(3.77x), measured at the input of transformer.h.#.ln_1; "),
    "lstm_std3": ("saturated", "rnn (LSTM): 41% of its gate entries within 0.01 of a flat side"),
    "zero_head": ("no_gradient", "no gradient: output layer 'head' is all zeros"),
    "zero_head_vit": ("no_gradient", "no gradient: output layer 'head' is all zeros"),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PLANTED))
def test_each_planted_bug_gets_its_verdict_and_the_recommended_fix_makes_it_ok(name):
    verdict, evidence = PLANTED[name]
    factory, make_batch = families.PLANTED[name]
    model, batch = factory(), make_batch()
    d = diagnose_torch(model, batch)
    assert d.verdict == verdict, d.evidence
    assert d.evidence[0].startswith(evidence), d.evidence[0]
    assert d.recommendation["fixes"] is True
    from initlab.diagnose.present import with_fix
    fix = with_fix(d.recommendation, [], torch_model=True, input_shape=None, seed=0)
    _apply_fix(model, fix)
    fixed = diagnose_torch(model, batch)
    assert fixed.verdict == "ok", fixed.evidence


@pytest.mark.slow
@pytest.mark.slow
def test_the_stream_growth_threshold_lies_between_healthy_and_unscaled_deep_models():
    # the numbers quoted in initlab.diagnose.measured's docstring: 3x lies between them
    from initlab.diagnose.inside import recording
    from initlab.diagnose.measured import STREAM_GROWTH, stream_growth
    from initlab.diagnose.coverage import Coverage

    def growth(model, batch):  # evaluation mode: no dropout, the same numbers on every run
        with recording(model.eval()) as inside, torch.no_grad():
            model(batch)
        return stream_growth(Coverage(merges=None, inside=inside))[0]
    tokens = families.tokens(vocab=100)
    unscaled, scaled = growth(families.gpt2_deep_unscaled(), tokens), growth(families.hf_gpt2(layers=48), tokens)
    vit = growth(families.vit(depth=12, dim=64), families.images(size=32))
    assert (round(unscaled, 2), round(scaled, 2), round(vit, 2)) == (3.76, 1.05, 2.08)
    assert scaled < vit < STREAM_GROWTH < unscaled


@pytest.mark.slow
def test_gpt2_stream_fix_targets_the_residual_projections_with_gpt2s_own_std():
    # the writers into the stream are each block's attn.c_proj and mlp.c_proj; 0.02 / sqrt(2 * 4) = 0.00707
    model = families.gpt2_deep_unscaled(layers=4)
    from initlab.diagnose.coverage import Coverage
    from initlab.diagnose.recommend import recommend_measured
    d = diagnose_torch(model, families.tokens(vocab=100))
    calls = tuple((name, "norm" if "ln" in name.rsplit(".", 1)[-1] else None) for name, _ in model.named_modules())
    rec = recommend_measured("stream", [], d.layers[:-1], Coverage(merges=None, calls=calls))
    assert rec["layers"] == [f"transformer.h.{i}.{part}.c_proj" for i in range(4) for part in ("attn", "mlp")]
    std = float(re.fullmatch(r"normal\(std=(.*)\)", rec["scheme"]).group(1))
    assert std == pytest.approx(0.02 / math.sqrt(8), rel=0.05)  # measured std of N(0, 0.02) draws, 8 x 32 x 32


class ReZeroBlock(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(width, width), nn.Linear(width, width)
        self.alpha = nn.Parameter(torch.zeros(()))  # ReZero / SkipInit: the block starts as the identity

    def forward(self, x):
        return x + self.alpha * self.fc2(torch.relu(self.fc1(x)))


def test_rezero_blocks_with_alpha_zero_are_ok_not_no_gradient():
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(8, 32), *[ReZeroBlock(32) for _ in range(4)], nn.Linear(32, 3))
    d = diagnose_torch(model, torch.randn(64, 8, generator=torch.Generator().manual_seed(0)))
    assert all(s.grad_rms == 0 for s in d.layers[1:-1])  # every branch layer: dL/dz exactly 0, by design
    assert d.verdict == "ok", d.evidence
    assert any("a zero branch scale (ReZero/SkipInit alpha = 0)" in line for line in d.evidence)


def test_resnet_with_zero_initialised_last_norms_is_ok():
    model, batch = family("resnet")
    for m in model.modules():  # torchvision's zero_init_residual: each block starts as its shortcut
        if isinstance(m, families.BasicBlock):
            nn.init.zeros_(m.bn2.weight)
    d = diagnose_torch(model, batch)
    assert d.verdict == "ok", d.evidence
    assert any("a zero-initialised norm weight (the block's last norm)" in line for line in d.evidence)


def vgg11_bn(seed=0, width=16, hidden=1024):
    """torchvision's VGG11-BN layout and init (convs kaiming_normal fan_out, BN 1/0), narrower: convs of width/64
    of torchvision's, a classifier of `hidden` units with N(0, std) weights, std = 0.01 * sqrt(4096 / hidden), so
    that sigma_w2 = fan_in * std^2 of the classifier's layers is torchvision's (2.5 and 0.41) at these widths."""
    std = 0.01 * math.sqrt(4096 / hidden)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        layers, c = [], 3
        for v in [1, "M", 2, "M", 4, 4, "M", 8, 8, "M", 8, 8, "M"]:
            if v == "M":
                layers.append(nn.MaxPool2d(2))
                continue
            layers += [nn.Conv2d(c, v * width, 3, padding=1), nn.BatchNorm2d(v * width), nn.ReLU(inplace=True)]
            c = v * width
        model = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(7), nn.Flatten(), nn.Linear(c * 49, hidden), nn.ReLU(),
                              nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 10))
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, std)
                nn.init.zeros_(m.bias)
    return model


@pytest.mark.slow
def test_vgg11_bn_at_torchvisions_init_is_ok_not_exploding():
    # per-sample gradient norms of layers with 64x more entries called this "exploding"; per unit, conv with conv
    batch = torch.randn(8, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    d = diagnose_torch(vgg11_bn(), batch)
    assert d.verdict == "ok", d.evidence
    assert any("BatchNorm2d x8" in line for line in d.evidence)


class SqueezeExcitation(nn.Module):
    def __init__(self, c, r):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1, self.fc2 = nn.Conv2d(c, r, 1), nn.Conv2d(r, c, 1)
        self.activation, self.scale_activation = nn.SiLU(), nn.Sigmoid()
    def forward(self, x):
        return x * self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x)))))

def conv_bn(i, o, k, s=1, g=1, act=True):
    layers = [nn.Conv2d(i, o, k, s, k // 2, groups=g, bias=False), nn.BatchNorm2d(o)]
    return nn.Sequential(*layers, *([nn.SiLU()] if act else []))

class MBConv(nn.Module):
    def __init__(self, i, o, k, s, e):
        super().__init__()
        h = i * e
        layers = ([conv_bn(i, h, 1)] if e != 1 else []) + [conv_bn(h, h, k, s, h), SqueezeExcitation(h, max(1, i // 4)),
                                                             conv_bn(h, o, 1, act=False)]
        self.block = nn.Sequential(*layers)
        self.use_res = s == 1 and i == o
    def forward(self, x):
        y = self.block(x)
        return x + y if self.use_res else y

def efficientnet(seed=0, width=0.5):
    """torchvision's EfficientNet-B0 layout (stages of MBConv blocks with squeeze-excitation, residual within a
    stage, BN, SiLU) and init (convs kaiming_normal fan_out, BN 1/0, Linear uniform(+-1/sqrt(out))), half width."""
    # (expand, kernel, stride, channels, repeats) per stage
    cfg = [(1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3), (6, 5, 1, 112, 3), (6, 5, 2, 192, 4),
           (6, 3, 1, 320, 1)]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        c = int(32 * width)
        features = [conv_bn(3, c, 3, 2)]
        for e, k, s, ch, n in cfg:
            ch = int(ch * width)
            stage = []
            for j in range(n):
                stage.append(MBConv(c, ch, k, s if j == 0 else 1, e))
                c = ch
            features.append(nn.Sequential(*stage))
        features.append(conv_bn(c, 4 * c, 1))
        model = nn.Sequential()
        model.features = nn.Sequential(*features)
        model.avgpool, model.flatten = nn.AdaptiveAvgPool2d(1), nn.Flatten()
        model.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(4 * c, 10))
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                bound = 1.0 / math.sqrt(m.out_features)
                nn.init.uniform_(m.weight, -bound, bound)
                nn.init.zeros_(m.bias)
    return model


@pytest.mark.slow
def test_efficientnet_at_torchvisions_init_is_ok_not_exploding():
    # block 0 of each stage shares a name pattern but not a shape: compared only with layers of its own shape
    d = diagnose_torch(efficientnet(), torch.randn(8, 3, 64, 64, generator=torch.Generator().manual_seed(0)))
    assert d.verdict == "ok", d.evidence


class ResidualMLP(nn.Module):
    """x + W2 relu(W1 x) at He init and no norm: each block doubles the stream's variance."""

    def __init__(self, width, blocks):
        super().__init__()
        self.blocks = nn.ModuleList(nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width))
                                    for _ in range(blocks))
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight)
                nn.init.zeros_(m.bias)
        self.head = nn.Linear(width, 2)

    def forward(self, x):
        for block in self.blocks:
            x = x + block(x)
        return self.head(x)


def test_a_residual_stream_that_doubles_per_block_is_exploding_by_the_same_layer_across_blocks():
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = ResidualMLP(64, 10)
    d = diagnose_torch(model, torch.randn(128, 64, generator=torch.Generator().manual_seed(0)))
    assert d.verdict == "exploding", d.evidence
    assert d.evidence[0].startswith("same layer across blocks, per unit: blocks.#.0 (dense, 10 layers): ")
    first, last = d.layers[0], d.layers[-3]  # blocks.0.0 and blocks.9.0: pre-activation rms grows ~sqrt(2)^9
    assert last.pre_rms / first.pre_rms > 10
    # the fix scales each block's last layer (its branch's output) by 1/sqrt(10): not He again, which it already is
    assert d.recommendation["layers"] == [f"blocks.{i}.2" for i in range(10)]
    std = float(re.fullmatch(r"normal\(std=(.*)\)", d.recommendation["scheme"]).group(1))
    assert std == pytest.approx(math.sqrt(2 / 64) / math.sqrt(10), rel=0.05)  # He's std, measured on 10 x 64 x 64
    from initlab.diagnose.present import with_fix
    _apply_fix(model, with_fix(d.recommendation, [], torch_model=True, input_shape=None, seed=0))
    fixed = diagnose_torch(model, torch.randn(128, 64, generator=torch.Generator().manual_seed(0)))
    assert fixed.verdict == "ok", fixed.evidence


def test_zero_initialised_last_layers_of_residual_branches_are_ok_not_symmetric():
    # Fixup-style: each branch's last Linear starts at zero. Its units are alike, but each gets its own dL/dz
    # from the stream, so they separate on the first step: not the symmetry of a zeros init
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = ResidualMLP(64, 10)
    for block in model.blocks:
        nn.init.zeros_(block[2].weight)
    d = diagnose_torch(model, torch.randn(128, 64, generator=torch.Generator().manual_seed(0)))
    assert d.verdict == "ok", d.evidence
    assert all(s.duplicate_units == 0 for s in d.layers)


class NormGap(nn.Module):
    """Three distinct layers around a LayerNorm whose weight is 1e-3: the first layer's gradient is 1e-3 of
    the second's, and nothing repeats to compare it with."""

    def __init__(self):
        super().__init__()
        self.inp, self.mid, self.out = nn.Linear(8, 64), nn.Linear(64, 64), nn.Linear(64, 2)
        self.norm = nn.LayerNorm(64)
        nn.init.constant_(self.norm.weight, 1e-3)

    def forward(self, x):
        return self.out(torch.relu(self.mid(self.norm(self.inp(x)))))


def test_unrelated_layers_far_apart_are_not_covered_rather_than_vanishing():
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = NormGap()
    d = diagnose_torch(model, torch.randn(64, 8, generator=torch.Generator().manual_seed(0)))
    assert d.verdict == "not_covered", d.evidence
    assert d.evidence[0].startswith("not covered: dL/dz rms ")
    assert d.recommendation is None


def test_an_mlp_with_a_zero_output_layer_gets_no_gradient_with_the_cause():
    X, y = load("circles", n_samples=128, seed=0)
    net = MLP([2, 32, 32, 1], activation="tanh", init="xavier_normal", seed=0)
    W, b = net.params[-1]
    W[...], b[...] = 0.0, 0.0
    d = diagnose_mlp(net, X, y)
    assert d.verdict == "no_gradient"
    assert d.evidence[0].startswith("no gradient: output layer 'layer 3' is all zeros")
    assert d.recommendation["layers"] == ["layer 3"] and d.recommendation["scheme"] == "torch_default"


@pytest.mark.parametrize("cell, layers, batch_first", [("LSTM", 1, True), ("LSTM", 2, False), ("GRU", 2, True),
                                                       ("RNN", 1, True)])
def test_the_recurrent_recomputation_gives_torchs_own_outputs(cell, layers, batch_first):
    from initlab.diagnose.inside import recurrent_pass
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        rnn = getattr(nn, cell)(5, 7, num_layers=layers, batch_first=batch_first)
    x = torch.randn(3, 4, 5, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        out, _ = rnn(x)
    _, mine = recurrent_pass(rnn, x)
    expected = out.transpose(0, 1) if batch_first else out
    assert torch.allclose(mine.float(), expected, atol=1e-5)


def test_attention_saturation_is_the_share_of_torchs_own_attention_rows_above_0_99():
    from initlab.diagnose.inside import _mha_logits
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        mha = nn.MultiheadAttention(16, 4, batch_first=True)
        nn.init.normal_(mha.in_proj_weight, std=0.6)  # logits of std ~ 3: some rows saturated, some not
    x = torch.randn(6, 9, 16, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        _, weights = mha(x, x, x, need_weights=True, average_attn_weights=False)
        found = _mha_logits("attn", mha, x, x)
    share = float((weights.amax(dim=-1) > 0.99).double().mean())
    assert 0.05 < share < 0.95
    assert found.saturated == pytest.approx(share, abs=1e-12)
    assert (found.heads, found.keys) == (4, 9)


def test_only_pre_norms_that_read_their_blocks_input_measure_the_stream():
    from initlab.diagnose.inside import recording
    model, batch = family("transformer_pre_ln")
    with recording(model) as inside, torch.no_grad():
        model(batch)
    assert [n.name for n in inside.norms if n.stream] == ["blocks.0.ln1", "blocks.1.ln1"]
    post, batch = family("transformer_post_ln")
    with recording(post) as inside, torch.no_grad():
        post(batch)
    assert inside.norms and not any(n.stream for n in inside.norms)
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in post.modules())


def test_duplicates_of_a_zeros_init_are_still_found_after_hashing():
    X, y = load("circles", n_samples=64, seed=0)
    d = diagnose_mlp(MLP([2, 16, 16, 1], activation="relu", init="zeros", seed=0), X, y)
    assert [(s.duplicate_groups, s.duplicate_units) for s in d.layers[:-1]] == [(1, 16), (1, 16)]
    assert np.isclose(d.layers[0].pre_std, 0.0)


def test_a_measurement_that_fails_leaves_the_pass_and_its_outputs_alone():
    # grouped-query attention: 4 query heads but 2 key heads, which the logits' split cannot read; and a
    # projection called twice must return its own output each time (the hooks return None)
    from initlab.diagnose.inside import recording

    class GroupedQuery(nn.Module):
        def __init__(self):
            super().__init__()
            self.num_heads, self.head_dim = 4, 4
            self.q_proj, self.k_proj = nn.Linear(16, 16), nn.Linear(16, 8)

        def forward(self, x):
            return self.q_proj(x) + self.q_proj(2 * x) + self.k_proj(x).repeat(1, 1, 2)

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = GroupedQuery()
    x = torch.randn(2, 5, 16, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = model(x)
        with recording(model) as inside:
            got = model(x)
    assert torch.equal(got, expected) and inside.attention == []


@pytest.mark.slow
def test_a_wider_gpt2_at_its_own_init_is_ok_though_its_small_start_stream_grows_past_3x():
    # 256 wide, 12 blocks: the stream starts at the 0.02 embeddings and grows > 3x under GPT-2's own
    # scaled c_proj (std 0.02 / sqrt(24)); growth alone called it exploding. The writers' weights tell the
    # two inits apart: scaled ok, the same model with c_proj at std 0.02 exploding.
    batch = families.tokens(n=8, length=32, vocab=1000, seed=1)
    model = families.hf_gpt2(layers=12, dim=256, heads=8, vocab=1000)
    own = diagnose_torch(model, batch)
    growth = re.search(r"residual stream grows ([\d.]+)x", " ".join(own.evidence))
    assert own.verdict == "ok" and growth and float(growth.group(1)) > 3, own.evidence
    assert "scaled for depth" in " ".join(own.evidence)
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("c_proj.weight"):
                p.normal_(0.0, 0.02, generator=g)
    unscaled = diagnose_torch(model, batch)
    assert unscaled.verdict == "exploding" and "not scaled for depth" in unscaled.evidence[0]
