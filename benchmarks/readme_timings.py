"""Wall-clock times of the commands whose duration README.md and docs/*.md quote.

Each command runs as a new process from the repository root, exactly as typed in a shell
(start-up, imports, figures and reports included), `--repeats` times; the table gives the
fastest and the slowest run. Files go under runs/timings/ (git-ignored). The first row runs
with an empty Numba cache, so it includes compiling the training kernel once.

    python benchmarks/readme_timings.py                 # every command, once (about 5 minutes)
    python benchmarks/readme_timings.py --repeats 3 --only demo --only help
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = "runs/timings"

# name -> command, as the docs show it; each writes only into its own folder runs/timings/<name>/.
COMMANDS = {
    "help": "initlab --help",
    "first-run": f"initlab compare --iterations 100 --no-figures --out {OUT}/first-run",
    "demo": f"initlab compare --preset demo --out {OUT}/demo",
    "article": f"initlab compare --preset article --out {OUT}/article",
    "ng": f"initlab compare --preset ng --out {OUT}/ng",
    "diagnose": f"initlab diagnose --data circles --hidden 100x30 --activation relu --init xavier_normal "
                f"--out {OUT}/diagnose",
    "diagnose-torch": f"initlab diagnose --torch examples.torch_models:deep_gelu --input-shape 784 "
                      f"--out {OUT}/diagnose-torch",
    "sweep": f"initlab sweep run examples/source_schemes.toml --store {OUT}/sweep/results.db",
    "scale-depth": f"initlab sweep run examples/scale_depth.toml --store {OUT}/scale-depth/results.db",
    "depth": f"initlab sweep run docs/depth.toml --store {OUT}/depth/results.db",
}
NOTES = {
    "first-run": "empty Numba cache: compiles the training kernel",
    "sweep": "fresh store, default --workers",
    "scale-depth": "fresh store, default --workers",
    "depth": "fresh store, default --workers",
}


def _clean(name: str) -> None:
    """An empty runs/timings/<name>/, so a sweep starts from an empty store."""
    folder = ROOT / OUT / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)


def timed(name: str) -> float:
    """Seconds of wall clock for one run of the command, from process start to exit."""
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    with tempfile.TemporaryDirectory() as cache:
        if name == "first-run":
            env["NUMBA_CACHE_DIR"] = cache
        _clean(name)
        started = time.perf_counter()
        done = subprocess.run(shlex.split(COMMANDS[name]), cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{COMMANDS[name]} failed (exit {done.returncode}):\n{done.stderr}")
    return seconds


def _seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 10 else f"{value:.0f} s" if value < 120 else f"{value / 60:.1f} min"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=1, help="runs of each command (default 1)")
    parser.add_argument("--only", action="append", choices=list(COMMANDS), help="time only these (repeatable)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats: expected a positive integer, got {args.repeats}")
    names = args.only or list(COMMANDS)
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} cores, load average {load:.1f} at start, {args.repeats} run(s) per command")
    print()
    print("| command | wall clock (fastest - slowest) | note |")
    print("|---|---|---|")
    for name in names:
        times = [timed(name) for _ in range(args.repeats)]
        span = _seconds(min(times)) if len(times) == 1 else f"{_seconds(min(times))} - {_seconds(max(times))}"
        print(f"| `{COMMANDS[name]}` | {span} | {NOTES.get(name, '')} |", flush=True)


if __name__ == "__main__":
    main()
