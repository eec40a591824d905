"""`initlab gradcheck`: backprop against central differences for every activation x output."""

from __future__ import annotations

from typing import Annotated

import typer

from initlab.cli.flags import names_flags
from initlab.cli.output import emit_json, err, new_table, show
from initlab.cli.params import JsonOption


@names_flags()
def gradcheck(seed: Annotated[int, typer.Option(help="Seed for the weights and data.")] = 0,
              tolerance: Annotated[float, typer.Option(help="Largest accepted relative error.")] = 1e-7,
              as_json: JsonOption = False) -> None:
    """Check backprop against finite differences for every activation x output combination."""
    from initlab._checks import integer, number
    from initlab.nn import ACTIVATIONS, HEADS
    from initlab.nn.gradcheck import check_all
    integer("seed", seed, minimum=0)
    number("tolerance", tolerance, positive=True)
    results = check_all(seed)
    worst = max(r.max_relative_error for r in results)
    passed = worst < tolerance
    if as_json:
        emit_json({"tolerance": tolerance, "passed": passed, "checks": [
            {"activation": r.activation, "output": r.output, "max_relative_error": r.max_relative_error}
            for r in results]})
    else:
        err.print("worst relative error, backprop vs central differences (float64)")
        table = new_table(("activation", *(f"{output} output" for output in HEADS)), left=("activation",))
        for act in ACTIVATIONS:
            table.add_row(act, *[f"{r.max_relative_error:.1e}" for r in results if r.activation == act])
        show(table)
        err.print(f"worst {worst:.1e} {'<' if passed else '>='} tolerance {tolerance:.0e}: "
                  f"{'PASS' if passed else 'FAIL'}")
    if not passed:
        raise typer.Exit(1)
