"""The NumPy engine: activations, output heads, the MLP, optimizers, training and gradient checks."""

from initlab.nn.activations import ACTIVATIONS, Activation, activation
from initlab.nn.heads import HEADS, Head, head
from initlab.nn.mlp import MLP, Params
from initlab.nn.optimizers import OPTIMIZERS
from initlab.nn.train import TrainResult, train

__all__ = ["ACTIVATIONS", "HEADS", "MLP", "OPTIMIZERS", "Activation", "Head", "Params", "TrainResult",
           "activation", "head", "train"]
