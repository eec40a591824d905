"""The coordinate check of muP (Yang et al., Tensor Programs V, 2022; the `mup` package's
``coord_check``) for any PyTorch model, unmodified: does each module's output keep its size as the
model gets wider (or deeper), at initialization and after the first optimizer steps?

`coordcheck(factory, widths)` builds a fresh model per size and seed (``factory(**{width_arg: w})`` on
torch's RNG forked and seeded with the seed: 0, 1, ...), trains it for `steps` optimizer steps on one
batch (the same for every size and seed) and records, with forward hooks
(`initlab.torch.coordcheck_hooks`), the rms of every module's output and of the attention logits in
the forward pass of step t = 0..T (step t: after t optimizer steps; the forward pass of step t < T is
also the one the step trains on), and the rms of each output's change since step 0. The slopes of log(rms) against log(size), the verdicts and the roles
are `initlab.torch.coordcheck_result` and `initlab.torch.coordcheck_roles`.

Loss of the steps (`loss=None`): with targets (a batch ``(inputs, targets)``), cross-entropy for
integer targets (over the last dimension of the output: a token model's targets may be (batch, length))
and the mean squared error otherwise; without targets, next-token cross-entropy when the inputs are
token ids and the output holds logits over a vocabulary covering them (``out[:, :-1]`` against
``ids[:, 1:]``), else the mean squared error against standard-normal targets of the output's shape,
the same for every model (`random_target`; the output's own mean square would not move a model whose
readout starts at zero, as muP's may). A callable ``loss(output, targets)`` replaces it
(`output` as the model returned it, `targets` None without targets).

`optimizer` is "adam" (``torch.optim.Adam``), "sgd" (``torch.optim.SGD``; both ``fused=True``) or a callable
``(model, lr) -> torch.optim.Optimizer``: how a muP model is checked with its per-layer learning rates.

>>> import torch
>>> from torch import nn
>>> make = lambda width: nn.Sequential(nn.Linear(8, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
...                                     nn.Linear(width, 1))
>>> result = coordcheck(make, widths=(32, 64, 128), steps=1, lr=0.01, seeds=1, input_shape=(8,))
>>> [(m.name, m.role) for m in result.modules]  # doctest: +NORMALIZE_WHITESPACE
[('0', 'embedding'), ('1', 'hidden'), ('2', 'hidden'), ('3', 'hidden'), ('4', 'readout')]
>>> abs(result.module("2").slopes[0]) < 0.1, result.module("2").verdict, result.verdict, result.first_broken
(True, 'grows', 'grows', ['4'])
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from initlab._errors import ArgumentError, ArgumentTypeError
from initlab.torch.coordcheck_hooks import Recorder
from initlab.torch.coordcheck_result import TOLERANCE, CoordCheck, module_check
from initlab.torch.coordcheck_roles import Seen, aligned, containers, depth_roles, kinds_of, varying, width_roles
from initlab.torch.inputs import call, check_batch, first_tensor, select_output

# torch's fused CPU kernels: the same update, one kernel per step instead of one per tensor and operation
# (Adam's step 3.5x faster on a 4 x 1024^2 MLP)
OPTIMIZERS = {"adam": functools.partial(torch.optim.Adam, fused=True),
              "sgd": functools.partial(torch.optim.SGD, fused=True)}
N_SAMPLES = 32  # batch size when the batch is drawn from input_shape / data / vocab
BATCH_SEED = 0
TARGET_SEED = 1  # the random regression targets of a batch without targets (`random_target`)


def coordcheck(factory: Callable[..., nn.Module], widths: Sequence[int] | None = None, *, width_arg: str = "width",
               depth_arg: str | None = None, depths: Sequence[int] | None = None, steps: int = 5,
               optimizer: str | Callable = "adam", lr: float = 1e-3, seeds: int = 3, batch=None,
               input_shape: Sequence[int] | None = None, data: str | None = None, vocab: int | None = None,
               loss: Callable | None = None, n_samples: int = N_SAMPLES, tolerance: float = TOLERANCE,
               max_memory=None, progress: Callable[[int, int], None] | None = None) -> CoordCheck:
    """The coordinate check of `factory` over `widths` (or `depths` with `depth_arg`, default "depth");
    see the module doc. `batch`: a tensor, a dict of tensors (``model(**batch)``) or ``(inputs, targets)``;
    else drawn by `initlab.diagnose.sources.torch_batch` from `input_shape`, `data` or `vocab`
    (`n_samples` rows, seed 0). `progress(done, total)` is called after each model's run."""
    axis, argument, sizes = _axis(widths, depths, width_arg, depth_arg)
    _check(factory, argument, sizes, axis, steps, lr, seeds, optimizer, tolerance)
    inputs, targets = _batch(batch, input_shape, data, vocab, n_samples)
    _check_memory(factory, argument, sizes[-1], optimizer, max_memory)
    loss = loss or default_loss
    runs, total = [], len(sizes) * seeds
    for i, size in enumerate(sizes):
        per_seed = [_run(factory, argument, size, seed, inputs, targets, loss, optimizer, lr, steps)
                    for seed in _counted(range(seeds), progress, i * seeds, total)]
        runs.append(per_seed)
    modules = _modules(runs, axis, sizes, tolerance)
    config = {"factory": _describe(factory), "arg": argument, "steps": steps,
              "optimizer": optimizer if isinstance(optimizer, str) else _describe(optimizer), "lr": lr,
              "seeds": seeds, "batch": _shape(inputs), "targets": None if targets is None else list(targets.shape),
              "loss": "default" if loss is default_loss else _describe(loss)}
    return CoordCheck(axis, list(sizes), steps, modules, config, tolerance)


