"""Output std by depth of deep MLPs under lsuv, auto and torch's default init, as a Markdown table.

For each activation (relu, tanh, gelu), `--seeds` networks of `--depth` Linear(`--width`, `--width`)
layers, each followed by the activation, are initialised by each method and fed one fixed batch of
`--batch` N(0, 1) inputs (seed 1000; lsuv calibrates on a different batch, seed 1):

- output std, min-max over layers: lsuv on one seed (seed 0); auto and torch default: the geometric
  mean over seeds of each layer's std over the whole batch;
- spread at the last layer: the seed-to-seed std of log(one input's output std), averaged over inputs,
  and for auto the finite-width prediction (`initlab.torch.predicted_log_std_spread`, Hanin & Rolnick 2018);
- init time: mean wall time of one call that initialises one network (`--threads` torch threads).

Run: .venv/bin/python examples/torch_init_table.py --seeds 20 --depth 30 --width 256 --batch 512
"""

from __future__ import annotations

import argparse
import math
import time

import torch
from torch import nn

from initlab.torch import apply, auto, lsuv

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}


def mlp(activation: str, depth: int, width: int) -> nn.Sequential:
    return nn.Sequential(*[m for _ in range(depth) for m in (nn.Linear(width, width), ACTIVATIONS[activation]())])


def gaussian(shape, seed: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def outputs(net: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(std of every Linear's output over the batch, shape (depth,); std of each input's output vector at
    every Linear, shape (depth, batch))."""
    seen: list[torch.Tensor] = []
    handles = [m.register_forward_hook(lambda m, i, o: seen.append(o.detach().double()))
               for m in net if isinstance(m, nn.Linear)]
    with torch.no_grad():
        net(x)
    for h in handles:
        h.remove()
    return torch.stack([h.std() for h in seen]), torch.stack([h.std(dim=1) for h in seen])


def measure(activation: str, method: str, args) -> dict:
    x = gaussian((args.batch, args.width), seed=1000)
    calibration = gaussian((args.batch, args.width), seed=1)
    batch_logs, per_input_logs, seconds, predicted = [], [], 0.0, None
    for seed in range(args.seeds):
        net = mlp(activation, args.depth, args.width)
        start = time.perf_counter()
        if method == "lsuv":
            lsuv(net, calibration, seed=seed)
        elif method == "auto":
            predicted = auto(net, (args.width,), seed=seed).predicted_spread()[-1]
        else:
            apply(net, "torch_default", bias="torch_default", seed=seed)
        seconds += time.perf_counter() - start
        stds, per_input = outputs(net, x)
        batch_logs.append(stds.log())
        per_input_logs.append(per_input.log())
    logs = torch.stack(batch_logs)
    stds = logs[0].exp() if method == "lsuv" else logs.mean(0).exp()
    spread = torch.stack(per_input_logs)[:, -1].std(0).mean().item()
    return {"stds": stds, "spread": spread, "predicted": predicted, "ms": 1000 * seconds / args.seeds}


def number(x: float) -> str:
    return f"{x:.3g}" if 1e-3 <= abs(x) < 1e4 else f"{x:.2e}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--depth", type=int, default=30)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: timings not disturbed by other work)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"{args.depth} x Linear({args.width}, {args.width}) + activation; {args.seeds} seeds; "
          f"batch {args.batch} of N(0, 1) inputs; {args.threads} torch thread(s)\n")
    print("| activation | method | output std, min-max over layers | spread of log std at layer "
          f"{args.depth}: measured / predicted | init time per network |")
    print("|---|---|---|---|---|")
    for activation in ACTIVATIONS:
        for method, label in (("lsuv", "lsuv (one seed)"), ("auto", "auto (geo. mean over seeds)"),
                              ("default", "torch default (geo. mean)")):
            r = measure(activation, method, args)
            low, high = r["stds"].min().item(), r["stds"].max().item()
            predicted = "-" if r["predicted"] is None or not math.isfinite(r["predicted"]) else f"{r['predicted']:.3f}"
            print(f"| {activation} | {label} | {number(low)} - {number(high)} | {r['spread']:.3f} / {predicted} "
                  f"| {r['ms']:.1f} ms |")


if __name__ == "__main__":
    main()
