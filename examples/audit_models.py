"""Model factories for `initlab audit --torch 'examples.audit_models:<name>(...)'` (run from the repository
root). Pure torch, nothing downloaded.

`tiny_gpt` is a small GPT-2-like language model initialised with GPT-2's recipe: every Linear and the
attention's q/k/v projection normal(std=0.02), the residual projections (attention output and MLP
output) normal(std=0.02 / sqrt(2 * depth)), biases zero, LayerNorms at weight 1 and bias 0, the token
and position embeddings normal(std=0.02), and the output layer tied to the token embedding.
``cloned=True`` builds the blocks as `nn.TransformerEncoder` does, deep copies of one block, so every
block starts with the same weights (what ``initlab audit`` flags as ``identical``).
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn


class Block(nn.Module):
    """Pre-LN transformer block: x + attn(LN x), then x + mlp(LN x)."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.fc, self.proj = nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)

    def forward(self, x):
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.proj(torch.nn.functional.gelu(self.fc(self.ln_2(x))))


class TinyGPT(nn.Module):
    def __init__(self, vocab: int, dim: int, depth: int, heads: int, length: int, cloned: bool):
        super().__init__()
        self.tokens = nn.Embedding(vocab, dim)
        self.positions = nn.Parameter(torch.zeros(length, dim))
        first = Block(dim, heads)
        blocks = [first] + [copy.deepcopy(first) if cloned else Block(dim, heads) for _ in range(depth - 1)]
        self.blocks = nn.ModuleList(blocks)
        self.ln_f = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab, bias=False)
        self.head.weight = self.tokens.weight  # tied, as in GPT-2
        self._init_gpt2(depth)
        if cloned:
            for block in self.blocks[1:]:
                block.load_state_dict(self.blocks[0].state_dict())

    @torch.no_grad()
    def _init_gpt2(self, depth: int) -> None:
        residual_std = 0.02 / math.sqrt(2 * depth)
        nn.init.normal_(self.tokens.weight, std=0.02)
        nn.init.normal_(self.positions, std=0.02)
        for block in self.blocks:
            nn.init.normal_(block.attn.in_proj_weight, std=0.02)
            nn.init.zeros_(block.attn.in_proj_bias)
            nn.init.normal_(block.fc.weight, std=0.02)
            for projection in (block.attn.out_proj, block.proj):
                nn.init.normal_(projection.weight, std=residual_std)
            for linear in (block.attn.out_proj, block.fc, block.proj):
                nn.init.zeros_(linear.bias)

    def forward(self, ids):
        x = self.tokens(ids) + self.positions[: ids.shape[1]]
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


def tiny_gpt(vocab: int = 512, dim: int = 64, depth: int = 2, heads: int = 4, length: int = 64,
             cloned: bool = False, seed: int | None = None) -> nn.Module:
    """A GPT-2-like model on int64 token ids (n, length <= `length`) -> logits (n, length, vocab).
    With `seed`, it is drawn from torch's RNG forked and seeded with it (the caller's RNG untouched)."""
    if seed is None:
        return TinyGPT(vocab, dim, depth, heads, length, cloned)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return TinyGPT(vocab, dim, depth, heads, length, cloned)
