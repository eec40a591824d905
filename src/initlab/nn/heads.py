"""Output layers with their losses, computed from the logits so that huge logits stay finite.

Each head gives the mean loss over samples and the *unscaled* gradient of the summed loss with
respect to the logits (e.g. ``sigmoid(z) - y``). The engine divides by the sample count after
summing, so that exactly cancelling gradients (zeros init on balanced data) stay exactly zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from initlab._errors import ArgumentError, unknown_choice


@dataclass(frozen=True)
class Head:
    name: str
    loss_name: str

    def check_targets(self, y: np.ndarray, width: int, argument: str = "y") -> None:
        """Raise ValueError if `y` does not fit an output layer of `width` units."""
        raise NotImplementedError

    def loss(self, z: np.ndarray, y: np.ndarray) -> float:
        raise NotImplementedError

    def delta(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        """d(sum of per-sample losses)/dz."""
        raise NotImplementedError

    def predict(self, z: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def accuracy(self, z: np.ndarray, y: np.ndarray) -> float | None:
        return float(np.mean(self.predict(z) == y)) if len(y) else None


def mean_loss(losses: np.ndarray) -> float:
    """Mean of per-sample losses, shifted by the first one: a constant vector (zeros init,
    where every sample's loss is ln 2) gives exactly that constant, which a plain mean does not."""
    if losses.size == 0:
        return float("nan")
    first = losses.flat[0]
    return float(first + np.mean(losses - first))


def _class_labels(y: np.ndarray, n_classes: int, head: str, argument: str) -> None:
    if y.ndim != 1:
        raise ArgumentError(argument, f"{head} output expects a 1-D vector of class labels, got shape {y.shape}")
    labels = np.unique(y)
    if not np.all((labels == np.round(labels)) & (labels >= 0) & (labels < n_classes)):
        bad = [v for v in labels.tolist() if not (v == round(v) and 0 <= v < n_classes)][:5]
        raise ArgumentError(argument, f"{head} output with {n_classes} classes needs integer labels "
                         f"in 0..{n_classes - 1}, got {bad}")


class SigmoidBCE(Head):
    def check_targets(self, y, width, argument="y"):
        if width != 1:
            raise ArgumentError("output", f"sigmoid output needs 1 unit, got {width}; use output='softmax' for "
                             f"{width} classes")
        _class_labels(y, 2, "sigmoid", argument)

    def loss(self, z, y):
        # max(z, 0) - y z + log(1 + e^-|z|): torch's form, finite for any z and without the
        # cancellation of log(1 + e^z) - y z that rounds tiny losses to 0 when y = 1.
        z = z[:, 0]
        return mean_loss(np.maximum(z, 0) - y * z + np.log1p(np.exp(-np.abs(z))))

    def delta(self, z, y):
        from scipy.special import expit  # here, not at import: keeps the CLI's start-up short

        return expit(z) - y.reshape(-1, 1).astype(z.dtype)

    def predict(self, z):
        return (z[:, 0] > 0).astype(np.int64)


class SoftmaxCE(Head):
    def check_targets(self, y, width, argument="y"):
        if width < 2:
            raise ArgumentError("output", f"softmax output needs at least 2 units, got {width}")
        _class_labels(y, width, "softmax", argument)

    def loss(self, z, y):
        from scipy.special import log_softmax

        return mean_loss(-log_softmax(z, axis=1)[np.arange(len(y)), y.astype(np.intp)])

    def delta(self, z, y):
        from scipy.special import softmax

        p = softmax(z, axis=1)
        p[np.arange(len(y)), y.astype(np.intp)] -= 1
        return p

    def predict(self, z):
        return np.argmax(z, axis=1)


class LinearMSE(Head):
    """Mean over all elements of (z - y)^2, as torch's MSELoss."""

    def check_targets(self, y, width, argument="y"):
        columns = 1 if y.ndim == 1 else y.shape[1]
        if y.ndim > 2 or columns != width:
            raise ArgumentError(argument, f"linear output with {width} units needs targets with {width} "
                             f"column(s), got shape {y.shape}")

    def loss(self, z, y):
        return mean_loss((z - y.reshape(z.shape)) ** 2)

    def delta(self, z, y):
        return (2.0 / z.shape[1]) * (z - y.reshape(z.shape).astype(z.dtype))

    def predict(self, z):
        return z[:, 0] if z.shape[1] == 1 else z

    def accuracy(self, z, y):
        return None


HEADS: dict[str, Head] = {h.name: h for h in (SigmoidBCE("sigmoid", "binary cross-entropy"),
                                              SoftmaxCE("softmax", "cross-entropy"),
                                              LinearMSE("linear", "mean squared error"))}


def head(name: str | Head, argument: str = "output") -> Head:
    if isinstance(name, Head):
        return name
    if name not in HEADS:
        raise unknown_choice(argument, "output", str(name), HEADS)
    return HEADS[name]
