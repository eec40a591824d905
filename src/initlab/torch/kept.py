"""Leave a model as it was: its modules' train/eval flags and its buffers (batch norm's running
statistics, num_batches_tracked) restored when the block ends, also on error. lsuv, auto, discovery,
the residual probe and diagnose's capture all run the user's model and promise this.

>>> import torch
>>> net = torch.nn.Sequential(torch.nn.BatchNorm1d(2))
>>> with kept(net):
...     _ = net.train()(torch.randn(4, 2, generator=torch.Generator().manual_seed(0)))
>>> net.training, float(net[0].running_mean.abs().sum()), int(net[0].num_batches_tracked)
(True, 0.0, 0)
"""

from __future__ import annotations

from contextlib import contextmanager

import torch
from torch import nn


@contextmanager
def kept(model: nn.Module, *, modes: bool = True, buffers: bool = True):
    """Restore `model`'s train/eval flags (`modes`) and buffer values (`buffers`) on leaving the block."""
    flags = [(m, m.training) for m in model.modules()] if modes else []
    saved = [(b, b.detach().clone()) for b in model.buffers()] if buffers else []
    try:
        yield model
    finally:
        with torch.no_grad():
            for buffer, copy in saved:
                buffer.copy_(copy)
        for module, training in flags:
            module.training = training
