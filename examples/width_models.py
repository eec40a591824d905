"""Models whose width (or depth) is a keyword argument, for the coordinate check (`initlab coordcheck`,
`initlab.torch.coordcheck`) and muP (`initlab.torch.mup`): each is in the standard parametrization
(PyTorch's default init, no width-dependent multipliers), so the check should find what grows.

- `mlp(width, depth)`: input layer, `depth - 1` hidden layers, readout; ReLU; float inputs of `d_in`.
- `gpt(width, depth)`: a small pre-LN GPT on ``nn.MultiheadAttention`` (token + position embeddings,
  blocks, final LayerNorm, readout over the vocabulary); int64 token ids of shape (batch, length).
- `gpt_plain(width, depth, attention_scale)`: the same on plain attention written out, whose softmax
  input passes through an ``nn.Identity`` named ``logits`` so a hook can read the attention logits;
  `attention_scale` is ``"1/sqrt(d)"`` (the standard parametrization) or ``"1/d"`` (muP).
- `residual_mlp(width, depth)`: `depth` residual blocks ``x + W2 relu(W1 x)`` with no branch scaling:
  the residual stream grows like sqrt(depth).

The heads keep their number (4) and grow in size with the width, as in the muP paper's width sweeps.
Nothing here seeds torch's RNG: the caller does (coordcheck builds each model on a forked, seeded RNG).

>>> import torch
>>> gpt(width=32, depth=2)(torch.zeros(2, 8, dtype=torch.long)).shape
torch.Size([2, 8, 64])
>>> gpt_plain(width=32, attention_scale="1/d").blocks[0].attn.scale
0.125
"""

from __future__ import annotations

import torch
from torch import nn

VOCAB = 64
LENGTH = 32
HEADS = 4
D_IN = 16
D_OUT = 10


def mlp(width: int = 64, depth: int = 3, d_in: int = D_IN, d_out: int = D_OUT) -> nn.Module:
    """Linear(d_in, width), ReLU, (Linear(width, width), ReLU) x (depth - 1), Linear(width, d_out)."""
    layers: list[nn.Module] = [nn.Linear(d_in, width), nn.ReLU()]
    for _ in range(depth - 1):
        layers += [nn.Linear(width, width), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(width, d_out))


class ResidualBlock(nn.Module):
    """x + fc2(relu(fc1(x))): no 1/sqrt(depth) on the branch."""

    def __init__(self, width: int):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(width, width), nn.Linear(width, width)

    def forward(self, x):
        return x + self.fc2(torch.relu(self.fc1(x)))


class ResidualMLP(nn.Module):
    def __init__(self, width: int, depth: int, d_in: int, d_out: int):
        super().__init__()
        self.input = nn.Linear(d_in, width)
        self.blocks = nn.Sequential(*(ResidualBlock(width) for _ in range(depth)))
        self.readout = nn.Linear(width, d_out)

    def forward(self, x):
        return self.readout(self.blocks(self.input(x)))


def residual_mlp(width: int = 64, depth: int = 4, d_in: int = D_IN, d_out: int = D_OUT) -> nn.Module:
    """input Linear, `depth` residual blocks (`ResidualBlock`), readout Linear."""
    return ResidualMLP(width, depth, d_in, d_out)


def causal_mask(length: int, device=None) -> torch.Tensor:
    """True above the diagonal: where a query may not look (a later key)."""
    return torch.ones(length, length, dtype=torch.bool, device=device).triu(1)


