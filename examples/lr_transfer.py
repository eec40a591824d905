"""Learning-rate transfer: the best Adam learning rate of an MLP on scikit-learn's digits moves with the
width in the standard parametrization and stays put in muP (`initlab.torch.mup`).

For each width (64 .. 1024) and learning rate (a factor-2 grid), an MLP 64 -> width -> width -> 10 (ReLU,
torch's default init) is trained for `--steps` Adam steps on minibatches of the 1,797 digits (pixels
/ 16), once as it is (SP: one learning rate for every parameter) and once after
``mup(model, base_width=64)`` (its per-layer learning rates, readout multiplier and zero readout);
the training loss (cross-entropy on all 1,797 digits) after the steps is the score (a diverged run
scores its loss at init, ln 10). Seeds fork torch's RNG (init) and a generator (minibatches); the
same seed gives SP and muP the same initial weights and minibatches. Prints, per width, the best
learning rate of each and its loss, then the time taken (wall clock and CPU time: on a busy machine the
wall clock grows, the CPU time barely does); writes the figure (one panel each, loss
against learning rate, one line per width).

Run: .venv/bin/python examples/lr_transfer.py [--widths 64,128,256,512,1024] [--steps 100] [--seeds 1]
     [--figure docs/lr_transfer.png]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch
from sklearn.datasets import load_digits
from torch import nn

from initlab.torch.mup import mup

BASE_WIDTH = 64
LRS = tuple(2.0 ** k for k in range(-11, -1))  # 2^-11 (5e-4) .. 2^-2 (0.25)


def mlp(width: int) -> nn.Module:
    return nn.Sequential(nn.Linear(64, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 10))


def train_loss(width: int, lr: float, parametrization: str, seed: int, steps: int, batch: int, x, y) -> float:
    """Loss on all of (x, y) after `steps` Adam steps at `lr` (module doc)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = mlp(width)
    if parametrization == "muP":
        optimizer = mup(model, base_width=BASE_WIDTH, optimizer="adam").optimizer(lr)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    order = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        rows = torch.randint(len(x), (batch,), generator=order)
        loss = nn.functional.cross_entropy(model(x[rows]), y[rows])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        final = nn.functional.cross_entropy(model(x), y).item()
    return final if math.isfinite(final) else math.log(10)


def figure(losses: dict, widths, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    colours = plt.cm.viridis(np.linspace(0, 0.9, len(widths)))
    for ax, name in zip(axes, ("SP", "muP")):
        for width, colour in zip(widths, colours):
            curve = losses[name][width]
            ax.plot(LRS, curve, "o-", color=colour, ms=3, label=f"width {width}")
            best = int(np.argmin(curve))
            ax.plot(LRS[best], curve[best], "*", color=colour, ms=12, mec="black")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("Adam learning rate")
        ax.set_title(f"{name}: training loss after the steps (star: best)")
    axes[0].set_ylabel("cross-entropy on the 1,797 digits")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", default="64,128,256,512,1024")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--figure", default="docs/lr_transfer.png")
    args = parser.parse_args(argv)
    widths = [int(w) for w in args.widths.split(",")]
    torch.set_num_threads(1)  # fixed, so a rerun prints the same numbers; on a shared 2-core machine one
    # thread was 3x faster than two (the small matrices of these MLPs do not pay for a second thread)
    digits = load_digits()
    x = torch.tensor(digits.data / 16.0, dtype=torch.float32)
    y = torch.tensor(digits.target)
    start, cpu = time.perf_counter(), time.process_time()
    losses = {"SP": {}, "muP": {}}
    for name in losses:
        for width in widths:
            losses[name][width] = [float(np.mean([train_loss(width, lr, name, seed, args.steps, args.batch, x, y)
                                                  for seed in range(args.seeds)])) for lr in LRS]
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"MLP 64 -> width -> width -> 10 on digits, {args.steps} Adam steps of {args.batch}, "
          f"{args.seeds} seed(s), learning rates 2^-11 .. 2^-2")
    print(f"{'width':>6}  {'SP best lr':>11}  {'SP loss':>8}  {'muP best lr':>11}  {'muP loss':>8}")
    for width in widths:
        row = []
        for name in losses:
            best = int(np.argmin(losses[name][width]))
            row += [f"2^{round(math.log2(LRS[best]))}", f"{losses[name][width][best]:.3f}"]
        print(f"{width:>6}  {row[0]:>11}  {row[1]:>8}  {row[2]:>11}  {row[3]:>8}")
    if args.figure:
        figure(losses, widths, args.figure)
        print(f"figure: {args.figure}")
    print(f"time: {seconds:.0f} s wall, {cpu:.0f} s CPU ({len(widths) * len(LRS) * args.seeds * 2} training runs, "
          f"{torch.get_num_threads()} torch thread)")


if __name__ == "__main__":
    main()
