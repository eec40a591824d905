"""Cost of `diagnose`, `lsuv` and `auto` on real-sized PyTorch models, as ratios to one plain forward+backward.

The model (default: the ViT-Base-sized stand-in of issue 10, `examples.families.vit(image=64, patch=16,
dim=768, depth=12, heads=12)`, 86M parameters) and batch are built the same way for every measurement.
The reference is one plain forward+backward pass in training mode with the loss diagnose uses when no
target is given (sum(out * r) / n, r ~ N(0, 1) fixed).

- CPU time (``time.process_time``: every thread of the process) and wall time: measured in one
  process, one after the other, after one warm-up pass: the plain pass, then
  ``initlab.diagnose.diagnose_torch(model, batch)``, ``initlab.torch.lsuv(model, batch, seed=0)``
  and ``initlab.torch.auto(model, example=batch, seed=0)``.
- Peak memory: torch's CPU allocator is invisible to tracemalloc, so each of the four is run alone in
  a fresh subprocess (build the model and batch, then that one call) and reports its peak resident
  set size: ``VmHWM`` of /proc/self/status, the high-water mark of the process's own address space
  (``getrusage``'s ru_maxrss would not do: Linux keeps it across exec, so a child would inherit the
  parent's peak); the ratio divides by the plain pass's peak. Both peaks include the interpreter,
  torch and the model itself, as a user's process would.

Goals (issue 10): diagnose <= 3x the CPU time and <= 2x the peak memory of the plain pass.

Run: python benchmarks/real_models.py [--model vit_base|vit_small|gpt2_small] [--batch 32] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import examples.families as families  # noqa: E402

TOOLS = ("plain", "diagnose", "lsuv", "auto")


def _vit_base():
    return families.vit(image=64, patch=16, dim=768, depth=12, heads=12), lambda n: families.images(n, size=64)


def _vit_small():
    return families.vit(image=32, patch=8, dim=192, depth=6, heads=3), lambda n: families.images(n, size=32)


def _gpt2_small():
    return families.hf_gpt2(layers=6, dim=384, heads=6, vocab=5000), \
        lambda n: families.tokens(n, length=64, vocab=5000)


MODELS = {"vit_base": _vit_base, "vit_small": _vit_small, "gpt2_small": _gpt2_small}


def plain_pass(model, batch) -> None:
    """One forward+backward in training mode, the loss diagnose uses without a target."""
    from initlab.torch.inputs import call, select_output
    model.train()
    out = select_output(call(model, batch))
    r = torch.randn(out.shape, generator=torch.Generator().manual_seed(0), dtype=out.dtype)
    ((out * r).sum() / out.shape[0]).backward()
    model.zero_grad(set_to_none=True)


def run_tool(tool: str, model, batch) -> None:
    if tool == "plain":
        plain_pass(model, batch)
    elif tool == "diagnose":
        from initlab.diagnose import diagnose_torch
        diagnose_torch(model, batch)
    elif tool == "lsuv":
        from initlab.torch import lsuv
        lsuv(model, batch, seed=0)
    else:
        from initlab.torch import auto
        auto(model, example=batch, seed=0)


def peak_rss_mb() -> float:
    """The high-water mark of this process's resident set (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError("no VmHWM in /proc/self/status: peak memory is measured on Linux only")


def measure_peak(model_name: str, batch_size: int, tool: str) -> dict:
    """In this (fresh) process: build, run `tool` once, report the peak RSS in MB."""
    model, data = MODELS[model_name]()
    batch = data(batch_size)
    before = peak_rss_mb()
    run_tool(tool, model, batch)
    return {"tool": tool, "peak_mb": peak_rss_mb(), "before_mb": before}


def peak_in_subprocess(model_name: str, batch_size: int, tool: str, threads: int) -> dict:
    command = [sys.executable, __file__, "--model", model_name, "--batch", str(batch_size),
               "--threads", str(threads), "--peak-of", tool]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def times(model_name: str, batch_size: int) -> dict[str, tuple[float, float]]:
    """{tool: (CPU seconds, wall seconds)} measured one after the other in this process."""
    model, data = MODELS[model_name]()
    batch = data(batch_size)
    plain_pass(model, batch)  # warm-up: allocator, kernels
    found = {}
    for tool in TOOLS:
        cpu, wall = time.process_time(), time.perf_counter()
        run_tool(tool, model, batch)
        found[tool] = (time.process_time() - cpu, time.perf_counter() - wall)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="vit_base")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--peak-of", choices=TOOLS, help=argparse.SUPPRESS)  # the subprocess mode
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.peak_of:
        print(json.dumps(measure_peak(args.model, args.batch, args.peak_of)))
        return
    model, data = MODELS[args.model]()
    params = sum(p.numel() for p in model.parameters())
    print(f"{args.model}: {params / 1e6:.1f}M parameters, batch {list(data(args.batch).shape)}, "
          f"{args.threads} thread(s)")
    del model
    timing = times(args.model, args.batch)
    peaks = {tool: peak_in_subprocess(args.model, args.batch, tool, args.threads) for tool in TOOLS}
    cpu0, wall0, mem0 = timing["plain"][0], timing["plain"][1], peaks["plain"]["peak_mb"]
    print(f"{'':<10} {'CPU s':>8} {'x plain':>8} {'wall s':>8} {'peak MB':>9} {'x plain':>8}")
    for tool in TOOLS:
        cpu, wall = timing[tool]
        peak = peaks[tool]["peak_mb"]
        print(f"{tool:<10} {cpu:8.2f} {cpu / cpu0:8.2f} {wall:8.2f} {peak:9.0f} {peak / mem0:8.2f}")
    print(f"goal for diagnose: <= 3x CPU time, <= 2x peak memory; the model and batch alone take "
          f"{peaks['plain']['before_mb']:.0f} MB before the plain pass")


if __name__ == "__main__":
    main()
