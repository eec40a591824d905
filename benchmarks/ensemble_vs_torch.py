"""Many seeds trained as one ensemble vs. a loop over seeds (initlab engine, PyTorch), one process.

100 seeds of [2, 10, 5, 1] relu/sigmoid, He init, on 300 points of `circles`, 15,000 full-batch
gradient-descent iterations at lr 0.01, float64, same thread count for everybody:

- initlab ensemble, compiled kernel (`train_many(backend="numba")`, what `compare` uses);
- initlab ensemble, NumPy reference (`backend="numpy"`: stacked weights, batched matmul);
- (a) the initlab engine looping over seeds (`train` per network);
- (b) the same loop in PyTorch (autograd + torch.optim.SGD per seed).

The compiled kernel is compiled (or loaded from its cache) by a short warm-up before timing.
`--loop-seeds K` times the two per-seed loops on K seeds only and scales by 100/K (printed).

Run: python benchmarks/ensemble_vs_torch.py [--seeds 100] [--iterations 15000] [--loop-seeds K]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from initlab.data import load
from initlab.nn import MLP, train
from initlab.nn.ensemble import train_many

LAYERS = [2, 10, 5, 1]


def nets(seeds):
    return [MLP(LAYERS, "relu", "sigmoid", init="he_normal", seed=s) for s in seeds]


def timed(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def torch_loop(net: MLP, X, y, iterations):
    params = [torch.tensor(p, requires_grad=True) for p in net.flat_params()]
    Xt, yt = torch.from_numpy(X), torch.tensor(y, dtype=torch.float64)
    opt = torch.optim.SGD(params, lr=0.01)
    W1, b1, W2, b2, W3, b3 = params
    for _ in range(iterations):
        opt.zero_grad()
        z = torch.relu(torch.relu(Xt @ W1 + b1) @ W2 + b2) @ W3 + b3
        torch.nn.functional.binary_cross_entropy_with_logits(z[:, 0], yt).backward()
        opt.step()
    return [p.detach().numpy() for p in params]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--iterations", type=int, default=15000)
    parser.add_argument("--loop-seeds", type=int, default=None, help="time the per-seed loops on this many seeds")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    X, y = load("circles", n_samples=300, seed=0)
    seeds = range(args.seeds)
    loop_seeds = range(args.loop_seeds or args.seeds)
    scale = args.seeds / len(loop_seeds)
    with threadpool_limits(limits=args.threads):
        train_many(nets([0]), X, y, iterations=10, backend="numba")  # compile or load the cached kernel
        ensemble_nets = nets(seeds)
        times = {"ensemble": timed(lambda: train_many(ensemble_nets, X, y, iterations=args.iterations,
                                                      record_every=100, backend="numba"))}
        reference_nets = nets(loop_seeds)
        times["numpy"] = timed(lambda: train_many(reference_nets, X, y, iterations=args.iterations,
                                                  record_every=100, backend="numpy")) * scale
        engine_nets = nets(loop_seeds)
        times["engine"] = timed(lambda: [train(n, X, y, iterations=args.iterations, record_every=100)
                                         for n in engine_nets]) * scale
        torch_params = []
        times["torch"] = timed(lambda: torch_params.extend(torch_loop(n, X, y, args.iterations)
                                                           for n in nets(loop_seeds))) * scale
    drift = max(float(np.max(np.abs(a - b))) for net, params in zip(ensemble_nets, torch_params)
                for a, b in zip(net.flat_params(), params))
    note = "" if scale == 1 else f" (per-seed loops timed on {len(loop_seeds)} seeds, scaled x{scale:g})"
    print(f"{args.seeds} seeds of {LAYERS} relu/sigmoid, 300 circles points, {args.iterations} full-batch "
          f"iterations, float64, {args.threads} threads{note}")
    print(f"largest parameter difference, ensemble vs PyTorch, on the seeds both ran: {drift:.1e}")
    print("| training | time (s) | PyTorch loop time / this time |")
    print("|---|---|---|")
    rows = (("initlab ensemble, compiled kernel (what `compare` uses)", times["ensemble"]),
            ("initlab ensemble, NumPy reference (batched matmul)", times["numpy"]),
            ("(a) initlab engine, loop over seeds", times["engine"]),
            ("(b) PyTorch autograd + SGD, loop over seeds", times["torch"]))
    for name, t in rows:
        print(f"| {name} | {t:.1f} | {times['torch'] / t:.1f}x |")


if __name__ == "__main__":
    main()