def _counted(seeds, progress, done: int, total: int):
    for k, seed in enumerate(seeds):
        yield seed
        if progress is not None:
            progress(done + k + 1, total)


def _describe(thing) -> str:
    if isinstance(thing, functools.partial):
        if not thing.keywords:
            return _describe(thing.func)
        args = ", ".join(f"{k}={v!r}" for k, v in thing.keywords.items())
        return f"{_describe(thing.func)}({args})"
    return f"{getattr(thing, '__module__', '?')}:{getattr(thing, '__qualname__', type(thing).__name__)}"


def _shape(inputs) -> list | dict:
    if isinstance(inputs, Mapping):
        return {k: list(v.shape) for k, v in inputs.items() if isinstance(v, torch.Tensor)}
    return list(inputs.shape)


def _axis(widths, depths, width_arg: str, depth_arg: str | None) -> tuple[str, str, list[int]]:
    if depths is not None:
        if widths is not None:
            raise ArgumentError("depths", "give widths or depths, not both (one check varies one size)")
        return "depth", depth_arg or "depth", _sizes(depths, "depths")
    if widths is None:
        raise ArgumentError("widths", "give at least 3 increasing widths, e.g. (64, 128, 256)")
    return "width", width_arg, _sizes(widths, "widths")


def _sizes(values, argument: str) -> list[int]:
    values = list(values)
    if len(values) < 3 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0
                                  for v in values) or any(b <= a for a, b in zip(values, values[1:])):
        raise ArgumentError(argument, f"expected at least 3 increasing positive integers, got {values}")
    return [int(v) for v in values]


def _check(factory, argument: str, sizes, axis, steps, lr, seeds, optimizer, tolerance) -> None:
    if not callable(factory):
        raise ArgumentTypeError("factory", f"expected a callable returning an nn.Module, got {type(factory).__name__}")
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):  # a builtin without a signature: let the call tell
        parameters = None
    if parameters is not None and argument not in parameters and \
            not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        which = "width_arg" if axis == "width" else "depth_arg"
        raise ArgumentError(which, f"the factory {_describe(factory)} has no argument '{argument}' "
                            f"(its arguments: {', '.join(parameters) or 'none'})")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ArgumentError("steps", f"expected a positive integer, got {steps!r}")
    if isinstance(seeds, bool) or not isinstance(seeds, (int, np.integer)) or seeds < 1:
        raise ArgumentError("seeds", f"expected a positive integer, got {seeds!r}")
    if not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
        raise ArgumentError("lr", f"expected a positive number, got {lr!r}")
    if not isinstance(tolerance, (int, float)) or not tolerance > 0:
        raise ArgumentError("tolerance", f"expected a positive number, got {tolerance!r}")
    if isinstance(optimizer, str) and optimizer not in OPTIMIZERS:
        raise ArgumentError("optimizer", f"expected one of {', '.join(OPTIMIZERS)} or a callable "
                            f"(model, lr) -> optimizer, got {optimizer!r}")
    if not isinstance(optimizer, str) and not callable(optimizer):
        raise ArgumentTypeError("optimizer", f"expected 'adam', 'sgd' or a callable, got {type(optimizer).__name__}")


def _batch(batch, input_shape, data, vocab, n_samples: int):
    """(inputs, targets or None)."""
    if batch is None:
        if input_shape is None and data is None:
            raise ArgumentError("batch", "give a batch, or input_shape (with vocab for token ids) or data")
        from initlab.diagnose.sources import torch_batch  # the batch every torch command draws
        shape = None if input_shape is None else [int(n) for n in np.atleast_1d(input_shape)]
        batch = torch_batch(shape, n_samples, BATCH_SEED, data, vocab=vocab)
    if isinstance(batch, tuple) and len(batch) == 2:
        inputs, targets = batch
    else:
        inputs, targets = batch, None
    inputs = check_batch(inputs, "batch")
    if targets is not None and not isinstance(targets, torch.Tensor):
        raise ArgumentTypeError("batch", f"expected targets as a tensor, got {type(targets).__name__}")
    return inputs, targets


def _check_memory(factory, argument: str, largest: int, optimizer, max_memory) -> None:
    """Refuse a check whose largest model would not fit: its parameters, their gradients and two Adam
    moments (16 bytes per float32 parameter), counted on a model built on the meta device (no memory);
    a factory that cannot build there is not estimated."""
    from initlab import memory
    try:
        with torch.device("meta"):
            model = factory(**{argument: largest})
        count = sum(p.numel() for p in model.parameters())
    except Exception:  # noqa: BLE001 - the real build reports the factory's own errors
        return
    memory.check("factory", 16.0 * count, max_memory,
                 f"the model of {argument}={largest:,} has {count:,} parameters; use smaller sizes")


