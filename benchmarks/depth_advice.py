"""What naming the depth scheme adds to `initlab diagnose` (issue 10, section 4: under ~10%).

`diagnose_torch` names the depth scheme a residual model calls for (`initlab.torch.depth_advice`) with
`initlab.torch.residual.probe` on the first sample of the batch. Measured in the same run on
``examples.families.vit(image=64, patch=16, dim=768, depth=12, heads=12)`` (ViT-Base-sized at 64x64) with a
batch of 8 images, one torch thread: the median of `--repeats` calls of diagnose_torch (which includes
the advice), of the advice alone, and of the probe on the whole batch (what a second full pass would cost).

Run: python benchmarks/depth_advice.py [--repeats 3] [--batch 8]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from examples.families import images, vit  # noqa: E402
from initlab.diagnose.doctor import diagnose_torch  # noqa: E402
from initlab.torch.depth_advice import depth_advice  # noqa: E402
from initlab.torch.residual import probe  # noqa: E402
from _timing import median_seconds  # noqa: E402  (benchmarks/ is on the path when a benchmark runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = vit(image=64, patch=16, dim=768, depth=12, heads=12)
    batch = images(n=args.batch, size=64)
    advice = depth_advice(model, batch, merges=None)
    whole = median_seconds(lambda: diagnose_torch(model, batch), args.repeats)
    alone = median_seconds(lambda: depth_advice(model, batch, merges=None), args.repeats)
    full = median_seconds(lambda: probe(model, batch), args.repeats)
    print(f"vit(image=64, patch=16, dim=768, depth=12, heads=12), batch {args.batch}: depth scheme {advice.scheme}")
    print(f"diagnose_torch (with the advice): {whole:.3f} s")
    print(f"the advice (probe on 1 sample):   {alone:.3f} s = {alone / (whole - alone):.1%} of diagnose without it")
    print(f"a probe on the whole batch:       {full:.3f} s = {full / (whole - alone):.1%} of diagnose without it")


if __name__ == "__main__":
    main()
