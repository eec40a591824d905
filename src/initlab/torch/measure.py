"""How an init propagates through deep MLPs, over many seeds: the measurements behind the README's torch table
(``examples/torch_init_table.py``) and the tests of `initlab.torch.auto` and `initlab.torch.lsuv`.

`propagation(activation, method)` builds one ``depth`` x ``Linear(width, width)`` + activation MLP per
seed, initialises it (``"auto"`` with its options, ``"lsuv"`` on a calibration batch of N(0, 1) inputs
drawn with seed 1, or ``"torch_default"``: ``nn.Linear``'s own init with the seed) and runs one fixed
batch of N(0, 1) inputs (seed 1000) through it, recording every Linear's output.

>>> p = propagation("relu", "auto", seeds=range(3), depth=4, width=32, batch=64)
>>> p.geometric_mean.shape, len(p.predicted)
(torch.Size([4]), 4)
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import nn

from initlab._checks import choice
from initlab.torch.apply import apply
from initlab.torch.auto import auto
from initlab.torch.lsuv import lsuv
from initlab.torch.trace import LAYER_TYPES

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}
METHODS = ("auto", "lsuv", "torch_default")
EVALUATION_SEED, CALIBRATION_SEED = 1000, 1


def mlp(activation: str, depth: int = 30, width: int = 256) -> nn.Sequential:
    """`depth` Linear(width, width) layers, each followed by the activation (relu, tanh or gelu)."""
    return nn.Sequential(*[m for _ in range(depth) for m in (nn.Linear(width, width), ACTIVATIONS[activation]())])


def gaussian(shape, seed: int) -> torch.Tensor:
    """N(0, 1) entries of `shape` from ``torch.Generator().manual_seed(seed)``."""
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def layer_outputs(model: nn.Module, batch: torch.Tensor) -> list[torch.Tensor]:
    """The output (float64) of every Linear/Conv call when `model` runs `batch`, in call order."""
    seen: list[torch.Tensor] = []
    handles = [m.register_forward_hook(lambda _m, _i, out: seen.append(out.detach().double()))
               for m in model.modules() if isinstance(m, LAYER_TYPES)]
    try:
        with torch.no_grad():
            model(batch)
    finally:
        for h in handles:
            h.remove()
    return seen


def layer_stds(model: nn.Module, batch: torch.Tensor, per_input: bool = False) -> torch.Tensor:
    """Every Linear/Conv output's std over all its entries, shape (layers,); with `per_input` the std of
    each input's output vector, shape (layers, batch)."""
    outputs = layer_outputs(model, batch)
    return torch.stack([h.flatten(1).std(dim=1) if per_input else h.std() for h in outputs])


@dataclass(frozen=True)
class Propagation:
    """Per layer (index 0 = the first Linear), over the seeds."""

    geometric_mean: torch.Tensor  # exp(mean over seeds of log(output std over the batch))
    log_se: torch.Tensor          # standard error of that mean of logs: seed-to-seed sd / sqrt(seeds)
    first_seed: torch.Tensor      # output std over the batch, first seed only
    variance_mean: torch.Tensor   # mean over seeds of the output variance over the batch
    variance_se: torch.Tensor     # its standard error: seed-to-seed sd / sqrt(seeds)
    spread: torch.Tensor          # seed-to-seed sd of log(one input's output std), averaged over the inputs
    predicted: list[float] | None  # auto on dense layers: the finite-width prediction of `spread`
    seconds: float                # mean wall time of one init call


def propagation(activation: str, method: str, seeds: Iterable[int] = range(20), depth: int = 30, width: int = 256,
                batch: int = 512, **options) -> Propagation:
    """Measure `method` (auto, lsuv or torch_default; `options` go to auto or lsuv) as the module doc says."""
    choice("method", method, METHODS)
    x = gaussian((batch, width), EVALUATION_SEED)
    calibration = gaussian((batch, width), CALIBRATION_SEED) if method == "lsuv" else None
    batch_logs, per_input_logs, seconds, predicted = [], [], 0.0, None
    for seed in seeds:
        net = mlp(activation, depth, width)
        start = time.perf_counter()
        if method == "auto":
            predicted = auto(net, (width,), seed=seed, **options).predicted_spread()
        elif method == "lsuv":
            lsuv(net, calibration, seed=seed, **options)
        else:
            apply(net, "torch_default", bias="torch_default", seed=seed)
        seconds += time.perf_counter() - start
        outputs = layer_outputs(net, x)
        batch_logs.append(torch.stack([h.std() for h in outputs]).log())
        per_input_logs.append(torch.stack([h.std(dim=1) for h in outputs]).log())
    logs, per_input = torch.stack(batch_logs), torch.stack(per_input_logs)
    variances, root = (2 * logs).exp(), math.sqrt(len(logs))
    return Propagation(logs.mean(0).exp(), logs.std(0) / root, logs[0].exp(), variances.mean(0),
                       variances.std(0) / root, per_input.std(0).mean(-1), predicted, seconds / len(logs))
