"""Which modules of models of several sizes are "the same", and the role each plays in the coordinate
check (embedding, hidden, attention logits, readout).

Names across depths: a model of depth 32 has ``blocks.31`` where one of depth 2 has ``blocks.1``. In a
container (``nn.Sequential``, ``nn.ModuleList``) whose length changes with the size, an index in the
second half is counted from the end (``blocks.31`` of 32 -> ``blocks.-1``), one in the first half from
the start; the check keeps the names found at every size (so the first and last blocks, and the
modules outside the varying containers). Widths change no name.

Roles, in this order:

- attention logits: the entries `initlab.torch.coordcheck_hooks` records as such;
- width check: from how the sizes of a module's first input and output change between the smallest
  and the largest width. Input fixed, output growing -> embedding (``nn.Embedding``, the input layer);
  input growing, output fixed -> readout; both growing -> hidden; both fixed -> readout when called
  after the first readout, else embedding;
- depth check (sizes do not change): an ``nn.Embedding`` or the first weight-bearing module called is an
  embedding, the last weight-bearing module called and every module called after it the readout, the
  rest hidden.

>>> aligned("blocks.3.fc1", {"blocks": 4})
'blocks.-1.fc1'
>>> aligned("blocks.1.fc1", {"blocks": 4}), aligned("blocks.0.mlp.2", {"blocks": 4})
('blocks.1.fc1', 'blocks.0.mlp.2')
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from initlab.torch.discover import WEIGHT_KINDS
from initlab.torch.kinds import kind_of


def containers(model: nn.Module) -> dict[str, int]:
    """{name: length} of the model's ``nn.Sequential`` and ``nn.ModuleList`` modules."""
    return {name: len(m) for name, m in model.named_modules() if isinstance(m, (nn.Sequential, nn.ModuleList))}


def varying(lengths: list[dict[str, int]]) -> set[str]:
    """The names of the containers whose length is not the same in every model (`lengths`: one `containers`
    per model)."""
    names = set().union(*lengths)
    return {name for name in names if len({run.get(name) for run in lengths}) > 1}


def aligned(name: str, lengths: dict[str, int]) -> str:
    """`name` with the indexes into the containers of `lengths` (name -> length; only the varying
    ones) in their second half counted from the end (module doc)."""
    parts = name.split(".") if name else []
    out = []
    for i, part in enumerate(parts):
        parent = ".".join(parts[:i])
        size = lengths.get(parent)
        if size is not None and part.isdigit() and int(part) >= size / 2:
            part = str(int(part) - size)
        out.append(part)
    return ".".join(out)


@dataclass
class Seen:
    """What one run showed of its model: `order` (name -> first-call rank), `inputs`/`outputs` (name ->
    numel of the first input/output tensor), `kinds` (name -> `initlab.torch.kinds.kind_of`),
    `attention` (names of logits entries)."""

    order: dict[str, int]
    inputs: dict[str, int]
    outputs: dict[str, int]
    kinds: dict[str, str | None]
    attention: set[str]


def kinds_of(model: nn.Module) -> dict[str, str | None]:
    return {name: kind_of(m) for name, m in model.named_modules()}


def width_roles(names: list[str], small: Seen, large: Seen) -> dict[str, str]:
    """Roles of `names` from the smallest and the largest model of a width check (module doc)."""
    roles, first_readout = {}, None
    for name in sorted(names, key=lambda n: large.order.get(n, 0)):
        grows_in = small.inputs.get(name, 0) != large.inputs.get(name, 0)
        grows_out = small.outputs.get(name) != large.outputs.get(name)
        if name in large.attention:
            role = "attention logits"
        elif large.kinds.get(name) == "embedding" or (grows_out and not grows_in):
            role = "embedding"
        elif grows_in and grows_out:
            role = "hidden"
        elif grows_in or (first_readout is not None and large.order.get(name, 0) > first_readout):
            role = "readout"
        else:
            role = "embedding"
        if role == "readout" and first_readout is None:
            first_readout = large.order.get(name, 0)
        roles[name] = role
    return roles


def depth_roles(names: list[str], seen: Seen, raw: dict[str, str]) -> dict[str, str]:
    """Roles of `names` in a depth check, from one model's run (`raw`: aligned name -> its name there)."""
    layers = sorted((seen.order[n], n) for n, kind in seen.kinds.items() if kind in WEIGHT_KINDS and n in seen.order)
    first = layers[0][1] if layers else None
    last_rank = layers[-1][0] if layers else None
    roles = {}
    for name in names:
        own = raw[name]
        rank = seen.order.get(own, -1)
        if name in seen.attention or own in seen.attention:
            roles[name] = "attention logits"
        elif seen.kinds.get(own) == "embedding" or own == first:
            roles[name] = "embedding"
        elif last_rank is not None and rank >= last_rank:
            roles[name] = "readout"
        else:
            roles[name] = "hidden"
    return roles
