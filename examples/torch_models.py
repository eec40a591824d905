"""Model factories for `initlab diagnose --torch examples.torch_models:<name>` (run from the repo root).

A factory is any function that takes no argument and returns a `torch.nn.Module`.
"""

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
