"""Output std by depth of deep MLPs under lsuv, auto and torch's default init, as Markdown tables.

For each activation (relu, tanh, gelu), `--seeds` networks of `--depth` Linear(`--width`, `--width`)
layers, each followed by the activation, are initialised by each method and fed one fixed batch of
`--batch` N(0, 1) inputs (seed 1000; lsuv calibrates on a different batch, seed 1). The measurements
are `initlab.torch.measure.propagation`, the same the tests assert on:

- output std, min (layer) - max (layer): lsuv on one seed (seed 0); auto and torch default: the
  geometric mean over seeds of each layer's std over the whole batch; and the layers outside 1 +- 0.1;
- variance at the last layer: the mean over seeds of the layer's output variance +- its standard error
  (what centre="mean" keeps at 1 in expectation);
- spread: the seed-to-seed std of log(one input's output std), averaged over inputs, at the last layer,
  and for auto the finite-width prediction (`AutoResult.predicted_spread`, Hanin & Rolnick 2018,
  generalised) and the ratio measured / predicted over the layers where the prediction is <= 0.5 (its
  first-order regime);
- init time: mean wall time of one call that initialises one network (`--threads` torch threads).

`--per-layer` adds one table per auto row with these numbers at every layer; the geometric mean comes
with its 2-standard-error range over seeds (seed-to-seed sd of log std / sqrt(seeds)), which at deep
layers is +-15% for 20 seeds.

Run: .venv/bin/python examples/torch_init_table.py --seeds 20 --depth 30 --width 256 --batch 512 [--per-layer]
"""

from __future__ import annotations

import argparse
import math

import torch

from initlab.torch.measure import ACTIVATIONS, Propagation, propagation

FIRST_ORDER = 0.5  # predicted spread up to which the first-order (in 1/n) theory is compared


def rows(activation: str) -> list[tuple[str, str, dict]]:
    """(label, method, options) of the table's rows for one activation."""
    out = [("lsuv (one seed)", "lsuv", {}), ("auto (geo. mean over seeds)", "auto", {}),
           ('auto, centre="median"', "auto", {"centre": "median"})]
    if activation == "gelu":
        out.append(("auto, stabilize=False", "auto", {"stabilize": False}))
    return out + [("torch default (geo. mean)", "torch_default", {})]


def number(x: float) -> str:
    """Three significant digits, trailing zeros kept (1.00, 0.891, 14.6, 297); scientific outside [1e-3, 1e3)."""
    return f"{x:#.3g}".rstrip(".") if 1e-3 <= abs(x) < 1e3 else f"{x:.2e}"


def ranges(layers: list[int]) -> str:
    """[3, 4, 5, 9] -> '3-5, 9'; [] -> 'none'."""
    if not layers:
        return "none"
    parts, start = [], layers[0]
    for previous, current in zip(layers, layers[1:] + [None]):
        if current != previous + 1:
            parts.append(f"{start}" if start == previous else f"{start}-{previous}")
            start = current
    return ", ".join(parts)


def ratios(r: Propagation) -> torch.Tensor | None:
    if r.predicted is None:
        return None
    predicted = torch.tensor(r.predicted, dtype=r.spread.dtype)
    first_order = predicted <= FIRST_ORDER
    return (r.spread / predicted)[first_order] if first_order.any() else None


def summary(activation: str, label: str, r: Propagation, stds: torch.Tensor) -> str:
    low, high = stds.argmin().item(), stds.argmax().item()
    outside = ranges([i + 1 for i, s in enumerate(stds.tolist()) if abs(s - 1) > 0.1])
    predicted = "-" if r.predicted is None or not math.isfinite(r.predicted[-1]) else f"{r.predicted[-1]:.3f}"
    ratio = ratios(r)
    ratio = "-" if ratio is None else f"{ratio.min():.2f} - {ratio.max():.2f}"
    return (f"| {activation} | {label} | {number(stds[low].item())} ({low + 1}) - {number(stds[high].item())} "
            f"({high + 1}) | {outside} | {number(r.variance_mean[-1].item())} ± {number(r.variance_se[-1].item())} "
            f"| {r.spread[-1].item():.3f} / {predicted} | {ratio} | {1000 * r.seconds:.1f} ms |")


def per_layer(activation: str, label: str, r: Propagation) -> list[str]:
    lines = [f"\n{activation}, {label}:\n",
             "| layer | geometric mean of std [2-SE range] | variance: mean ± SE "
             "| spread: measured / predicted (ratio) |",
             "|---|---|---|---|"]
    for i in range(len(r.geometric_mean)):
        g, se = r.geometric_mean[i].item(), r.log_se[i].item()
        spread = f"{r.spread[i].item():.3f}"
        if r.predicted is not None:
            spread += f" / {r.predicted[i]:.3f} ({r.spread[i].item() / r.predicted[i]:.2f})"
        lines.append(f"| {i + 1} | {g:.3f} [{g * math.exp(-2 * se):.3f}, {g * math.exp(2 * se):.3f}] "
                     f"| {r.variance_mean[i].item():.3f} ± {r.variance_se[i].item():.3f} | {spread} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--depth", type=int, default=30)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: timings not disturbed by other work)")
    parser.add_argument("--per-layer", action="store_true", help="also print every layer of every auto row")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    shape = dict(seeds=range(args.seeds), depth=args.depth, width=args.width, batch=args.batch)
    print(f"{args.depth} x Linear({args.width}, {args.width}) + activation; {args.seeds} seeds; "
          f"batch {args.batch} of N(0, 1) inputs; {args.threads} torch thread(s)\n")
    print("| activation | method | output std: min (layer) - max (layer) | layers outside 1 ± 0.1 "
          f"| variance at layer {args.depth}: mean ± SE | spread at layer {args.depth}: measured / predicted "
          f"| spread measured / predicted, layers with predicted <= {FIRST_ORDER} | init time per network |")
    print("|---|---|---|---|---|---|---|---|")
    details = []
    for activation in ACTIVATIONS:
        for label, method, options in rows(activation):
            r = propagation(activation, method, **shape, **options)
            print(summary(activation, label, r, r.first_seed if method == "lsuv" else r.geometric_mean), flush=True)
            if method == "auto":
                details += per_layer(activation, label, r)
    if args.per_layer:
        print("\n".join(details))


if __name__ == "__main__":
    main()
