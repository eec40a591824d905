"""Engine vs PyTorch on the shape of Imad Dabbura's article (2018), measured in one process.

100 samples x 67,500 features, layers [67500, 5, 5, 1], tanh hidden, sigmoid output, float32,
full-batch gradient descent, lr 0.01, 300 iterations. The PyTorch loop is autograd +
torch.optim.SGD on the same initial weights and data, with the same thread count.
Also reported: each time as a multiple of one `X @ W1` pass, the memory-bound cost of touching X once.

Run: python benchmarks/engine_vs_torch.py [--iterations 300] [--repeats 3] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from initlab.nn import MLP, train

N_SAMPLES, LAYERS = 100, [67500, 5, 5, 1]


def make_data(seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.random((N_SAMPLES, LAYERS[0]), dtype=np.float32)  # pixel-like values in [0, 1)
    y = np.repeat([0, 1], N_SAMPLES // 2)
    return X, y


def engine_run(X, y, iterations, sample_space):
    net = MLP(LAYERS, activation="tanh", output="sigmoid", init="he_normal", seed=0, dtype="float32")
    start = time.perf_counter()
    result = train(net, X, y, lr=0.01, iterations=iterations, record_every=iterations, sample_space=sample_space)
    return time.perf_counter() - start, result.final_cost, net


def torch_run(X, y, iterations):
    net = MLP(LAYERS, activation="tanh", output="sigmoid", init="he_normal", seed=0, dtype="float32")
    params = [torch.tensor(p, requires_grad=True) for pair in net.params for p in pair]
    Xt, yt = torch.from_numpy(X), torch.tensor(y, dtype=torch.float32)
    opt = torch.optim.SGD(params, lr=0.01)
    start = time.perf_counter()
    for _ in range(iterations):
        opt.zero_grad()
        a = torch.tanh(Xt @ params[0] + params[1])
        a = torch.tanh(a @ params[2] + params[3])
        z = a @ params[4] + params[5]
        loss = torch.nn.functional.binary_cross_entropy_with_logits(z[:, 0], yt)
        loss.backward()
        opt.step()
    with torch.no_grad():
        a = torch.tanh(torch.tanh(Xt @ params[0] + params[1]) @ params[2] + params[3])
        final = torch.nn.functional.binary_cross_entropy_with_logits((a @ params[4] + params[5])[:, 0], yt).item()
    return time.perf_counter() - start, final, params


def one_pass(X, repeats=20):
    W = np.random.default_rng(1).standard_normal((LAYERS[0], LAYERS[1])).astype(np.float32)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        X @ W
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    X, y = make_data()
    with threadpool_limits(limits=args.threads):
        floor = one_pass(X)
        times = {"direct": [], "sample_space": [], "torch": []}
        for _ in range(args.repeats):  # interleaved, so drifts in machine load hit all alike
            t, direct_cost, direct_net = engine_run(X, y, args.iterations, sample_space=False)
            times["direct"].append(t)
            t, engine_cost, net = engine_run(X, y, args.iterations, sample_space=None)
            times["sample_space"].append(t)
            t, torch_cost, params = torch_run(X, y, args.iterations)
            times["torch"].append(t)
    best = {name: min(ts) for name, ts in times.items()}
    reference = best["torch"]
    reference_params = [p.detach().numpy() for p in params]
    start_params = MLP(LAYERS, activation="tanh", output="sigmoid", init="he_normal", seed=0,
                       dtype="float32").flat_params()

    def largest(a_list, b_list):
        return max(float(np.max(np.abs(a - b))) for a, b in zip(a_list, b_list))
    print(f"shape: {N_SAMPLES} x {LAYERS[0]} float32, layers {LAYERS}, tanh/sigmoid, {args.iterations} iterations, "
          f"{args.threads} threads, best of {args.repeats}")
    print(f"final cost: engine {engine_cost:.6f}, engine direct {direct_cost:.6f}, torch {torch_cost:.6f}")
    print(f"largest parameter change in training {largest(reference_params, start_params):.1e}; largest "
          f"difference from torch: sample-space {largest(net.flat_params(), reference_params):.1e}, "
          f"direct {largest(direct_net.flat_params(), reference_params):.1e}")
    print("| loop | time (s) | per iteration, in X @ W1 passes | time vs PyTorch |")
    print("|---|---|---|---|")
    rows = (("initlab `train` (default: sample-space first layer)", best["sample_space"]),
            ("initlab `train(sample_space=False)` (direct loop)", best["direct"]),
            ("PyTorch autograd + SGD", reference))
    for name, t in rows:
        print(f"| {name} | {t:.3f} | {t / args.iterations / floor:.2f} | {t / reference:.2f}x |")
    print(f"one X @ W1 pass: {floor * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
