"""Model factories for `initlab diagnose --torch examples.torch_models:<name>` (run from the repo root).

A factory is any function that takes no argument and returns a `torch.nn.Module`.
"""

import torch
import torch.nn as nn


def deep_relu(depth: int = 30, width: int = 256, inputs: int = 784, classes: int = 10) -> nn.Sequential:
    """`depth` Linear+ReLU layers of `width` units, then a Linear classifier; torch's default init."""
    layers = [nn.Linear(inputs, width), nn.ReLU()]
    for _ in range(depth - 1):
        layers += [nn.Linear(width, width), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(width, classes))


def deep_gelu(depth: int = 30, width: int = 256, inputs: int = 784, classes: int = 10) -> nn.Sequential:
    layers = [nn.Linear(inputs, width), nn.GELU()]
    for _ in range(depth - 1):
        layers += [nn.Linear(width, width), nn.GELU()]
    return nn.Sequential(*layers, nn.Linear(width, classes))


class SmallCNN(nn.Module):
    """Two 3x3 conv layers with ReLU, max-pooling, a linear classifier (for 1x8x8 digits)."""

    def __init__(self, classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.head = nn.Linear(32 * 4 * 4, classes)

    def forward(self, x):
        x = self.pool(self.conv2(self.conv1(x).relu()).relu())
        return self.head(x.flatten(1))


def small_cnn() -> nn.Module:
    return SmallCNN()


class TinyTagger(nn.Module):
    """Token embedding (padding row 0), a learned start token, a pre-LN attention block, an LSTM, a
    LayerScale-style gamma, a final LayerNorm and an output layer tied to the embedding (int64 ids in)."""

    def __init__(self, vocab: int = 100, dim: int = 32, heads: int = 4):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim, padding_idx=0)
        self.start_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.norm1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.gamma = nn.Parameter(torch.full((dim,), 0.1))
        self.rnn = nn.LSTM(dim, dim, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab, bias=False)
        self.head.weight = self.embed.weight  # weight tying, as GPT-2 does

    def forward(self, ids):
        x = torch.cat([self.start_token.expand(len(ids), -1, -1), self.embed(ids)], dim=1)
        y = self.norm1(x)
        x = x + self.gamma * self.attn(y, y, y, need_weights=False)[0]
        return self.head(self.norm2(self.rnn(x)[0]))


def tiny_tagger() -> nn.Module:
    return TinyTagger()
