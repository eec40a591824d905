"""Start-up of the `initlab` command: wall time of `--help`, `--version` and refused inputs.

Each command runs as a fresh process (as a user's shell starts it), `--repeats` times; the table
gives the median and the slowest run, and the ratio of the median to a bare `python -c pass` and to
`python -c "import torch"` measured in the same run (torch only when installed). The goal is
<= 0.5 s for every row on a 2-core machine.

Run: python benchmarks/startup.py [--repeats 10]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "initlab --help": ["--help"],
    "initlab --version": ["--version"],
    "initlab compare --help": ["compare", "--help"],
    "initlab diagnose --help": ["diagnose", "--help"],
    "compare --hidden 10,-5 (refused)": ["compare", "--hidden", "10,-5"],
    "sample he_norml (refused)": ["sample", "he_norml"],
    "diagnose --n-samples 0 (refused)": ["diagnose", "--n-samples", "0"],
    "train --lr nan (refused)": ["train", "--lr", "nan"],
    "compare --seeds 1e9 (refused)": ["compare", "--seeds", "1000000000"],
    "sweep run missing.toml (refused)": ["sweep", "run", "missing.toml", "--store", "runs/x.db"],
}


def wall(argv: list[str], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    script = shutil.which("initlab") or os.path.join(os.path.dirname(sys.executable), "initlab")
    python = statistics.median(wall([sys.executable, "-c", "pass"], args.repeats))
    try:
        import importlib.util
        has_torch = importlib.util.find_spec("torch") is not None
    except ImportError:
        has_torch = False
    torch = statistics.median(wall([sys.executable, "-c", "import torch"], args.repeats)) if has_torch else None
    print(f"python -c pass: {python:.3f} s" + (f"; python -c 'import torch': {torch:.3f} s" if torch else ""))
    print(f"{'command':<36} {'median s':>9} {'max s':>7} {'x python':>9} {'x torch':>8}")
    for name, argv in COMMANDS.items():
        times = wall([script, *argv], args.repeats)
        median = statistics.median(times)
        ratio = f"{median / torch:8.2f}" if torch else f"{'-':>8}"
        print(f"{name:<36} {median:9.3f} {max(times):7.3f} {median / python:9.1f} {ratio}")


if __name__ == "__main__":
    main()
