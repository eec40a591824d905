"""Speed of `initlab.torch.coordcheck` (issue 12, section 3: <= 10 s and <= 60 s on this 2-core machine).

Cases (examples/width_models.py, standard parametrization, Adam at lr 1e-3, one batch of 32 samples):

- ``mlp``: `mlp` (3 hidden layers), widths 64, 128, 256, 512, 1024, 3 seeds, 5 steps, 16 input features;
- ``gpt``: `gpt`, 4 pre-LN blocks on nn.MultiheadAttention, widths 64, 128, 256, 512, 3 seeds, 5 steps,
  sequences of 32 token ids (vocabulary 64).

For each, the median wall time of `--repeats` whole checks, and in the same run (interleaved with them,
alternating which goes first) the plain loop: the same
models built the same way and trained the same 5 steps (forward, loss, backward, Adam step) with no
hook, no recording and no extra forward pass. The ratio is check / plain loop: what the measurement
costs (the hooks, the attention logits recomputed and the forward pass of step T).

On this shared machine two torch threads can be much slower than one when other jobs load the cores
(they spin waiting for each other): `--threads 1,2` measures both.

Run: python benchmarks/coordcheck_speed.py [--repeats 3] [--cases mlp,gpt] [--threads 1,2]
"""

from __future__ import annotations

import argparse
import os
import functools
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # examples/
from examples.width_models import gpt, mlp  # noqa: E402
from initlab.torch.coordcheck import OPTIMIZERS, coordcheck, default_loss  # noqa: E402
from initlab.torch.inputs import call  # noqa: E402
from _timing import median_seconds  # noqa: E402  (benchmarks/ is on the path when a benchmark runs)

SEEDS, STEPS, LR = 3, 5, 1e-3
CASES = {
    "mlp": ("MLP, widths 64..1024", mlp, (64, 128, 256, 512, 1024), dict(input_shape=(16,))),
    "gpt": ("GPT 4 blocks, widths 64..512", functools.partial(gpt, depth=4), (64, 128, 256, 512),
            dict(input_shape=(32,), vocab=64)),
}


def plain_loop(factory, widths, inputs) -> None:
    """The check's training without it: build, then STEPS x (forward, loss, backward, Adam step)."""
    for width in widths:
        for seed in range(SEEDS):
            with torch.random.fork_rng(devices=[]):
                torch.default_generator.manual_seed(seed)
                model = factory(width=width)
                model.train()
                opt = OPTIMIZERS["adam"](model.parameters(), lr=LR)  # the check's Adam
                for _ in range(STEPS):
                    loss = default_loss(call(model, inputs), None, inputs)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--threads", default=str(torch.get_num_threads()),
                        help="torch thread counts to measure at, e.g. 1,2 [default: torch's]")
    args = parser.parse_args()
    from initlab.diagnose.sources import torch_batch
    print(f"torch {torch.__version__}, load average {os.getloadavg()[0]:.1f} at start; {SEEDS} seeds, {STEPS} Adam "
          f"steps; median of {args.repeats}")
    print(f"{'case':<30} {'threads':>7} {'check s':>8} {'plain s':>8} {'ratio':>6}")
    for key in args.cases.split(","):
        name, factory, widths, batch = CASES[key]
        inputs, _ = torch_batch(batch["input_shape"], 32, 0, vocab=batch.get("vocab"))
        coordcheck(factory, widths[:3], steps=1, seeds=1, batch=inputs)  # warm-up: torch's lazy imports
        for threads in (int(n) for n in args.threads.split(",")):
            torch.set_num_threads(threads)
            checked, plain = [], []
            for repeat in range(args.repeats):  # interleaved: a change of load on the machine hits both alike
                for which in ((0, 1) if repeat % 2 == 0 else (1, 0)):
                    if which == 0:
                        checked.append(median_seconds(lambda: coordcheck(factory, widths, steps=STEPS, lr=LR,
                                                                         seeds=SEEDS, batch=inputs), 1))
                    else:
                        plain.append(median_seconds(lambda: plain_loop(factory, widths, inputs), 1))
            checked, plain = statistics.median(checked), statistics.median(plain)
            print(f"{name:<30} {threads:>7} {checked:>8.2f} {plain:>8.2f} {checked / plain:>6.2f}", flush=True)


if __name__ == "__main__":
    main()
