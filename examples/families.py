"""Small stand-ins of the model families practitioners train: pure-torch blocks written here, and Hugging
Face `transformers` BERT and GPT-2 built from small configs (nothing is downloaded). Used by
`initlab diagnose/apply/audit --torch examples.families:NAME`, the README's "PyTorch models" table
(examples/torch_families.py) and the tests (tests/torch/_initlab_families.py re-exports this module). Every factory builds its model on a forked torch RNG
seeded by `seed`, so a test gets the same library-default init each time and torch's global RNG is
left alone. `FAMILIES` maps a family name to (factory, example-batch maker); `PLANTED` holds the
planted bugs of the issue, each with the verdict word it must get.

Each model's forward takes one tensor (float images/sequences, or int64 token ids) and returns a
tensor, except the Hugging Face models, which return a ModelOutput (``logits`` or
``last_hidden_state``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from initlab.torch.kinds import kind_of


def seeded(build: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
    """`build(**kwargs)` on torch's RNG forked and seeded by `seed` (default 0)."""
    def factory(seed: int = 0, **kwargs) -> nn.Module:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return build(**kwargs)
    factory.__name__ = build.__name__
    factory.__doc__ = build.__doc__
    return factory


# --- convolutional families ------------------------------------------------------------------------

class BasicBlock(nn.Module):
    """ResNet basic block: conv-BN-relu-conv-BN + identity (or 1x1 conv-BN when the shape changes)."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


@seeded
def resnet(blocks: int = 4, width: int = 16, classes: int = 10) -> nn.Module:
    """A small ResNet on (n, 3, 16, 16): stem conv-BN-relu, `blocks` basic blocks, pool, linear head."""
    layers = [nn.Conv2d(3, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU()]
    c = width
    for i in range(blocks):
        stride = 2 if i and i % 2 == 0 else 1
        c_out = c * stride
        layers.append(BasicBlock(c, c_out, stride))
        c = c_out
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, classes))


class ConvNeXtBlock(nn.Module):
    """ConvNeXt block: depthwise 7x7 conv, LayerNorm (channels last), Linear 4x, GELU, Linear, LayerScale
    gamma (1e-6 by design), residual."""

    def __init__(self, dim: int, layer_scale: float = 1e-6):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(layer_scale * torch.ones(dim))

    def forward(self, x):
        y = self.dwconv(x).permute(0, 2, 3, 1)
        y = self.pwconv2(self.act(self.pwconv1(self.norm(y))))
        return x + (self.gamma * y).permute(0, 3, 1, 2)


@seeded
def convnext(blocks: int = 3, dim: int = 32, classes: int = 10) -> nn.Module:
    """Patchify stem (4x4 stride 4), `blocks` ConvNeXt blocks, global pool, LayerNorm, head; (n, 3, 32, 32)."""
    return nn.Sequential(nn.Conv2d(3, dim, 4, stride=4), *[ConvNeXtBlock(dim) for _ in range(blocks)],
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.LayerNorm(dim), nn.Linear(dim, classes))


class SqueezeExcite(nn.Module):
    def __init__(self, c: int, reduced: int):
        super().__init__()
        self.fc1, self.fc2 = nn.Conv2d(c, reduced, 1), nn.Conv2d(reduced, c, 1)

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        return x * torch.sigmoid(self.fc2(torch.relu(self.fc1(s))))


class InvertedResidual(nn.Module):
    """MobileNetV3 block: 1x1 expand-BN-hardswish, 3x3 depthwise-BN-hardswish, squeeze-excitation,
    1x1 project-BN, residual when the shape allows."""

    def __init__(self, c: int, expand: int = 4):
        super().__init__()
        h = c * expand
        self.expand = nn.Sequential(nn.Conv2d(c, h, 1, bias=False), nn.BatchNorm2d(h), nn.Hardswish())
        self.depthwise = nn.Sequential(nn.Conv2d(h, h, 3, padding=1, groups=h, bias=False), nn.BatchNorm2d(h),
                                       nn.Hardswish())
        self.se = SqueezeExcite(h, max(8, h // 4))
        self.project = nn.Sequential(nn.Conv2d(h, c, 1, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        return x + self.project(self.se(self.depthwise(self.expand(x))))


@seeded
def mobilenet(blocks: int = 3, width: int = 16, classes: int = 10) -> nn.Module:
    """Stem conv-BN-hardswish, `blocks` inverted residuals with SE, pool, linear head; (n, 3, 16, 16)."""
    return nn.Sequential(nn.Conv2d(3, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.Hardswish(),
                         *[InvertedResidual(width) for _ in range(blocks)],
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, classes))


# --- transformers on nn.MultiheadAttention -------------------------------------------------------

class TransformerBlock(nn.Module):
    """A transformer block on nn.MultiheadAttention, pre-LN (x + f(LN x)) or post-LN (LN(x + f(x)))."""

    def __init__(self, dim: int, heads: int, pre_norm: bool = True):
        super().__init__()
        self.pre_norm = pre_norm
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.ln1, self.ln2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def _attend(self, x):
        return self.attn(x, x, x, need_weights=False)[0]

    def forward(self, x):
        if self.pre_norm:
            x = x + self._attend(self.ln1(x))
            return x + self.mlp(self.ln2(x))
        x = self.ln1(x + self._attend(x))
        return self.ln2(x + self.mlp(x))


class TokenTransformer(nn.Module):
    """Token and position embeddings, `depth` blocks, final LayerNorm (pre-LN), linear head over the vocabulary."""

    def __init__(self, vocab: int, dim: int, depth: int, heads: int, pre_norm: bool, length: int = 64):
        super().__init__()
        self.tokens = nn.Embedding(vocab, dim)
        self.positions = nn.Parameter(torch.zeros(1, length, dim))
        nn.init.normal_(self.positions, std=0.02)
        self.blocks = nn.ModuleList([TransformerBlock(dim, heads, pre_norm) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim) if pre_norm else nn.Identity()
        self.head = nn.Linear(dim, vocab)

    def forward(self, ids):
        x = self.tokens(ids) + self.positions[:, : ids.shape[1]]
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x))


@seeded
def transformer(vocab: int = 50, dim: int = 32, depth: int = 2, heads: int = 4, pre_norm: bool = True) -> nn.Module:
    """A token transformer (pre-LN by default) on int64 ids (n, length <= 64) -> logits (n, length, vocab)."""
    return TokenTransformer(vocab, dim, depth, heads, pre_norm)


@seeded
def torch_encoder(dim: int = 32, depth: int = 2, heads: int = 4) -> nn.Module:
    """nn.TransformerEncoder (torch's own layers, post-LN) on float sequences (n, length, dim)."""
    layer = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=4 * dim, dropout=0.0, batch_first=True)
    return nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)


