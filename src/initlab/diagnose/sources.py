"""What a diagnosis runs on, built from user options: a batch of data, an initlab MLP, or a PyTorch
model returned by a user's factory function (`module.path:factory`).

One seed drives everything, split with `SeedSequence.spawn` into independent streams for the
batch, the weights, LSUV's calibration batch and the factory's own random draws: drawing the batch
and the weights from one stream would make the first layer's weights copies of the inputs.

A factory path is imported the way `python -m` would see it: the current folder comes first on
`sys.path` while it is imported, so `initlab diagnose --torch mymodels:build` finds `./mymodels.py`.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from initlab._errors import ArgumentError, did_you_mean
from initlab.data import load, standardize
from initlab.nn.mlp import MLP
from initlab.options import parse_factory


@dataclass(frozen=True)
class Seeds:
    """Independent seeds for the batch, the weights, LSUV's calibration batch and the model factory."""

    batch: int
    weights: int
    calibration: int
    factory: int

    @classmethod
    def spawn(cls, seed: int) -> Seeds:
        """
        >>> s = Seeds.spawn(0)
        >>> len({s.batch, s.weights, s.calibration, s.factory}), s == Seeds.spawn(0)
        (4, True)
        """
        children = np.random.SeedSequence(seed).spawn(4)
        return cls(*(int(child.generate_state(1, np.uint64)[0] >> np.uint64(1)) for child in children))


def load_batch(data: str, n_samples: int, seed: int, scale: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """`n_samples` rows of dataset `data` (an `initlab.data.load` spec), standardized per column if `scale`."""
    X, y = load(data, n_samples=n_samples, seed=np.random.default_rng(seed))
    if scale:
        X, _ = standardize(X, X[:0])
    return X, y


def output_head(y: np.ndarray) -> tuple[str, int]:
    """sigmoid for 2 classes, softmax for more, linear for real-valued targets (as `compare` infers)."""
    if np.issubdtype(y.dtype, np.integer):
        n_classes = int(y.max()) + 1 if len(y) else 2
        return ("sigmoid", 1) if n_classes <= 2 else ("softmax", n_classes)
    return "linear", 1 if y.ndim == 1 else y.shape[1]


def mlp_for(X: np.ndarray, y: np.ndarray, hidden: Sequence[int], activation: str, init: str,
            bias_init: str = "zeros", seed: int = 0) -> MLP:
    """The network `initlab compare` would train on (X, y), freshly initialised."""
    output, width = output_head(y)
    return MLP([X.shape[1], *hidden, width], activation=activation, output=output, init=init,
               bias_init=bias_init, seed=seed)


def load_factory(path: str, seed: int = 0, argument: str = "torch"):
    """Call the factory named by 'module.path:function' or 'module.path:function(key=literal, ...)'
    (`initlab.options.parse_factory`) and return the `torch.nn.Module` it builds.

    The factory runs on a forked torch RNG seeded with `seed`, so a model built with torch's
    default init is the same at every run and the caller's random state is untouched. Whatever the
    module prints while it is imported and the factory runs goes to stderr: stdout holds only the
    commands' --json documents."""
    factory = factory_function(path, argument)
    import torch

    from initlab.torch.trace import first_line
    try:
        with torch.random.fork_rng(devices=[]), contextlib.redirect_stdout(sys.stderr):
            torch.default_generator.manual_seed(seed)
            model = factory()
    except Exception as error:  # noqa: BLE001 - any failure of the user's code is reported, not raised
        raise ArgumentError(argument, f"factory '{path}' raised {type(error).__name__}: {first_line(error)}") from None
    if not isinstance(model, torch.nn.Module):
        raise ArgumentError(argument, f"factory '{path}' returned {type(model).__name__}, expected a torch.nn.Module")
    return model


def factory_function(path: str, argument: str = "torch") -> functools.partial:
    """The function named by 'module.path:function(key=literal, ...)' with its keywords bound, not called
    (`load_factory` calls it; the coordinate check calls it once per width). The module is imported as
    `load_factory` says; a missing function is one ArgumentError naming the close ones."""
    module_name, name, kwargs = parse_factory(path, argument)
    try:
        import torch  # noqa: F401 - only to say what is missing

        from initlab.torch.trace import first_line  # noqa: F401
    except ImportError:
        raise ArgumentError(argument, "needs PyTorch; install it with: pip install 'initlab[torch]'") from None
    with contextlib.redirect_stdout(sys.stderr):  # the user's prints must not break a --json document
        module = _import_from_cwd(module_name, argument)
    factory = getattr(module, name, None)
    if not callable(factory):
        names = [n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n))]
        missing = "has no function" if factory is None else "has a non-callable"
        raise ArgumentError(argument, f"module '{module_name}' {missing} '{name}'{did_you_mean(name, names)}")
    return functools.partial(factory, **kwargs)


