"""Models shared by the initlab.torch tests (imported via conftest's sys.path entry); the deep MLPs and the
measurements over seeds live in `initlab.torch.measure`, shared with examples/torch_init_table.py."""

from __future__ import annotations

from torch import nn


def small_cnn() -> nn.Sequential:
    """conv-relu-conv-relu-pool-flatten-linear on (batch, 3, 16, 16) inputs."""
    return nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * 8 * 8, 10))
