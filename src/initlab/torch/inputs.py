"""How initlab.torch feeds a model and reads what it returns.

A batch is a tensor (float inputs or int64 token ids), called as ``model(batch)``, or a dict of tensors
(Hugging Face style: ``input_ids``, ``attention_mask``, ...), called as ``model(**batch)``.

A model may return a tensor, a tuple/list, or a dict (a Hugging Face ``ModelOutput`` is one). The
*target* output (what a loss or a probe reads) is, by default:

- a tensor: itself;
- a dict or ModelOutput: ``logits``, else ``last_hidden_state``, else its first floating-point tensor;
- a tuple or list: its first floating-point tensor.

``output=`` (Python) or ``--output KEY`` (CLI) chooses another: a key of the dict, or an index of the
tuple (``0``, ``1``, ...). A key that is not there is one ``ArgumentError`` naming ``output`` and
the keys there are.

>>> import torch
>>> select_output({"loss": None, "logits": torch.ones(2, 3)}).shape
torch.Size([2, 3])
>>> select_output((torch.arange(3), torch.zeros(2)), "1").shape
torch.Size([2])
>>> select_output({"logits": torch.ones(1)}, "hidden")
Traceback (most recent call last):
...
initlab._errors.ArgumentError: output: the model's output has no key 'hidden'; its keys: logits
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from initlab._errors import ArgumentError, ArgumentTypeError

DEFAULT_KEYS = ("logits", "last_hidden_state")


def check_batch(batch, argument: str = "batch"):
    """`batch` itself when it is a tensor or a non-empty dict of str -> tensor; else an ArgumentTypeError."""
    if isinstance(batch, torch.Tensor):
        return batch
    if isinstance(batch, Mapping) and batch and all(isinstance(k, str) for k in batch) \
            and any(isinstance(v, torch.Tensor) for v in batch.values()):
        return batch
    raise ArgumentTypeError(argument, "expected a torch.Tensor or a dict of tensors (called as model(**batch)), "
                            f"got {type(batch).__name__}")


def check_finite(batch, argument: str = "batch"):
    """`batch` (checked by `check_batch`) when its floating tensors hold no NaN or infinity; else an
    ArgumentError counting them (and naming the dict key).

    >>> check_finite({"x": torch.tensor([1.0, float("nan"), float("inf")])})
    Traceback (most recent call last):
    ...
    initlab._errors.ArgumentError: batch: expected finite numbers, got 2 NaN or infinite value(s) in 'x'
    """
    batch = check_batch(batch, argument)
    items = batch.items() if isinstance(batch, Mapping) else [(None, batch)]
    for key, value in items:
        if isinstance(value, torch.Tensor) and value.is_floating_point():
            bad = int((~torch.isfinite(value.detach())).sum())
            if bad:
                where = "" if key is None else f" in '{key}'"
                raise ArgumentError(argument, f"expected finite numbers, got {bad} NaN or infinite value(s){where}")
    return batch


def call(model: nn.Module, batch):
    """``model(batch)`` for a tensor, ``model(**batch)`` for a dict."""
    return model(**batch) if isinstance(batch, Mapping) else model(batch)


def first_tensor(batch) -> torch.Tensor:
    """The tensor, or the first tensor of a dict batch (``input_ids`` in Hugging Face order)."""
    if isinstance(batch, torch.Tensor):
        return batch
    return next(v for v in batch.values() if isinstance(v, torch.Tensor))


def batch_size(batch) -> int:
    """Samples in `batch`: the first dimension of its (first) tensor (0 for a scalar)."""
    t = first_tensor(batch)
    return int(t.shape[0]) if t.dim() else 0


def shape_text(batch) -> str:
    """'[8, 12]' for a tensor; "{input_ids: [8, 12], attention_mask: [8, 12]}" for a dict."""
    if isinstance(batch, torch.Tensor):
        return str(list(batch.shape))
    return "{" + ", ".join(f"{k}: {list(v.shape) if isinstance(v, torch.Tensor) else type(v).__name__}"
                           for k, v in batch.items()) + "}"


def is_floating(x) -> bool:
    return isinstance(x, torch.Tensor) and x.is_floating_point()


def _keys(out: Mapping) -> list[str]:
    return [str(k) for k, v in out.items() if v is not None]


def select_output(out, output: str | int | None = None, argument: str = "output") -> torch.Tensor:
    """The target tensor of a model's return value `out` (module doc)."""
    if isinstance(out, torch.Tensor):
        if output is not None:
            raise ArgumentError(argument, f"the model returns one tensor, which has no key {str(output)!r}")
        return out
    if isinstance(out, Mapping):
        if output is not None:
            value = out.get(str(output))
            if not isinstance(value, torch.Tensor):
                what = "no key" if value is None else "a non-tensor under"
                raise ArgumentError(argument, f"the model's output has {what} {str(output)!r}; its keys: "
                                    f"{', '.join(_keys(out)) or '(none)'}")
            return value
        for key in DEFAULT_KEYS:
            if isinstance(out.get(key), torch.Tensor):
                return out[key]
        found = next((v for v in out.values() if is_floating(v)), None)
        if found is None:
            raise ArgumentError(argument, f"the model's output holds no floating-point tensor; its keys: "
                                f"{', '.join(_keys(out)) or '(none)'}")
        return found
    if isinstance(out, (tuple, list)):
        if output is not None:
            index = str(output)
            if not index.lstrip("-").isdigit() or not -len(out) <= int(index) < len(out) \
                    or not isinstance(out[int(index)], torch.Tensor):
                tensors = [str(i) for i, v in enumerate(out) if isinstance(v, torch.Tensor)]
                raise ArgumentError(argument, f"the model returns a {type(out).__name__} of {len(out)}; "
                                    f"{str(output)!r} is not the index of a tensor there (tensors at: "
                                    f"{', '.join(tensors) or 'none'})")
            return out[int(index)]
        found = next((v for v in out if is_floating(v)), None)
        if found is not None:
            return found
    raise ArgumentError(argument, f"expected the model to return a tensor, a tuple or a dict of tensors, "
                        f"got {type(out).__name__}")
