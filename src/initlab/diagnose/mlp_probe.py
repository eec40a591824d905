"""Captures of the NumPy engine's `MLP`: one forward and one backward pass with its own code.

The forward pass is `MLP.forward_from`, the gradients `MLP.deltas` (d summed loss / dz, divided
here by n for the mean loss) and `MLP.backward` (weight gradients): nothing of the chain rule is
written twice. The output layer's activation is the identity: its sigmoid or softmax belongs to
the loss.

>>> import numpy as np
>>> from initlab.nn.mlp import MLP
>>> net = MLP([2, 4, 1], activation="tanh", init="he_normal", seed=0)
>>> caps = capture_mlp(net, np.ones((3, 2)), np.array([0, 1, 0]))
>>> [(c.name, c.z.shape, c.weight.shape, c.activation_name) for c in caps]
[('layer 1', (3, 4), (4, 2), 'tanh'), ('layer 2', (3, 1), (1, 4), 'identity')]
"""

from __future__ import annotations

from itertools import groupby

import numpy as np

from initlab import activations as table
from initlab.diagnose.capture import Capture
from initlab.nn.mlp import MLP
from initlab.theory import Activation, activation


def from_engine_activation(act: table.Activation) -> Activation:
    """The theory's (phi, phi') for one of the NumPy engine's activations (the same row of
    `initlab.activations`; leaky_relu keeps its slope); `initlab.torch.activations.theory_activation`
    does the same for a traced torch layer."""
    if act.name == "leaky_relu":
        return activation("leaky_relu", slope=act.slope)
    return activation(act.name)


def capture_mlp(net: MLP, X: np.ndarray, y: np.ndarray) -> list[Capture]:
    """One Capture per layer of `net` on the batch (`X`, `y`); dz is d(mean loss)/dz."""
    X, y, _, _ = net.check_data(X, y)
    W, b = net.params[0]
    inputs, pre, logits = net.forward_from(X, X @ W + b)
    delta = net.head.delta(logits, y)
    grads = net.backward(inputs, pre, delta)
    dz = {layer: d / len(X) for layer, d in net.deltas(inputs, pre, delta)}
    captures = []
    for layer, ((W, b), (gW, _)) in enumerate(zip(net.params, grads)):
        hidden = layer < len(net.activations)
        z = pre[layer] if hidden else logits
        captures.append(Capture(
            name=f"layer {layer + 1}", kind="dense", z=z, a=inputs[layer + 1] if hidden else z, dz=dz[layer],
            weight=W.T, bias=b, weight_grad=gW.T,
            activation=from_engine_activation(net.activations[layer]) if hidden else None,
            fan_in=W.shape[0], fan_out=W.shape[1]))
    return captures


def describe_mlp(net: MLP) -> str:
    """'MLP 2-100x30-1, relu, he_normal': sizes with repeats folded, hidden activation(s), init.

    >>> describe_mlp(MLP([2, 100, 100, 1], activation=["relu", "tanh"], init="zeros"))
    'MLP 2-100x2-1, relu/tanh, zeros'
    """
    sizes = net.layer_sizes
    hidden = [f"{size}x{len(run)}" if len(run) > 1 else str(size)
              for size, run in ((s, list(r)) for s, r in groupby(sizes[1:-1]))]
    names = list(dict.fromkeys(a.name for a in net.activations)) or ["linear"]
    return f"MLP {'-'.join([str(sizes[0]), *hidden, str(sizes[-1])])}, {'/'.join(names)}, {net.init}"
