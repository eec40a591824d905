"""`initlab theory` and `initlab theory phase`: mean-field numbers and the phase diagram."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from initlab.activations import names as activation_names
from initlab.cli.flags import names_flags
from initlab.cli.output import emit_json, err, new_table, show
from initlab.cli.params import JsonOption, sub_app
from initlab.numbers_text import significant

theory_app = sub_app(
    "Mean-field signal propagation of a deep dense network at initialization (Poole et al. 2016, "
    "Schoenholz et al. 2017). Without a subcommand: q*, chi_1, xi_c, the critical sigma_w^2 and the phase.")
TheoryActivation = Annotated[str, typer.Option(help=f"One of {', '.join(activation_names('forward'))}.")]
Slope = Annotated[float, typer.Option(help="leaky_relu's negative slope.")]


@theory_app.callback(invoke_without_command=True)
@names_flags()
def theory(ctx: typer.Context, activation: TheoryActivation = "tanh",
           sigma_b2: Annotated[float, typer.Option(help="Bias variance sigma_b^2.")] = 0.05,
           sigma_w2: Annotated[Optional[float], typer.Option(
               help="Weight variance times fan_in, sigma_w^2. [default: the critical one]")] = None,
           slope: Slope = 0.01, as_json: JsonOption = False) -> None:
    """q*, chi_1, xi_c, the critical sigma_w^2 and the phase for one (activation, sigma_w^2, sigma_b^2)."""
    if ctx.invoked_subcommand is not None:
        return
    from initlab.theory import theory as compute
    numbers = compute(activation, sigma_b2, sigma_w2, slope).to_json()
    if as_json:
        emit_json(numbers)
        return
    err.print(f"{activation}: sigma_w^2 = {numbers['sigma_w2']:.6g}, sigma_b^2 = {sigma_b2:g}")
    table = new_table(("quantity", "value"), left=("quantity",))
    for key in ("q_star", "chi_1", "c_star", "xi_c", "trainable_depth", "critical_sigma_w2", "phase"):
        value = numbers[key]
        infinite = numbers["phase"] == "critical" and key in ("xi_c", "trainable_depth")
        table.add_row(key, value if isinstance(value, str) else "inf" if infinite else significant(value, 6))
    show(table)


@theory_app.command("phase")
@names_flags()
def theory_phase(activation: TheoryActivation = "tanh", slope: Slope = 0.01,
                 out: Annotated[Path, typer.Option(metavar="FILE", help=(
                     "PNG file to write; its folder is created with its parents if missing."))] = Path(
                     "runs/phase.png"),
                 sigma_w2_max: Annotated[Optional[float], typer.Option(
                     help="Right edge. [default: 2.5 x the critical sigma_w^2 at sigma_b^2 = 0]")] = None,
                 sigma_b2_max: Annotated[float, typer.Option(help="Top edge.")] = 0.3,
                 resolution: Annotated[int, typer.Option(help="Grid points per axis (at most 201).")] = 41,
                 fan_in: Annotated[int, typer.Option(help=(
                     "Layer fan_in that places randn * 10 (sigma_w^2 = 100 x fan_in) on the chart."))] = 100) -> None:
    """Draw the (sigma_w^2, sigma_b^2) plane: trainable depth 6 xi_c, the critical line, and where
    Xavier, He and randn * 10 sit."""
    from initlab.theory.phase import phase_figure
    path = phase_figure(activation, out, sigma_w2_max=sigma_w2_max, sigma_b2_max=sigma_b2_max,
                        resolution=resolution, slope=slope, fan_in=fan_in)
    err.print(f"wrote {escape(str(path))}", soft_wrap=True)