class ViT(nn.Module):
    """Vision transformer: patch-embedding conv, cls token and position embedding (parameters of no
    layer), pre-LN blocks on nn.MultiheadAttention, final LayerNorm, linear head on the cls token."""

    def __init__(self, image: int, patch: int, dim: int, depth: int, heads: int, classes: int):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, patch, stride=patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, (image // patch) ** 2 + 1, dim))
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        self.blocks = nn.ModuleList([TransformerBlock(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(len(x), -1, -1), x], dim=1) + self.pos_embed
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x)[:, 0])


@seeded
def vit(image: int = 32, patch: int = 8, dim: int = 32, depth: int = 2, heads: int = 4, classes: int = 10) -> nn.Module:
    """A small ViT on (n, 3, image, image); ``vit(image=64, patch=16, dim=768, depth=12, heads=12)`` is
    ViT-Base-sized at 64x64 (the benchmark's model)."""
    return ViT(image, patch, dim, depth, heads, classes)


# --- recurrent and embedding models ---------------------------------------------------------------

class RecurrentClassifier(nn.Module):
    """Embedding, an LSTM or GRU, and a linear head on the last step: int64 ids (n, length) -> (n, classes)."""

    def __init__(self, cell: str, vocab: int, dim: int, hidden: int, classes: int, layers: int):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.rnn = {"lstm": nn.LSTM, "gru": nn.GRU}[cell](dim, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, ids):
        out, _ = self.rnn(self.embed(ids))
        return self.head(out[:, -1])


@seeded
def lstm(vocab: int = 50, dim: int = 16, hidden: int = 32, classes: int = 5, layers: int = 1) -> nn.Module:
    return RecurrentClassifier("lstm", vocab, dim, hidden, classes, layers)


@seeded
def gru(vocab: int = 50, dim: int = 16, hidden: int = 32, classes: int = 5, layers: int = 1) -> nn.Module:
    return RecurrentClassifier("gru", vocab, dim, hidden, classes, layers)


