"""Which spec fills which block of a parameter, for `initlab.torch.initialise` (its module doc gives the rules).

`plan(entry, rules)` turns one `initlab.torch.kinds.Entry` into a `Plan`: the blocks to draw, each with
its initializer and the argument (``scheme``, ``bias``, ``recurrent``, ``embedding``, ``norm`` or
``overrides``) it came from, and a note saying why the rest is left alone. Nothing here draws or writes.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from torch import nn

from initlab._errors import ArgumentError, ArgumentTypeError, unknown_choice
from initlab.init import fans, initializer
from initlab.init.initializer import Initializer
from initlab.torch.kinds import Block, Entry, role_under

TIED_POLICIES = ("skip", "owner", "error")
KEEP = "keep"
ROLE_ARGUMENT = {"weight": "scheme", "bias": "bias", "recurrent_weight": "recurrent", "recurrent_bias": "bias",
                 "embedding": "embedding", "norm_weight": "norm", "norm_bias": "norm"}
KEPT = {"scheme": "weights", "bias": "biases", "recurrent": "recurrent weights", "embedding": "embedding tables",
        "norm": "norm layers"}
ZEROS = initializer("zeros", layout="torch")


@dataclass(frozen=True)
class Fill:
    """One block to draw: its initializer, the argument it came from and, for an override, the pattern."""

    block: Block
    init: Initializer
    argument: str
    pattern: str | None = None


@dataclass(frozen=True)
class Plan:
    """What happens to one parameter: the blocks to draw (none: left alone) and a note (why, or a remark)."""

    entry: Entry
    fills: tuple[Fill, ...] = ()
    note: str = ""
    tied_skipped: bool = False  # left alone under tied="skip" although a rule would have written it: warn


@dataclass(frozen=True)
class Override:
    """``"NAME_GLOB"`` or ``"NAME_GLOB:BLOCK_GLOB"`` (block labels: q, k, v; i, f, g, o; r, z, n; weight, ...)."""

    pattern: str
    init: Initializer

    @property
    def names(self) -> str:
        return self.pattern.rpartition(":")[0] if ":" in self.pattern else self.pattern

    @property
    def labels(self) -> str | None:
        return self.pattern.rpartition(":")[2] if ":" in self.pattern else None

    def matches(self, names: tuple[str, ...], block: Block) -> bool:
        return (any(fnmatch.fnmatchcase(name, self.names) for name in names)
                and (self.labels is None or fnmatch.fnmatchcase(block.label, self.labels)))


@dataclass(frozen=True)
class Rules:
    """Every argument of a call, resolved: {argument: initializer or None for "keep"} (no "recurrent" key when
    recurrent weights follow `scheme`), the tied policy, the overrides, and the model's modules by name."""

    specs: dict
    tied: str
    overrides: tuple[Override, ...]
    model: nn.Module
    modules: dict


def resolve(model: nn.Module, scheme, bias, recurrent, embedding, norm, tied, overrides) -> Rules:
    """Validate every argument (each error names its argument) into `Rules`."""
    if tied not in TIED_POLICIES:
        raise unknown_choice("tied", "tied policy", str(tied), TIED_POLICIES)
    given = {"scheme": scheme, "bias": bias, "recurrent": recurrent, "embedding": embedding, "norm": norm}
    specs = {}
    for argument, spec in given.items():
        if argument == "recurrent" and spec is None:
            continue
        if spec == KEEP:
            specs[argument] = None
            continue
        try:
            specs[argument] = initializer(spec, layout="torch", argument=argument)
        except ArgumentError as error:
            if argument in ("embedding", "norm"):
                raise type(error)(argument, f"{error.detail} (or 'keep' to leave them as they are)") from None
            raise
    return Rules(specs, tied, _overrides(overrides), model, dict(model.named_modules(remove_duplicate=False)))


def _overrides(overrides) -> tuple[Override, ...]:
    if overrides is None:
        return ()
    if not isinstance(overrides, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                   for k, v in overrides.items()):
        raise ArgumentTypeError("overrides", f"expected a dict of glob pattern -> spec string, got {overrides!r}")
    out = []
    for pattern, spec in overrides.items():
        try:
            out.append(Override(pattern, initializer(spec, layout="torch", argument="overrides")))
        except ArgumentError as error:
            raise type(error)("overrides", f"{pattern!r}: {error.detail}") from None
    return tuple(out)


def _argument(role: str, specs: dict) -> str | None:
    """The argument whose spec fills a parameter of `role` (None: no rule)."""
    argument = ROLE_ARGUMENT.get(role)
    return "scheme" if argument == "recurrent" and argument not in specs else argument


