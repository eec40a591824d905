"""The L-layer perceptron (a fully connected network): rows are samples, weights are (fan_in, fan_out).

Forward keeps the inputs and pre-activations that backward needs; backward is the chain rule,
layer by layer, from the last layer to the first.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from initlab._checks import features, targets
from initlab._errors import ArgumentError
from initlab._random import as_generator
from initlab.init import Initializer, check_dtype, fans, initializer
from initlab.nn.activations import Activation, activation
from initlab.nn.heads import Head, head

Params = list[tuple[np.ndarray, np.ndarray]]


def check_layer_sizes(layer_sizes: Sequence[int], argument: str = "layer_sizes") -> list[int]:
    sizes = list(layer_sizes)
    if len(sizes) < 2 or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0
                                 for s in sizes):
        raise ArgumentError(argument, f"expected at least 2 positive integers (input, ..., output), got {sizes}")
    return [int(s) for s in sizes]


class MLP:
    """A dense network ``layer_sizes[0] -> ... -> layer_sizes[-1]``.

    >>> net = MLP([2, 10, 5, 1], activation="relu", output="sigmoid", init="he_normal", seed=0)
    >>> [w.shape for w, b in net.params]
    [(2, 10), (10, 5), (5, 1)]
    >>> X, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    >>> cost, grads = net.loss_and_grads(X, y)
    >>> round(cost, 6)  # zero inputs: the logits are the zero biases, so the cost is ln 2
    0.693147
    """

    def __init__(self, layer_sizes: Sequence[int], activation: str | Sequence[str] = "relu",
                 output: str = "sigmoid", init: str | Initializer = "he_normal",
                 bias_init: str | Initializer = "zeros", seed: int = 0, dtype: str = "float64"):
        self.layer_sizes = check_layer_sizes(layer_sizes)
        self.activations = self._hidden_activations(activation)
        self.head: Head = head(output)
        self.init = initializer(init, argument="init")
        self.bias_init = initializer(bias_init, argument="bias_init")
        self.dtype = check_dtype(dtype)
        rng = as_generator(seed, "seed")
        self.params: Params = []
        for fan_in, fan_out in zip(self.layer_sizes[:-1], self.layer_sizes[1:]):
            # exact: a float32 network starts from the float64 one's weights, rounded (same seed, same net)
            W = self.init((fan_in, fan_out), rng, self.dtype, exact=True)
            b = self.bias_init((fan_out,), rng, self.dtype, fan=fans((fan_in, fan_out)), exact=True)
            self.params.append((W, b))

    def _hidden_activations(self, spec: str | Sequence[str]) -> list[Activation]:
        n_hidden = len(self.layer_sizes) - 2
        if isinstance(spec, (str, Activation)):
            return [activation(spec)] * n_hidden
        names = list(spec)
        if len(names) != n_hidden:
            raise ArgumentError("activation", f"expected one name or {n_hidden} (one per hidden layer), got {names}")
        return [activation(name) for name in names]

    @property
    def n_outputs(self) -> int:
        return self.layer_sizes[-1]

    def as_input(self, X: np.ndarray, argument: str = "X") -> np.ndarray:
        """`X` in the network's dtype after `initlab._checks.features` (2-D, this input width, finite)."""
        X = features(argument, X, self.layer_sizes[0])
        largest, limit = float(np.abs(X).max()), float(np.finfo(self.dtype).max)
        if largest > limit:  # finite in float64, infinite once cast to float32
            raise ArgumentError(argument, f"expected values within {self.dtype.name}'s range (+-{limit:.3g}), "
                                          f"got {largest:.3g}; scale the inputs or use float64")
        return X.astype(self.dtype, copy=False)

    def check_data(self, X, y, X_test=None, y_test=None) -> tuple[np.ndarray, np.ndarray,
                                                                  np.ndarray | None, np.ndarray | None]:
        """Training (and optional test) data checked against this network before any work: finite
        real inputs of the input width, one finite label or target per row that fits the output
        layer; `X_test` and `y_test` both or neither (an empty test set is allowed)."""
        X = self.as_input(X, "X")
        y = targets("y", y, len(X))
        self.check_targets(y, "y")
        if (X_test is None) != (y_test is None):
            given, missing = ("X_test", "y_test") if y_test is None else ("y_test", "X_test")
            raise ArgumentError(given, f"given without {missing}; pass both or neither")
        if X_test is not None:
            X_test = np.asarray(X_test)
            if X_test.ndim == 2 and X_test.shape[0] == 0 and X_test.shape[1] == self.layer_sizes[0]:
                y_test = np.asarray(y_test)
                if len(y_test):
                    raise ArgumentError("y_test", f"expected 0 targets (X_test has no rows), got {len(y_test)}")
                return X, y, X_test.astype(self.dtype), y_test
            X_test = self.as_input(X_test, "X_test")
            y_test = targets("y_test", y_test, len(X_test))
            self.check_targets(y_test, "y_test")
        return X, y, X_test, y_test

    def logits(self, X: np.ndarray) -> np.ndarray:
        A = self.as_input(X)
        for (W, b), act in zip(self.params[:-1], self.activations):
            A = act.forward(A @ W + b)
        W, b = self.params[-1]
        return A @ W + b

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Class labels for sigmoid/softmax outputs, values for a linear output."""
        return self.head.predict(self.logits(X))

    def loss(self, X: np.ndarray, y: np.ndarray) -> float:
        return self.head.loss(self.logits(X), np.asarray(y))

    def loss_and_grads(self, X: np.ndarray, y: np.ndarray) -> tuple[float, Params]:
        """Mean loss over the rows of `X` and its gradient, shaped like `params`."""
        X, y = self.as_input(X), np.asarray(y)
        W, b = self.params[0]
        inputs, pre, z = self.forward_from(X, X @ W + b)
        return self.head.loss(z, y), self.backward(inputs, pre, self.head.delta(z, y))

    def forward_from(self, X: np.ndarray | None, first_pre: np.ndarray):
        """Forward pass given the first layer's pre-activation.

        Returns (inputs, pre, logits): `inputs[l]` is layer l's input (`inputs[0]` is `X`),
        `pre[l]` the pre-activation of hidden layer l.
        """
        inputs, pre, z = [X], [], first_pre
        for (W, b), act in zip(self.params[1:], self.activations):
            pre.append(z)
            inputs.append(act.forward(z))
            z = inputs[-1] @ W + b
        return inputs, pre, z

    def deltas(self, inputs: list[np.ndarray], pre: list[np.ndarray], delta: np.ndarray):
        """Chain rule from the output back: yield (layer, d(summed loss)/d(layer's pre-activation))."""
        for layer in range(len(self.params) - 1, -1, -1):
            yield layer, delta
            if layer:
                delta = (delta @ self.params[layer][0].T) * self.activations[layer - 1].derivative(
                    pre[layer - 1], inputs[layer])

    def backward(self, inputs: list[np.ndarray], pre: list[np.ndarray], delta: np.ndarray) -> Params:
        """Gradients of the mean loss from the output's unscaled delta.

        Sums over samples are taken before dividing by their count, so exact cancellations
        (zeros init on balanced data) stay exactly zero.
        """
        scale = self.dtype.type(1.0 / len(delta))
        grads: Params = [None] * len(self.params)  # type: ignore[list-item]
        for layer, d in self.deltas(inputs, pre, delta):
            grads[layer] = ((inputs[layer].T @ d) * scale, d.sum(axis=0) * scale)
        return grads

    def flat_params(self) -> list[np.ndarray]:
        """[W1, b1, W2, b2, ...]: the arrays themselves (updating them updates the network)."""
        return [p for pair in self.params for p in pair]

    def check_targets(self, y: np.ndarray, argument: str = "y") -> None:
        self.head.check_targets(np.asarray(y), self.n_outputs, argument)
