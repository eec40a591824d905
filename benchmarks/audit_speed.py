"""Speed of `initlab.torch.audit` on ~100M-parameter models (issue 10: under 10 s on this machine).

Models, built with torch's default init (building is not timed with the audit):

- ``stack``: 6 x nn.Linear(4096, 4096) (100.7M parameters, 6 large weight tensors);
- ``gpt2``: Hugging Face GPT2LMHeadModel at GPT-2 small's config (124M parameters, 148 tensors of
  every size; needs `transformers`, nothing is downloaded).

For each, the median of `--repeats` audits, the time it took to build the model, and one read of
every parameter (``p.sum()`` over all of them) measured in the same run, with the audit's ratio to each.

Run: python benchmarks/audit_speed.py [--repeats 3] [--models stack,gpt2]
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from initlab.torch import audit
from _timing import median_seconds  # noqa: E402  (benchmarks/ is on the path when a benchmark runs)


def stack() -> nn.Module:
    return nn.Sequential(*[nn.Linear(4096, 4096) for _ in range(6)])


def gpt2() -> nn.Module:
    from transformers import GPT2Config, GPT2LMHeadModel
    return GPT2LMHeadModel(GPT2Config())


MODELS = {"stack": ("6 x Linear(4096, 4096)", stack), "gpt2": ("GPT-2 small (HF)", gpt2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", default="stack,gpt2")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; median of {args.repeats} audits")
    print(f"{'model':<24} {'parameters':>12} {'tensors':>8} {'audit s':>8} {'build s':>8} {'read s':>7} "
          f"{'x build':>8} {'x read':>7}")
    for key in args.models.split(","):
        name, build = MODELS[key]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            start = time.perf_counter()
            model = build()
            built = time.perf_counter() - start
        parameters = list(model.parameters())
        with torch.no_grad():
            read = median_seconds(lambda: [p.sum() for p in parameters], args.repeats)
        audited = median_seconds(lambda: audit(model), args.repeats)
        count = sum(p.numel() for p in parameters)
        print(f"{name:<24} {count:>12,} {len(parameters):>8} {audited:>8.2f} {built:>8.2f} {read:>7.3f} "
              f"{audited / built:>8.2f} {audited / read:>7.0f}")


if __name__ == "__main__":
    main()
