"""Two headline numbers of classic initialization papers, measured with initlab (issue 13):

1. He et al. (2015), after Glorot & Bengio (2010): in a 30-layer relu MLP, Xavier's weights halve the
   signal's variance at every layer, so the last layer's pre-activation std is about 2^-14.5 of the
   first's (29 halvings of the variance); He's keep it.
2. Schoenholz et al. (2017): on the ordered side of the order/chaos line, two inputs' correlation
   approaches 1 as exp(-l / xi_c); the measured depth scale of |1 - c(l)| in a wide tanh net against
   the mean-field xi_c (`initlab theory`), and the trainable depth 6 xi_c they found.

Run: python examples/classic_results.py   (a few seconds; numbers are medians over seeds, fixed seeds)
"""

from __future__ import annotations

import math

import numpy as np

from initlab.diagnose.correlation import correlations
from initlab.diagnose.mlp_probe import capture_mlp
from initlab.nn.mlp import MLP
from initlab.theory.meanfield import theory

SEEDS = range(5)


def signal_ratio(init: str, depth: int = 30, width: int = 100) -> float:
    """Median over seeds of std(z at layer `depth`) / std(z at layer 1) on standard-normal inputs."""
    ratios = []
    for seed in SEEDS:
        X = np.random.default_rng(100 + seed).standard_normal((256, width))
        net = MLP([width, *[width] * depth, 1], activation="relu", init=init, seed=seed)
        z = [c.z for c in capture_mlp(net, X, np.zeros(256, dtype=int))[:-1]]
        ratios.append(np.std(z[-1]) / np.std(z[0]))
    return float(np.median(ratios))


def correlation_depth(sigma_w2: float, sigma_b2: float, depth: int = 40, width: int = 1000) -> float:
    """Median over seeds of the depth scale of 1 - |c(l)| in a tanh net (fit of log(1 - |c|) on l, l >= 5)."""
    scales = []
    for seed in SEEDS:
        X = np.random.default_rng(200 + seed).standard_normal((32, 16))
        net = MLP([16, *[width] * depth, 1], activation="tanh", init=f"variance_scaling(scale={sigma_w2}, "
                  "distribution=normal)", bias_init=f"normal(std={math.sqrt(sigma_b2)})", seed=seed)
        rows = correlations(capture_mlp(net, X, np.zeros(32, dtype=int)))
        layers = np.array([r["layer"] for r in rows[4:]])
        gap = np.array([1 - r["measured"] for r in rows[4:]])
        keep = gap > 1e-3  # where finite-width noise (about 1 / width) has not yet taken over
        slope = np.polyfit(layers[keep], np.log(gap[keep]), 1)[0]
        scales.append(-1 / slope)
    return float(np.median(scales))


def main() -> None:
    xavier, he = signal_ratio("xavier_normal"), signal_ratio("he_normal")
    print("1. 30 relu layers of 100, std of layer 30 / layer 1 (median of 5 seeds)")
    print(f"   xavier_normal: {xavier:.3g} = 2^{math.log2(xavier):.1f}   (theory 2^-14.5 = {2 ** -14.5:.3g})")
    print(f"   he_normal:     {he:.3g} = 2^{math.log2(he):.1f}   (theory 1 on average; a typical net sits a little lower, "
          "Hanin & Rolnick 2018)")
    print("2. tanh, sigma_b^2 = 0.05, ordered side: depth scale of 1 - |c| (40 layers of 1000, median of 5 seeds)")
    for sigma_w2 in (0.8, 1.0, 1.2):
        t = theory("tanh", 0.05, sigma_w2)
        print(f"   sigma_w^2 = {sigma_w2}: measured {correlation_depth(sigma_w2, 0.05):.3g}, "
              f"mean-field xi_c = {t.xi_c:.3g} ({t.phase}); trainable depth 6 xi_c = {t.trainable_depth:.3g}")


if __name__ == "__main__":
    main()
