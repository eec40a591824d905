"""Var log q at the last layer of a zero-bias relu (or leaky relu) chain at He init: the exact per-layer law
(`initlab.theory.exact_layer`), Hanin & Rolnick's first-order 5/n rule, and Monte Carlo over Gaussian networks
with its 95% interval (mean +- 1.96 SE of the sample variance, SE = sqrt((m4 - s^4) / N)).

    python examples/finite_width_exact.py [--networks 1000] [--seed 2026]
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from initlab.theory import activation
from initlab.theory.exact_layer import relu_log_moments
from initlab.theory.finite_width import log_q_moments, moments, step

CASES = [("relu 16 x 10", [16] * 10, 0.0), ("relu 32 x 10", [32] * 10, 0.0),
         ("relu 16/128 x 10", [16, 128] * 5, 0.0), ("leaky 0.2, 16 x 10", [16] * 10, 0.2)]


def monte_carlo(widths: list[int], leak: float, networks: int, rng: np.random.Generator) -> np.ndarray:
    """log q at the last layer of `networks` nets on one input of mean square 1 (dead nets, q = 0, dropped)."""
    x = rng.standard_normal(widths[0])
    x *= math.sqrt(widths[0]) / np.linalg.norm(x)
    h, fan_in = np.broadcast_to(x, (networks, widths[0])), widths[0]
    for layer, n in enumerate(widths):
        sigma_w2 = 1.0 if layer == 0 else 2.0 / (1.0 + leak * leak)
        z = np.einsum("si,sij->sj", h, rng.standard_normal((networks, fan_in, n)) * math.sqrt(sigma_w2 / fan_in))
        h, fan_in = np.where(z > 0, z, leak * z), n
    with np.errstate(divide="ignore"):
        last = np.log(np.mean(z * z, axis=1))
    return last[np.isfinite(last)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    print(f"per relu layer: exact Var log F = {relu_log_moments(16)[1]:.3f} at n = 16 (5/n = {5 / 16:.4f}), "
          f"{relu_log_moments(32)[1]:.3f} at n = 32 (5/n = {5 / 32:.4f})")
    print(f"{'network':<20} {'exact':>7} {'1st order':>9} {'Monte Carlo (95% CI)':>24}  nets")
    for name, widths, leak in CASES:
        act = activation("leaky_relu", slope=leak) if leak else activation("relu")
        layer = step(moments(act, 1.0), 2.0 / (1.0 + leak * leak), 0.0)
        exact = log_q_moments([layer] * (len(widths) - 1), widths)[-1][1]
        first_order = log_q_moments([layer] * (len(widths) - 1), widths, exact=False)[-1][1]
        logs = monte_carlo(widths, leak, args.networks, rng)
        var = logs.var(ddof=1)
        se = math.sqrt((np.mean((logs - logs.mean()) ** 4) - var * var) / len(logs))
        interval = f"{var:.3f} ({var - 1.96 * se:.3f}-{var + 1.96 * se:.3f})"
        print(f"{name:<20} {exact:7.3f} {first_order:9.3f} {interval:>24}  {len(logs)}")


if __name__ == "__main__":
    main()
