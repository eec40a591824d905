"""`initlab schemes` and `initlab sample`: the registry, and one drawn tensor against its formula."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from initlab.cli.flags import names_flags
from initlab.cli.output import emit_json, err, new_table, show
from initlab.cli.params import JsonOption, MaxMemory
from initlab.init.fans import LAYOUTS
from initlab.numbers_text import significant


@names_flags()
def schemes(as_json: JsonOption = False) -> None:
    """List every initialization scheme: name, aliases, formula, distribution, source."""
    from initlab.init import SCHEMES
    rows = [{"name": s.name, "aliases": list(s.aliases), "parameters": [p.name for p in s.parameters],
             "formula": s.formula, "distribution": s.distribution, "source": s.source} for s in SCHEMES.values()]
    if as_json:
        emit_json({"schemes": rows})
        return
    table = new_table(("name", "aliases", "parameters", "formula", "distribution", "source"),
                      title="initlab schemes (spec: name or name(key=value, ...))",
                      left=("name", "aliases", "parameters", "formula", "distribution", "source"),
                      wrap=("aliases", "parameters", "formula", "distribution", "source"))
    for row in rows:
        table.add_row(*(escape(cell) for cell in (  # formulas contain [a, b], which Rich reads as markup
            row["name"], ", ".join(row["aliases"]), ", ".join(row["parameters"]), row["formula"],
            row["distribution"], row["source"])))
    show(table, optional=("aliases", "parameters", "source"))


@names_flags(init="SPEC", spec="SPEC")  # the scheme is the positional SPEC here
def sample(spec: Annotated[str, typer.Argument(help="Scheme spec, e.g. he_normal or 'normal(std=0.01)'.")],
           shape: Annotated[str, typer.Option(help="Tensor shape, comma-separated.")] = "400,25",
           seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
           dtype: Annotated[str, typer.Option(help="float32 or float64.")] = "float64",
           layout: Annotated[str, typer.Option(help=f"Shape layout for fans: {', '.join(LAYOUTS)}.")] = "numpy",
           max_memory: MaxMemory = None, as_json: JsonOption = False) -> None:
    """Draw one tensor and compare its statistics with what the scheme's formula expects."""
    from initlab._checks import seed as check_seed
    from initlab.init import initializer
    from initlab.options import parse_int_list
    dims = parse_int_list(shape, "shape")
    check_seed("seed", seed)
    init = initializer(spec, layout=layout)
    values = init(dims, seed, dtype, max_memory=max_memory)
    mean, std = init.moments(dims)
    stats = {"spec": str(init), "shape": list(dims), "seed": seed, "layout": layout,
             "dtype": values.dtype.name, "n": int(values.size),
             "mean": float(values.mean()), "std": float(values.std()), "min": float(values.min()),
             "max": float(values.max()), "expected_mean": mean, "expected_std": std}
    if as_json:
        emit_json(stats)
        return
    err.print(escape(f"{stats['spec']}  shape {tuple(dims)}  seed {seed}  {stats['dtype']}"), soft_wrap=True)
    table = new_table(("", "sample", "formula"))
    table.add_row("mean", significant(stats["mean"], 6), significant(mean, 6))
    table.add_row("std", significant(stats["std"], 6), significant(std, 6))
    table.add_row("min", significant(stats["min"], 6), "")
    table.add_row("max", significant(stats["max"], 6), "")
    show(table)