class EmbeddingBagModel(nn.Module):
    """Embedding, mean over the sequence, MLP head: int64 ids (n, length) -> (n, classes)."""

    def __init__(self, vocab: int, dim: int, hidden: int, classes: int):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, classes))

    def forward(self, ids):
        return self.mlp(self.embed(ids).mean(1))


@seeded
def embedding_model(vocab: int = 50, dim: int = 16, hidden: int = 32, classes: int = 5) -> nn.Module:
    return EmbeddingBagModel(vocab, dim, hidden, classes)


# --- Hugging Face transformers from small configs -------------------------------------------------

@seeded
def hf_bert(layers: int = 2, dim: int = 32, heads: int = 2, vocab: int = 100) -> nn.Module:
    """transformers.BertModel (returns last_hidden_state and pooler_output) from a small config."""
    from transformers import BertConfig, BertModel
    config = BertConfig(vocab_size=vocab, hidden_size=dim, num_hidden_layers=layers, num_attention_heads=heads,
                        intermediate_size=4 * dim, max_position_embeddings=64)
    return BertModel(config)


@seeded
def hf_gpt2(layers: int = 2, dim: int = 32, heads: int = 2, vocab: int = 100) -> nn.Module:
    """transformers.GPT2LMHeadModel (lm_head tied to the token embedding, Conv1D projections)."""
    from transformers import GPT2Config, GPT2LMHeadModel
    config = GPT2Config(vocab_size=vocab, n_embd=dim, n_layer=layers, n_head=heads, n_positions=64,
                        bos_token_id=0, eos_token_id=0)
    return GPT2LMHeadModel(config)


# --- inputs ----------------------------------------------------------------------------------------

def images(n: int = 8, size: int = 16, seed: int = 1) -> torch.Tensor:
    return torch.randn(n, 3, size, size, generator=torch.Generator().manual_seed(seed))


def sequences(n: int = 8, length: int = 12, dim: int = 32, seed: int = 1) -> torch.Tensor:
    return torch.randn(n, length, dim, generator=torch.Generator().manual_seed(seed))


def tokens(n: int = 8, length: int = 12, vocab: int = 50, seed: int = 1) -> torch.Tensor:
    return torch.randint(vocab, (n, length), generator=torch.Generator().manual_seed(seed))


FAMILIES: dict[str, tuple[Callable[..., nn.Module], Callable[..., torch.Tensor]]] = {
    "resnet": (resnet, images),
    "convnext": (convnext, lambda seed=1: images(size=32, seed=seed)),
    "mobilenet": (mobilenet, images),
    "transformer_pre_ln": (transformer, tokens),
    "transformer_post_ln": (lambda seed=0: transformer(seed=seed, pre_norm=False), tokens),
    "torch_encoder": (torch_encoder, sequences),
    "vit": (vit, lambda seed=1: images(size=32, seed=seed)),
    "lstm": (lstm, tokens),
    "gru": (gru, tokens),
    "embedding": (embedding_model, tokens),
    "hf_bert": (hf_bert, lambda seed=1: tokens(vocab=100, seed=seed)),
    "hf_gpt2": (hf_gpt2, lambda seed=1: tokens(vocab=100, seed=seed)),
}


# --- measuring what lsuv targets, independently of its code --------------------------------------

def family_batch(family: str, seed: int) -> torch.Tensor:
    """16 of the family's example batches (8 samples each) drawn from seeds seed, seed + 100, ..."""
    make = FAMILIES[family][1]
    return torch.cat([make(seed=seed + 100 * i) for i in range(16)])


