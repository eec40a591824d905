"""`audit(model)`: how every parameter tensor of a model was initialised, and what looks wrong.

One row per parameter tensor (`initlab.torch.kinds.inventory`: tied tensors once, in
``named_parameters()`` order): its name, shape, fans (of the weight it belongs to; None for norms
and parameters of no known layer), mean and std (of its finite entries, all of them), the named scheme
its values look drawn from with its KS p-value (`initlab.torch.scheme_match`), and flags (`FLAGS`).

Before the KS tests, two exact checks: a constant tensor is ``zeros``, ``ones`` or
``constant(value=c)``; a weight whose every block (MHA's q, k, v; an RNN's gates), read as a
``(rows, rest)`` matrix as ``torch.nn.init.orthogonal_`` does, has ``W W^T = g^2 I`` (rows <= rest; else
``W^T W``, checked on `ORTHOGONAL_ROWS` random rows or columns) is ``orthogonal(gain=g)`` (``identity``
when it is g times the identity). Exact checks have no p-value.

The KS tests see a sample of each tensor (all of it when it has at most `SAMPLE_SIZE` entries): the
distinct entries among `SAMPLE_SIZE` drawn at random (with repeats, which are then dropped) by a
``torch.Generator`` seeded from `seed` (through numpy's SeedSequence, so not the stream of a model
initialised with the same seed): a 100M-parameter model audits in seconds, and the same model gives
the same table every time. Means, stds, flags and the exact checks
use every entry. Torch's global RNG is not touched; the model is not changed.

>>> import torch
>>> from torch import nn
>>> net = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64))
>>> with torch.no_grad():
...     _ = nn.init.kaiming_normal_(net[2].weight, generator=torch.Generator().manual_seed(0))
...     _ = net[2].bias.zero_()
>>> [(row.name, row.match) for row in audit(net).rows]   # doctest: +NORMALIZE_WHITESPACE
[('0.weight', 'torch_default (kaiming_uniform a=sqrt(5))'), ('0.bias', 'torch_default (kaiming_uniform a=sqrt(5))'),
 ('2.weight', 'he_normal'), ('2.bias', 'zeros')]
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import torch
from torch import nn

from initlab._checks import integer, seed as check_seed
from initlab._errors import ArgumentError, ArgumentTypeError
from initlab.audit_flags import FLAGS, STD_TOLERANCE
from initlab.init import Fans, fans
from initlab.torch.kinds import Entry, inventory
from initlab.torch.scheme_match import Candidate, Match, constant_match, match_values, rounded

SAMPLE_SIZE = 20_000
ORTHOGONAL_ROWS = 64
SALT = 0xA0D17  # mixed into the seed of the audit's own draws (see _generator)
STD_ERRORS = 3.0  # std_off: more than STD_TOLERANCE and 3 standard errors of the std estimate (a small bias is noisy)
WEIGHT_ROLES = ("weight", "recurrent_weight", "embedding")  # tensors whose units must differ


@dataclass(frozen=True)
class AuditRow:
    """One parameter tensor: see the module doc. `match` is the label shown (the spec and a note),
    `scheme` the bare spec (an initlab spec ``initlab.torch.apply`` takes) or None, `expected_std` the
    matched scheme's std."""

    name: str
    shape: tuple[int, ...]
    fan_in: float | None
    fan_out: float | None
    mean: float | None
    std: float | None
    match: str
    scheme: str | None
    p_value: float | None
    expected_std: float | None
    flags: tuple[str, ...]
    kind: str | None
    role: str
    tied_to: tuple[str, ...] = ()
    identical_to: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"name": self.name, "shape": list(self.shape), "fan_in": _plain(self.fan_in),
                "fan_out": _plain(self.fan_out), "mean": self.mean, "std": self.std, "match": self.match,
                "p_value": self.p_value, "flags": list(self.flags), "scheme": self.scheme,
                "expected_std": self.expected_std, "kind": self.kind, "role": self.role,
                "tied_to": list(self.tied_to), "identical_to": list(self.identical_to)}


@dataclass(frozen=True)
class Audit:
    """Every row of the audit, with the sample size and seed of its KS tests."""

    rows: tuple[AuditRow, ...]
    sample_size: int
    seed: int
    elements: int

    def flagged(self, flags=tuple(FLAGS)) -> list[AuditRow]:
        """The rows carrying any of `flags`."""
        wanted = set(flags)
        return [row for row in self.rows if wanted.intersection(row.flags)]

    @property
    def summary(self) -> dict:
        return {"parameters": len(self.rows), "elements": self.elements, "flagged": len(self.flagged()),
                "flags": {flag: sum(flag in row.flags for row in self.rows) for flag in FLAGS},
                "matches": dict(Counter(row.scheme or row.match for row in self.rows).most_common()),
                "sample_size": self.sample_size, "seed": self.seed}

    def to_json(self) -> dict:
        return {"parameters": [row.to_json() for row in self.rows], "summary": self.summary}


