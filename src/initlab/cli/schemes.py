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
           dtype: Annotated[str, typer.Option(help="float16, bfloat16, float32 or float64.")] = "float64",
           layout: Annotated[str, typer.Option(help=f"Shape layout for fans: {', '.join(LAYOUTS)}.")] = "numpy",
           exact: Annotated[bool, typer.Option(
               "--exact", help="Draw float64 and round to --dtype (else float32 and below are drawn in float32).")] = False,
           max_memory: MaxMemory = None, as_json: JsonOption = False) -> None:
    """Draw one tensor and compare its statistics with what the scheme's formula expects.

    The spec's own in_axis/out_axis/batch_axis, if given, name the fans instead of --layout."""
    from initlab._checks import seed as check_seed
    from initlab.init import initializer
    from initlab.options import parse_int_list
    dims = parse_int_list(shape, "shape")
    check_seed("seed", seed)
    init = initializer(spec, layout=layout)
    drawn = init(dims, seed, dtype, max_memory=max_memory, exact=exact)
    values = drawn.astype("float64")  # statistics in float64 (NumPy has no float16/bfloat16 reductions to trust)
    mean, std = init.moments(dims)
    fans = init.fans(dims) if init.axes is not None else None
    stats = {"spec": str(init), "shape": list(dims), "seed": seed, "layout": layout,
             "dtype": drawn.dtype.name, "exact": exact, "n": int(values.size),
             "fan_in": None if fans is None else fans.fan_in, "fan_out": None if fans is None else fans.fan_out,
             "mean": float(values.mean()), "std": float(values.std()), "min": float(values.min()),
             "max": float(values.max()), "expected_mean": mean, "expected_std": std}
    if as_json:
        emit_json(stats)
        return
    axes = "" if fans is None else f"  fans {fans.fan_in:g}, {fans.fan_out:g} (axes)"
    err.print(escape(f"{stats['spec']}  shape {tuple(dims)}  seed {seed}  {stats['dtype']}{axes}"), soft_wrap=True)
    table = new_table(("", "sample", "formula"))
    table.add_row("mean", significant(stats["mean"], 6), significant(mean, 6))
    table.add_row("std", significant(stats["std"], 6), significant(std, 6))
    table.add_row("min", significant(stats["min"], 6), "")
    table.add_row("max", significant(stats["max"], 6), "")
    show(table)