def _other_owners(entry: Entry, rules: Rules) -> tuple[str, ...]:
    """Names of `entry`'s tensor held by a module other than its owner (a module used twice is not tied)."""
    return tuple(name for name in entry.tied_to if rules.modules.get(name.rpartition(".")[0]) is not entry.module)


def _would_write(entry: Entry, rules: Rules) -> bool:
    """Whether the rule of any module holding `entry`'s tensor would write it (else a tied skip needs no warning)."""
    roles = [entry.role] + [role_under(name, rules.model, rules.modules) for name in entry.tied_to]
    return any((argument := _argument(role, rules.specs)) and rules.specs[argument] is not None for role in roles)


def _block(entry: Entry, block: Block, init: Initializer) -> Block:
    """torch_default on a transposed convolution follows torch's own reset: the fans of the stored layout."""
    if entry.kind == "conv_transpose" and init.spec.name == "torch_default":
        return Block(block.label, fan=fans(tuple(entry.module.weight.shape), "torch"))
    return block


def _remark(entry: Entry, fills: tuple[Fill, ...]) -> str:
    remarks = []
    if entry.kind == "conv_transpose" and any(f.init.spec.name == "torch_default" for f in fills):
        remarks.append("torch's own reset: fans of the stored (in, out/groups, *kernel) layout")
    if padding_row(entry) is not None and fills:
        remarks.append(f"padding row {padding_row(entry)} set to 0 (as torch)")
    return "; ".join(remarks)


def padding_row(entry: Entry) -> int | None:
    """The row of an embedding table torch keeps at 0 (``padding_idx``), or None."""
    return getattr(entry.module, "padding_idx", None) if entry.role == "embedding" else None


def _by_rule(entry: Entry, rules: Rules) -> Plan:
    """The plan the arguments give a parameter (overrides aside)."""
    if entry.kind is None:
        return Plan(entry, note=entry.reason)
    others = _other_owners(entry, rules)
    owner = f"owner '{entry.module_name}', {entry.kind}"
    if others and rules.tied == "error":
        raise ArgumentError("tied", f"'{entry.name}' is the same tensor as {', '.join(others)} ({owner}); pass "
                            "tied='skip' to leave it or tied='owner' to initialise it once by its owner's rule")
    if others and rules.tied == "skip":
        return Plan(entry, note=f"tied to {', '.join(others)} ({owner}): left alone (tied='skip')",
                    tied_skipped=_would_write(entry, rules))
    argument = _argument(entry.role, rules.specs)
    init = rules.specs[argument]
    note = f"{argument}='keep': {KEPT[argument]} keep the model's own init" if init is None else ""
    if others:
        note = "; ".join(filter(None, (note, f"tied to {', '.join(others)}: by its {owner} rule, once")))
    if init is None:
        return Plan(entry, note=note)
    init = ZEROS if entry.role == "norm_bias" else init
    return Plan(entry, tuple(Fill(_block(entry, b, init), init, argument) for b in entry.blocks), note)


def plan(entry: Entry, rules: Rules) -> Plan:
    """The plan of one parameter: the rule of its argument, with every block an override names replaced (a
    parameter overridden whole needs no rule, nor a tied policy)."""
    names, blocks = (entry.name, *entry.tied_to), entry.blocks or (Block("tensor"),)
    chosen = {}
    for block in blocks:
        override = next((o for o in rules.overrides if o.matches(names, block)), None)
        if override is not None:
            chosen[block.label] = Fill(_block(entry, block, override.init), override.init, "overrides", override.pattern)
    whole = len(chosen) == len(blocks)
    base = Plan(entry) if whole else _by_rule(entry, rules)
    if not chosen:
        return Plan(entry, base.fills, "; ".join(filter(None, (base.note, _remark(entry, base.fills)))),
                    base.tied_skipped)
    ruled = {fill.block.label: fill for fill in base.fills}
    fills = tuple(chosen.get(b.label) or ruled[b.label] for b in blocks if b.label in chosen or b.label in ruled)
    others = _other_owners(entry, rules)
    notes = [f"pattern {p!r}" for p in dict.fromkeys(f.pattern for f in chosen.values())]
    if base.note:
        notes.append(f"other blocks: {base.note}")
    if others:
        notes.append(f"tied to {', '.join(others)}: filled once")
    return Plan(entry, fills, "; ".join(filter(None, (*notes, _remark(entry, fills)))), base.tied_skipped)