def audit(model: nn.Module, *, seed: int = 0, sample_size: int = SAMPLE_SIZE) -> Audit:
    """Audit every parameter tensor of `model` (see the module doc); the KS tests use `sample_size`
    entries per tensor drawn with a ``torch.Generator`` seeded from `seed`."""
    if not isinstance(model, nn.Module):
        raise ArgumentTypeError("model", f"expected a torch.nn.Module, got {type(model).__name__}")
    seed = check_seed("seed", seed)
    sample_size = integer("sample_size", sample_size, minimum=100)
    entries = inventory(model)
    if not entries:
        raise ArgumentError("model", f"{type(model).__name__} has no parameters: nothing to audit")
    for entry in entries:
        p = entry.parameter
        if p.is_meta or not p.is_floating_point():
            what = "is on the meta device (it has no values yet)" if p.is_meta else f"is {p.dtype}, not floating point"
            raise ArgumentError("model", f"parameter '{entry.name}' {what}")
    with torch.no_grad():
        measured = [_measure(entry, seed, sample_size) for entry in entries]
        twins = _identical(measured)
        rows = tuple(_row(m, twins.get(m.entry.name, ())) for m in measured)
    return Audit(rows, sample_size, seed, sum(entry.parameter.numel() for entry in entries))


@dataclass(frozen=True)
class _Measured:
    entry: Entry
    count: int           # finite entries
    finite: bool
    mean: float | None
    std: float | None
    constant: bool
    sample: torch.Tensor  # float64 sample of the finite entries
    match: Match


def _measure(entry: Entry, seed: int, sample_size: int) -> _Measured:
    tensor = entry.parameter.detach()
    flat = tensor.reshape(-1)
    flat = flat if flat.dtype in (torch.float32, torch.float64) else flat.float()
    low, high = flat.aminmax() if flat.numel() else (torch.tensor(0.0), torch.tensor(0.0))
    finite = bool(torch.isfinite(low) and torch.isfinite(high))  # NaN and inf reach the min or max
    values = flat if finite else flat[torch.isfinite(flat)]
    count = values.numel()
    if count == 0:
        nothing = Match(None, "no finite values" if flat.numel() else "no values")
        return _Measured(entry, 0, finite, None, None, False, values.double(), nothing)
    low, high = (float(low), float(high)) if finite else (float(values.min()), float(values.max()))
    std, mean = (float(v) for v in torch.std_mean(values, correction=0))
    if count > sample_size:  # distinct entries: a random subset of iid values is an iid sample, while a
        # draw with repeats tests the tensor's own histogram, and rejects the right scheme too often
        sample = values[torch.randint(count, (sample_size,), generator=_generator(seed)).unique()].double()
    else:
        sample = values.double()
    constant = low == high
    if constant:  # mean and std exactly: the float sum of n copies of c need not be n * c
        mean, std, match = low, 0.0, constant_match(low)
    else:
        match = _orthogonal(entry, tensor, seed) or match_values(
            sample.numpy(), entry.fan, _torch_fans(entry), count=count, mean=mean, std=std, low=low, high=high,
            shape=entry.shape, defaults=_layer_defaults(entry))
    return _Measured(entry, count, finite, mean, std, constant, sample, match)


def _layer_defaults(entry: Entry) -> tuple[Candidate, ...]:
    """A layer's own default init that no registry scheme names: torch's RNNs draw every weight and
    bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
    if entry.kind != "rnn":
        return ()
    limit = 1.0 / math.sqrt(entry.module.hidden_size)
    return (Candidate(f"uniform(limit={limit:.4g})", "uniform", 0.0, limit / math.sqrt(3.0),
                      "torch's RNN default, 1/sqrt(hidden_size)"),)


def _generator(seed: int) -> torch.Generator:
    """A generator for the audit's own draws, seeded from `seed` through numpy's SeedSequence: a
    ``torch.Generator`` seeded with `seed` itself would draw the sample's indices from the very stream
    that drew the values of a model initialised with that seed, and the sample would not be random."""
    import numpy as np
    state = np.random.SeedSequence([seed, SALT]).generate_state(1, np.uint64)[0]
    return torch.Generator().manual_seed(int(state >> np.uint64(1)))


def _torch_fans(entry: Entry) -> Fans | None:
    """The fans torch's own init functions compute for this tensor (a bias: for its module's weight),
    when the entry belongs to a layer: they differ from the block fans for MHA's packed q, k, v,
    transposed convolutions and Hugging Face's Conv1D."""
    if not entry.blocks:
        return None
    weight = entry.parameter if entry.role != "bias" else getattr(entry.module, "weight", None)
    if not isinstance(weight, torch.Tensor) or weight.dim() < 2:
        return None
    return fans(tuple(weight.shape), "torch")


