"""What `initlab.torch.initialise` did: one row per parameter tensor, initialised or left alone (with why).

A row of an initialised tensor names the argument whose spec filled it (``scheme``, ``bias``,
``recurrent``, ``embedding``, ``norm``), the spec, and per block (MHA q/k/v, RNN gates, the whole
weight of a Linear) its shape, fans and the mean and std the spec's formula gives for it; a row of
a tensor left alone says why (a class token, a LayerScale gamma, a module initlab has no rule for,
``embedding="keep"``, a tied tensor under ``tied="skip"``). `to_json()` is one JSON-ready dict;
``str(result)`` is a plain-text table.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from torch import nn

from initlab.numbers_text import significant


@dataclass(frozen=True)
class BlockRow:
    """One block as filled: its label, its shape in torch layout (out, in, *kernel), its fans (None
    for a norm parameter), the mean and std of the spec's formula on it (None where it has none), and
    the spec and argument that filled it."""

    label: str
    shape: tuple[int, ...]
    fan_in: float | None
    fan_out: float | None
    mean: float | None
    std: float | None
    spec: str = ""          # the spec that filled this block
    argument: str = ""      # and the argument it came from (scheme, bias, ..., overrides)


@dataclass(frozen=True)
class ParameterRow:
    """One parameter tensor: its first name, shape, owning module, kind and role (`initlab.torch.kinds`);
    `spec` and `argument` when it was initialised (None when left alone; ``"i, g, o: zeros; f: ones"`` when
    its blocks differ), the `blocks` filled, `note` (why it was left alone, or a remark on what was done:
    override pattern, tied, padding row) and the other names it is tied to."""

    name: str
    shape: tuple[int, ...]
    module: str
    kind: str | None
    role: str
    spec: str | None = None
    argument: str | None = None
    blocks: tuple[BlockRow, ...] = ()
    note: str = ""
    tied_to: tuple[str, ...] = ()

    @property
    def done(self) -> bool:
        return self.spec is not None


def _fans_text(blocks: tuple[BlockRow, ...]) -> str:
    """Blocks grouped by fans: ``"q, k, v (32, 32)"``; ``"weight (27, 144)"``."""
    groups: dict[tuple, list[str]] = {}
    for block in blocks:
        groups.setdefault((block.fan_in, block.fan_out), []).append(block.label)
    return "; ".join(", ".join(labels) + ("" if fan == (None, None) else
                                          f" ({significant(fan[0])}, {significant(fan[1])})")
                     for fan, labels in groups.items())


def _std_text(blocks: tuple[BlockRow, ...]) -> str:
    """The formula's std of the blocks (one value when they agree)."""
    values = list(dict.fromkeys(significant(b.std, 3) for b in blocks))
    return ", ".join(values)


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]
    return ["  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in (header, *rows)]


def _shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) or "scalar"


@dataclass(frozen=True)
class ApplyResult:
    """Every parameter tensor of `model` once, in ``named_parameters()`` order, with what was done.

    `settings` holds the arguments of the call (scheme, bias, recurrent, embedding, norm, tied)."""

    rows: tuple[ParameterRow, ...]
    settings: dict
    model: nn.Module = field(repr=False, compare=False)

    @property
    def initialised(self) -> tuple[ParameterRow, ...]:
        return tuple(row for row in self.rows if row.done)

    @property
    def left_alone(self) -> tuple[ParameterRow, ...]:
        return tuple(row for row in self.rows if not row.done)

    def row(self, name: str) -> ParameterRow:
        """The row of parameter `name` (its first name, or any name it is tied to)."""
        for row in self.rows:
            if name == row.name or name in row.tied_to:
                return row
        raise KeyError(name)

    def to_json(self) -> dict:
        values = sum(math.prod(row.shape) for row in self.initialised)
        return {"settings": dict(self.settings), "parameters": [asdict(row) for row in self.rows],
                "summary": {"parameters": len(self.rows), "initialised": len(self.initialised),
                            "left_alone": len(self.left_alone), "values_initialised": values,
                            "values": sum(math.prod(row.shape) for row in self.rows)}}

    def __str__(self) -> str:
        settings = ", ".join(f"{key}={value!r}" for key, value in self.settings.items() if value not in (None, {}))
        done, alone = self.initialised, self.left_alone
        lines = [f"initialised {len(done)} of {len(self.rows)} parameter tensors ({settings})"]
        if done:
            lines += _table(("parameter", "shape", "kind", "by", "spec", "blocks (fan_in, fan_out)", "std", "note"),
                            [(r.name, _shape_text(r.shape), r.kind or "-", r.argument or "-", r.spec or "-",
                              _fans_text(r.blocks), _std_text(r.blocks), r.note) for r in done])
        lines.append(f"left alone: {len(alone)}")
        if alone:
            lines += _table(("parameter", "shape", "kind", "why"),
                            [(r.name, _shape_text(r.shape), r.kind or "-", r.note) for r in alone])
        return "\n".join(lines)