class SelfAttention(nn.Module):
    """Causal self-attention on ``nn.MultiheadAttention`` (its own 1/sqrt(head_dim) scale)."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.mha = nn.MultiheadAttention(width, heads, batch_first=True)

    def forward(self, x):
        return self.mha(x, x, x, attn_mask=causal_mask(x.shape[1], x.device), need_weights=False)[0]


class PlainAttention(nn.Module):
    """Causal self-attention written out: q, k, v and output projections, softmax(q.k * scale) v. The
    logits go through ``self.logits`` (an ``nn.Identity``) so that a forward hook sees them."""

    def __init__(self, width: int, heads: int, attention_scale: str = "1/sqrt(d)"):
        super().__init__()
        if attention_scale not in ("1/sqrt(d)", "1/d"):
            raise ValueError(f"attention_scale: expected '1/sqrt(d)' or '1/d', got {attention_scale!r}")
        self.n_heads, self.d_head = heads, width // heads
        self.scale = self.d_head ** -0.5 if attention_scale == "1/sqrt(d)" else 1.0 / self.d_head
        self.query, self.key, self.value = (nn.Linear(width, width) for _ in range(3))
        self.proj = nn.Linear(width, width)
        self.logits = nn.Identity()

    def _heads(self, x):  # (batch, length, width) -> (batch, heads, length, d_head)
        return x.reshape(*x.shape[:2], self.n_heads, self.d_head).transpose(1, 2)

    def forward(self, x):
        q, k, v = self._heads(self.query(x)), self._heads(self.key(x)), self._heads(self.value(x))
        logits = self.logits(q @ k.transpose(-1, -2) * self.scale)
        weights = logits.masked_fill(causal_mask(x.shape[1], x.device), float("-inf")).softmax(-1)
        return self.proj((weights @ v).transpose(1, 2).reshape(x.shape))


class Block(nn.Module):
    """Pre-LN transformer block: x + attn(ln1(x)), then x + mlp(ln2(x)) (GELU, 4x wider)."""

    def __init__(self, width: int, attention: nn.Module):
        super().__init__()
        self.ln1, self.attn, self.ln2 = nn.LayerNorm(width), attention, nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    """Token and position embeddings, blocks, final LayerNorm, readout to vocabulary logits."""

    def __init__(self, width: int, blocks: list[nn.Module], vocab: int, length: int):
        super().__init__()
        self.embed, self.pos = nn.Embedding(vocab, width), nn.Embedding(length, width)
        self.blocks = nn.Sequential(*blocks)
        self.norm = nn.LayerNorm(width)
        self.readout = nn.Linear(width, vocab)

    def forward(self, ids):
        x = self.embed(ids) + self.pos(torch.arange(ids.shape[1], device=ids.device))
        return self.readout(self.norm(self.blocks(x)))


def gpt(width: int = 64, depth: int = 4, vocab: int = VOCAB, length: int = LENGTH, heads: int = HEADS) -> nn.Module:
    """A pre-LN GPT of `depth` blocks on ``nn.MultiheadAttention`` (`SelfAttention`)."""
    return GPT(width, [Block(width, SelfAttention(width, heads)) for _ in range(depth)], vocab, length)


def gpt_plain(width: int = 64, depth: int = 4, vocab: int = VOCAB, length: int = LENGTH, heads: int = HEADS,
              attention_scale: str = "1/sqrt(d)") -> nn.Module:
    """A pre-LN GPT of `depth` blocks on `PlainAttention` with the given `attention_scale`."""
    blocks = [Block(width, PlainAttention(width, heads, attention_scale)) for _ in range(depth)]
    return GPT(width, blocks, vocab, length)


def conv1d_mlp(width: int = 64, depth: int = 2, d_in: int = D_IN, d_out: int = D_OUT) -> nn.Module:
    """`mlp` built of Hugging Face ``Conv1D`` layers (GPT-2's Linear with its weight stored (in, out)), drawn
    N(0, 0.02^2) by Conv1D itself: a model whose fans must be read transposed (muP's tests, `conv1d_mlp`
    needs ``transformers``)."""
    from transformers.pytorch_utils import Conv1D
    sizes = [d_in] + [width] * depth + [d_out]
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        layers += [Conv1D(n_out, n_in)] + ([nn.ReLU()] if i < len(sizes) - 2 else [])
    return nn.Sequential(*layers)
