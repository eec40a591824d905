"""`initlab audit`: how each parameter tensor of a PyTorch model was initialised (the logic is in
initlab.torch.audit; the flags in initlab.audit_flags)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from initlab._checks import seed as check_seed
from initlab.audit_flags import FLAGS, parse_flags
from initlab.cli.flags import names_flags
from initlab.cli.output import emit_json, err, show
from initlab.cli.params import JsonOption, ModelFactory
from initlab.numbers_text import MISSING, significant

FailOn = Annotated[Optional[str], typer.Option(metavar="FLAG[,FLAG]", help=(
    f"Exit with code 1 when any parameter carries one of these flags (for CI): {', '.join(FLAGS)}."))]
OPTIONAL_COLUMNS = ("mean", "fans in/out", "p")


@names_flags(torch="--torch", model="--torch")
def audit(torch_factory: ModelFactory, fail_on: FailOn = None,
          seed: Annotated[int, typer.Option(help=(
              "Seed of the factory's torch RNG (as 'initlab diagnose --seed') and of the entries the KS "
              "tests sample."))] = 0,
          as_json: JsonOption = False) -> None:
    """Audit a PyTorch model's initialisation: per parameter tensor its shape, fans, mean, std, the named
    scheme its values match (KS test against the registry) with the p-value, and flags (zero, constant,
    tied, identical, non_finite, std_off)."""
    failing = parse_flags(fail_on) if fail_on is not None else ()
    check_seed("seed", seed)  # before Seeds.spawn, whose own error names no option
    from initlab.diagnose.sources import Seeds, load_factory
    model = load_factory(torch_factory, Seeds.spawn(seed).factory)
    from initlab.torch.audit import audit as run_audit
    result = run_audit(model, seed=seed)
    show(_table(result, torch_factory), optional=OPTIONAL_COLUMNS)
    for line in _shared_lines(result) + _summary_lines(result):
        err.print(line, soft_wrap=True, highlight=False)
    if as_json:
        emit_json(result.to_json())
    flagged = result.flagged(failing)
    if flagged:
        names = ", ".join(row.name for row in flagged)
        err.print(f"--fail-on {','.join(failing)}: {len(flagged)} flagged: {names}", soft_wrap=True, highlight=False)
        raise typer.Exit(1)


def _table(result, factory: str):
    from rich.markup import escape

    from initlab.cli.output import new_table
    table = new_table(("parameter", "shape", "fans in/out", "mean", "std", "match", "p", "flags"),
                      title=f"initlab audit: {escape(factory)}", left=("parameter", "shape", "match", "flags"),
                      wrap=("match", "flags"))
    for row in result.rows:
        table.add_row(escape(row.name), "x".join(map(str, row.shape)) or "scalar", _fans(row),
                      significant(row.mean, 2), significant(row.std), escape(row.match),
                      significant(row.p_value, 2), " ".join(row.flags),
                      style="bold" if row.flags else None)
    return table


def _fans(row) -> str:
    return MISSING if row.fan_in is None else f"{row.fan_in:g}/{row.fan_out:g}"


def _shared_lines(result) -> list[str]:
    """One line per group of tied names and per group of tensors with identical values."""
    lines, seen = [], set()
    for row in result.rows:
        if row.tied_to:
            lines.append(f"tied: {' = '.join((row.name, *row.tied_to))} (one tensor)")
        group = tuple(name for name in (r.name for r in result.rows) if name == row.name or name in row.identical_to)
        if row.identical_to and group not in seen:
            seen.add(group)
            lines.append(f"identical: {' = '.join(group)}")
    return lines


def _summary_lines(result) -> list[str]:
    summary = result.summary
    raised = [f"{flag} {count}" for flag, count in summary["flags"].items() if count]
    return [f"{summary['parameters']} parameter tensors, {summary['elements']:,} values; "
            f"flagged: {', '.join(raised) if raised else 'none'}",
            f"match: KS test (p) on up to {summary['sample_size']:,} entries per tensor (seed {summary['seed']}); "
            "no p for exact checks (constants, orthogonal)"]