def _import_from_cwd(module_name: str, argument: str):
    from initlab.torch.trace import first_line  # only reached once torch imported
    folder = os.getcwd()
    added = folder not in sys.path
    if added:
        sys.path.insert(0, folder)
    try:
        return importlib.import_module(module_name)
    except Exception as error:  # noqa: BLE001
        raise ArgumentError(argument, f"cannot import module '{module_name}' "
                         f"({type(error).__name__}: {first_line(error)})") from None
    finally:
        if added:
            sys.path.remove(folder)


def torch_batch(input_shape: Sequence[int] | None, n_samples: int, seed: int, data: str | None = None,
                scale: bool = True, vocab: int | None = None):
    """(inputs, targets) for a torch model: standard-normal inputs of `input_shape` (targets None), token
    ids drawn uniformly from 0..vocab-1 when `vocab` is given (int64, shape (n_samples, *input_shape),
    e.g. (n, length); targets None), or rows of `data` reshaped to `input_shape` when both are given
    (e.g. digits' 64 columns as 1x8x8). Random inputs come from ``torch.Generator().manual_seed(seed)``."""
    import torch
    if vocab is not None:
        if input_shape is None:
            raise ArgumentError("input_shape", "give the sequence length of the token ids, e.g. --input-shape 128")
        generator = torch.Generator().manual_seed(seed)
        return torch.randint(vocab, (n_samples, *input_shape), generator=generator), None
    if data is None:
        if input_shape is None:
            raise ArgumentError("input_shape", "give --input-shape (e.g. 3,32,32) or --data for a torch model")
        generator = torch.Generator().manual_seed(seed)
        return torch.randn((n_samples, *input_shape), generator=generator, dtype=torch.float32), None
    X, y = load_batch(data, n_samples, seed, scale)
    if input_shape is not None:
        if int(np.prod(input_shape)) != X.shape[1]:
            raise ArgumentError("input_shape", f"{list(input_shape)} holds {int(np.prod(input_shape))} values but "
                             f"'{data}' has {X.shape[1]} features")
        X = X.reshape(len(X), *input_shape)
    target = torch.from_numpy(y) if np.issubdtype(y.dtype, np.integer) else torch.from_numpy(y).float()
    return torch.from_numpy(X).float(), target


def initialise_torch(model, init: str, seed: int, calibration_batch, bias: str = "zeros"):
    """Re-initialise `model` in place: 'auto' (analytic gains), 'lsuv' (on `calibration_batch()`, a batch
    other than the diagnosed one) or any initlab scheme spec with `bias` for the biases, all through
    `initlab.torch`. A tensor tied between modules that the scheme leaves alone (GPT-2's lm_head and
    token embedding; `initlab.torch.TiedParameterWarning`) is one line on stderr, not a Python warning
    with its source line."""
    import warnings

    import initlab.torch as adapter
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", adapter.TiedParameterWarning)
        _initialise(adapter, model, init, seed, calibration_batch, bias)
    for warning in caught:
        if issubclass(warning.category, adapter.TiedParameterWarning):
            print(f"--init {init}: {warning.message}", file=sys.stderr)
        else:  # every other warning as it would have been shown
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno,
                                   source=warning.source)
    return model


def _initialise(adapter, model, init: str, seed: int, calibration_batch, bias: str) -> None:
    if init == "auto":  # the calibration batch only shows auto the layers (and a token model's start)
        adapter.auto(model, seed=seed, example=calibration_batch())
    elif init == "lsuv":
        adapter.lsuv(model, calibration_batch(), seed=seed)
    else:
        adapter.apply(model, init, bias=bias, seed=seed)
