"""PyTorch adapter: find a model's layers and their activations (`layers`).

Importing ``initlab`` never imports torch; only ``initlab.torch`` does.

>>> import torch
>>> from initlab.torch import layers
>>> [t.activation_name for t in layers(torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Tanh()))]
['tanh']
"""

from initlab.torch.apply import apply
from initlab.torch.auto import AutoResult, auto, predicted_log_std_spread
from initlab.torch.lsuv import LsuvResult, lsuv
from initlab.torch.trace import TracedLayer, layers

__all__ = ["AutoResult", "LsuvResult", "TracedLayer", "apply", "auto", "layers", "lsuv", "predicted_log_std_spread"]
