"""PyTorch adapter: find a model's layers and their activations (`layers`).

Importing ``initlab`` never imports torch; only ``initlab.torch`` does.

>>> import torch
>>> from initlab.torch import layers
>>> [t.activation_name for t in layers(torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Tanh()))]
['tanh']
"""

from initlab.torch.apply import apply
from initlab.torch.lsuv import LsuvResult, lsuv
from initlab.torch.trace import TracedLayer, layers

__all__ = ["LsuvResult", "TracedLayer", "apply", "layers", "lsuv"]
