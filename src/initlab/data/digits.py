"""The scikit-learn 8x8 digits (bundled with scikit-learn, nothing is downloaded)."""

from __future__ import annotations

import numpy as np
from initlab._errors import ArgumentError


def parse_classes(text: str, spec: str) -> list[int]:
    """`"3,5"` -> `[3, 5]`: distinct digits 0-9, at least two, order kept.

    >>> parse_classes("3, 5", "digits:3, 5")
    [3, 5]
    """
    rule = "expected at least 2 distinct digits 0-9 separated by commas, e.g. 'digits:0,1'"
    parts = [part.strip() for part in text.split(",")]
    if not all(len(part) == 1 and part in "0123456789" for part in parts):
        raise ArgumentError("data", f"bad digits class list '{text}' in '{spec}'; {rule}")
    classes = [int(part) for part in parts]
    if len(classes) < 2 or len(set(classes)) != len(classes):
        raise ArgumentError("data", f"bad digits class list '{text}' in '{spec}'; {rule}")
    return classes


def digits(classes: list[int] | None = None, image_size: int | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """All 8x8 digit images of `classes` (default all ten), pixels scaled to [0, 1] by /16.

    `image_size` resamples each image to image_size x image_size (bilinear, Pillow): 20 gives the
    400 inputs of the 20x20 digits in Ng's course.

    Labels are remapped to `0..k-1` in the order given: `classes=[7, 1]` makes 7 -> 0, 1 -> 1.
    Rows keep scikit-learn's order. The class names are the digits, in label order.

    >>> X, y, names = digits([7, 1])
    >>> X.shape, np.bincount(y).tolist(), float(X.max()), names
    ((361, 64), [179, 182], 1.0, ['7', '1'])
    """
    from PIL import Image
    from sklearn.datasets import load_digits

    X, target = load_digits(return_X_y=True)
    X = X / 16.0
    if image_size is not None:
        X = np.stack([np.asarray(Image.fromarray(image.reshape(8, 8).astype(np.float32), mode="F")
                                 .resize((image_size, image_size), Image.Resampling.BILINEAR)).ravel()
                      for image in X]).clip(0.0, 1.0)
    if classes is None:
        return np.ascontiguousarray(X, dtype=np.float64), target.astype(np.int64), [str(d) for d in range(10)]
    lookup = np.full(10, -1, dtype=np.int64)
    lookup[classes] = np.arange(len(classes))
    keep = lookup[target] >= 0
    return np.ascontiguousarray(X[keep], dtype=np.float64), lookup[target[keep]], [str(c) for c in classes]