def _check_output(output) -> torch.Tensor:
    out = select_output(output, argument="factory")
    if not out.is_floating_point():
        raise ArgumentError("factory", f"the model's output is not floating ({out.dtype}); the check trains on it")
    return out


def default_loss(output, targets=None, inputs=None) -> torch.Tensor:
    """The loss of the module doc."""
    out = _check_output(output)
    if targets is not None:
        if not targets.is_floating_point():
            return nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]), targets.reshape(-1))
        return nn.functional.mse_loss(out, targets.reshape(out.shape) if targets.numel() == out.numel() else targets)
    ids = None if inputs is None else first_tensor(inputs)
    if ids is not None and not ids.is_floating_point() and ids.dim() >= 2 and out.dim() == ids.dim() + 1 \
            and out.shape[:-1] == ids.shape and int(ids.max()) < out.shape[-1]:
        return nn.functional.cross_entropy(out[:, :-1].reshape(-1, out.shape[-1]), ids[:, 1:].reshape(-1))
    return nn.functional.mse_loss(out, random_target(tuple(out.shape), out.dtype, str(out.device)))


@functools.lru_cache(maxsize=8)
def random_target(shape: tuple, dtype: torch.dtype, device: str) -> torch.Tensor:
    """Standard-normal regression targets of `shape`, the same for every model of a check (its own
    generator, seeded `TARGET_SEED`): the loss of a batch without targets. Not the output's mean square,
    whose gradient is 0 at a zero output (muP's zero-initialised readout would never move)."""
    generator = torch.Generator().manual_seed(TARGET_SEED)
    return torch.randn(shape, generator=generator, dtype=torch.float32).to(dtype=dtype, device=device)


def _loss_of(loss, output, targets, inputs):
    if loss is default_loss:
        return default_loss(output, targets, inputs)
    return loss(output, targets)


def _build(factory, argument: str, size: int) -> nn.Module:
    try:
        model = factory(**{argument: size})
    except Exception as error:  # noqa: BLE001 - the user's code: one line naming it
        from initlab.torch.trace import first_line
        raise ArgumentError("factory", f"{_describe(factory)}({argument}={size}) raised "
                            f"{type(error).__name__}: {first_line(error)}") from None
    if not isinstance(model, nn.Module):
        raise ArgumentTypeError("factory", f"expected an nn.Module, got {type(model).__name__}")
    return model


def _optimizer(optimizer, model: nn.Module, lr: float):
    if isinstance(optimizer, str):
        return OPTIMIZERS[optimizer](model.parameters(), lr=lr)
    return optimizer(model, lr)


def _run(factory, argument, size, seed, inputs, targets, loss, optimizer, lr, steps):
    """One model's run: ({name: rms per step}, `Seen`, container lengths, {name: rms of the update per step})."""
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(seed)
        model = _build(factory, argument, size)
        model.train()
        opt = _optimizer(optimizer, model, lr)
        recorder = Recorder(model)
        try:
            for step in range(steps + 1):
                with torch.set_grad_enabled(step < steps):
                    output = call(model, inputs)
                    recorder.step()
                    if step == 0:
                        _check_output(output)
                    if step < steps:
                        value = _loss_of(loss, output, targets, inputs)
                        opt.zero_grad(set_to_none=True)
                        value.backward()
                        opt.step()
        finally:
            rms, delta = recorder.remove()
    seen = Seen(recorder.order, recorder.inputs, recorder.numel, kinds_of(model), set(recorder.attention))
    return rms, seen, containers(model), delta


def _modules(runs, axis: str, sizes, tolerance: float):
    """The `ModuleCheck` of every module recorded at every size, in first-call order."""
    moving = varying([per_seed[0][2] for per_seed in runs]) if axis == "depth" else set()
    keyed = []  # per size: {aligned name: raw name}
    for per_seed in runs:
        lengths = {name: n for name, n in per_seed[0][2].items() if name in moving}
        keyed.append({aligned(raw, lengths): raw for raw in per_seed[0][0]})
    common = set(keyed[0]).intersection(*keyed[1:])
    for per_seed, keys in zip(runs, keyed):  # every seed must have recorded it too
        common = {k for k in common if all(keys[k] in run[0] for run in per_seed)}
    last_seen, last_keys = runs[-1][0][1], keyed[-1]
    names = sorted(common, key=lambda k: last_seen.order.get(last_keys[k], 0))
    if axis == "width":
        roles = width_roles(names, runs[0][0][1], last_seen)
    else:
        roles = depth_roles(names, last_seen, last_keys)
    found = []
    for name in names:
        rms, delta = (np.array([[run[k][keys[name]] for run in per_seed] for per_seed, keys in zip(runs, keyed)])
                      for k in (0, 3))  # [size][seed][step] -> [seed][step][size]
        found.append(module_check(name, roles[name], rms.transpose(1, 2, 0), sizes, tolerance,
                                  delta.transpose(1, 2, 0)))
    return found