def _orthogonal(entry: Entry, tensor: torch.Tensor, seed: int) -> Match | None:
    """``orthogonal(gain=g)`` (or ``identity``) when every block is g times a (semi-)orthogonal matrix."""
    blocks = [block.view(tensor) for block in entry.blocks] or [tensor]
    gains = [_orthogonal_gain(block, seed) for block in blocks if block.dim() >= 2]
    if not gains or any(g is None for g in gains) or max(gains) - min(gains) > 1e-3 * max(gains):
        return None
    gain, _ = rounded(sum(gains) / len(gains), 1e-3 * gains[0])
    rows, rest = blocks[0].shape[0], blocks[0][0].numel()
    std = gain / math.sqrt(max(rows, rest))
    suffix = "" if gain == 1.0 else f"(gain={gain:g})"
    if tensor.dim() == 2 and len(blocks) == 1 and torch.equal(tensor, gain * torch.eye(*tensor.shape, dtype=tensor.dtype)):
        return Match(f"identity{suffix}", f"identity{suffix}", None, std)
    return Match(f"orthogonal{suffix}", f"orthogonal{suffix}", None, std)


def _orthogonal_gain(block: torch.Tensor, seed: int) -> float | None:
    matrix = block.reshape(block.shape[0], -1)
    if min(matrix.shape) < 2:
        return None
    if matrix.shape[0] > matrix.shape[1]:
        matrix = matrix.T  # taller than wide: its columns are the orthonormal ones
    pair = matrix[:2].double()  # two rows first: a random matrix's are rarely orthogonal to 1e-3
    if abs(float(pair[0] @ pair[1])) > 1e-3 * float(pair.norm(dim=1).prod()):
        return None
    generator = _generator(seed)
    rows = matrix[torch.randperm(matrix.shape[0], generator=generator)[:ORTHOGONAL_ROWS]].double()
    gram = rows @ rows.T
    g2 = float(gram.diagonal().mean())
    if not g2 > 0 or float((gram - g2 * torch.eye(len(rows), dtype=gram.dtype)).abs().max()) > 1e-3 * g2:
        return None
    return math.sqrt(g2)


def _identical(measured: list[_Measured]) -> dict[str, tuple[str, ...]]:
    """{name: names of the other tensors with exactly its values}, among non-constant finite tensors.
    Candidates share shape, dtype and sample (the same seed draws the same indices), then torch.equal."""
    groups: dict[tuple, list[_Measured]] = {}
    for m in measured:
        if m.finite and not m.constant and m.count:
            p = m.entry.parameter
            groups.setdefault((tuple(p.shape), p.dtype, m.sample.numpy().tobytes()), []).append(m)
    twins: dict[str, list[str]] = {}
    for group in groups.values():
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                if torch.equal(a.entry.parameter, b.entry.parameter):
                    twins.setdefault(a.entry.name, []).append(b.entry.name)
                    twins.setdefault(b.entry.name, []).append(a.entry.name)
    return {name: tuple(others) for name, others in twins.items()}


def _std_off(m: _Measured) -> bool:
    expected = m.match.std
    if expected is None or not expected > 0 or m.std is None or m.constant:
        return False
    off = abs(m.std / expected - 1.0)
    return off > STD_TOLERANCE and off > STD_ERRORS / math.sqrt(2.0 * m.count)


def _row(m: _Measured, identical_to: tuple[str, ...]) -> AuditRow:
    entry = m.entry
    weight = entry.role in WEIGHT_ROLES and m.constant
    raised = {"zero": weight and m.mean == 0.0, "constant": weight and m.mean != 0.0, "tied": bool(entry.tied_to),
              "identical": bool(identical_to), "non_finite": not m.finite, "std_off": _std_off(m)}
    fan = entry.fan
    return AuditRow(entry.name, entry.shape, fan.fan_in if fan else None, fan.fan_out if fan else None,
                    m.mean, m.std, m.match.label, m.match.spec, m.match.p_value, m.match.std,
                    tuple(flag for flag in FLAGS if raised[flag]), entry.kind, entry.role, entry.tied_to,
                    identical_to)


def _plain(value: float | None):
    """A fan as JSON shows it: an int when whole (a transposed convolution's may not be)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value