def projection_stds(model: nn.Module, batch) -> dict[str, float]:
    """The std of every Linear, Conv, ConvTranspose and Conv1D output and of every MultiheadAttention's
    q, k, v (F.linear of its inputs) and attention output on `batch`, measured here independently of
    lsuv's own code: hooks on one training-mode pass, MHA's fast path off."""
    stds: dict[str, float] = {}

    def hook(name):
        def record(module, args, kwargs, out):
            if name in stds or f"{name}.q" in stds:
                return
            if isinstance(module, nn.MultiheadAttention):
                e = module.embed_dim
                for i, label in enumerate("qkv"):
                    x = args[i] if len(args) > i else kwargs[("query", "key", "value")[i]]
                    y = F.linear(x, module.in_proj_weight[i * e:(i + 1) * e], module.in_proj_bias[i * e:(i + 1) * e])
                    stds[f"{name}.{label}"] = float(y.double().std())
                stds[f"{name}.out_proj"] = float(out[0].double().std())
            else:
                stds[name] = float(out.double().std())
        return record

    handles = [m.register_forward_hook(hook(name), with_kwargs=True) for name, m in model.named_modules()
               if kind_of(m) in ("linear", "conv", "conv_transpose", "hf_conv1d", "attention")]
    fast, training = torch.backends.mha.get_fastpath_enabled(), model.training
    try:
        torch.backends.mha.set_fastpath_enabled(False)
        model.train()
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model(batch)
    finally:
        torch.backends.mha.set_fastpath_enabled(fast)
        model.train(training)
        for h in handles:
            h.remove()
    return stds


# --- planted bugs: (model, batch, the verdict word that must appear) -----------------------------

def post_ln_std1() -> nn.Module:
    """Post-LN transformer with every Linear and attention projection drawn N(0, 1): attention logits explode."""
    model = transformer(pre_norm=False, dim=64)
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.MultiheadAttention):
                m.in_proj_weight.normal_(0.0, 1.0, generator=g)
            if isinstance(m, nn.Linear):
                m.weight.normal_(0.0, 1.0, generator=g)
    return model


def gpt2_deep_unscaled(layers: int = 48) -> nn.Module:
    """GPT-2 at depth 48 whose residual projections (c_proj) are N(0, 0.02) instead of 0.02 / sqrt(2 * 48):
    the residual stream grows with depth."""
    model = hf_gpt2(layers=layers)
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("c_proj.weight"):
                p.normal_(0.0, 0.02, generator=g)
    return model


def lstm_std3() -> nn.Module:
    """An LSTM classifier whose recurrent weights are N(0, 3): the gates saturate."""
    model = lstm()
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for name, p in model.rnn.named_parameters():
            if name.startswith("weight_hh"):
                p.normal_(0.0, 3.0, generator=g)
    return model


def zero_head(family: str = "transformer_pre_ln") -> nn.Module:
    """A library-default model whose output layer is zero-initialised: no gradient reaches any other layer."""
    model = FAMILIES[family][0]()
    head = model.head
    with torch.no_grad():
        head.weight.zero_()
        if head.bias is not None:
            head.bias.zero_()
    return model


PLANTED = {
    "post_ln_std1": (post_ln_std1, tokens),
    "gpt2_deep_unscaled": (gpt2_deep_unscaled, lambda seed=1: tokens(vocab=100, seed=seed)),
    "lstm_std3": (lstm_std3, tokens),
    "zero_head": (zero_head, tokens),
    "zero_head_vit": (lambda seed=0: zero_head("vit"), lambda seed=1: images(size=32, seed=seed)),
}


def gpt2_scaled_residual_std(layers: int) -> float:
    """GPT-2's own std for c_proj weights: initializer_range / sqrt(2 * n_layer)."""
    return 0.02 / math.sqrt(2 * layers)


# --- stand-ins for the depth schemes (initlab.torch.depth) ---------------------------------------

class PlainBlock(nn.Module):
    """A basic block without normalisation, Fixup's setting: relu(x + conv2(relu(conv1(x))))."""

    def __init__(self, c: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return torch.relu(x + self.conv2(torch.relu(self.conv1(x))))


@seeded
def resnet_plain(blocks: int = 4, width: int = 8, classes: int = 10) -> nn.Module:
    """A ResNet without normalisation on (n, 3, 16, 16): stem conv-relu, `blocks` plain blocks, pool, linear head."""
    return nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.ReLU(), *[PlainBlock(width) for _ in range(blocks)],
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, classes))


@seeded
def conv_chain(depth: int = 16, width: int = 8, activation: str = "tanh", classes: int = 10) -> nn.Module:
    """A plain chain of `depth` 3x3 convolutions (3 -> width, then width -> width), each followed by `activation`
    (tanh or relu), then pool and a linear head, on (n, 3, 16, 16): no residual sum, no normalisation."""
    act = {"tanh": nn.Tanh, "relu": nn.ReLU}[activation]
    layers = [nn.Conv2d(3, width, 3, padding=1), act()]
    for _ in range(depth - 1):
        layers += [nn.Conv2d(width, width, 3, padding=1), act()]
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, classes))
