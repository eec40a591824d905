"""A float32 weight drawn directly in float32 against the float64 draw rounded (``exact=True``).

For each scheme the table gives the median wall time of `--repeats` draws of one `--shape` tensor
and the peak memory of one draw (`tracemalloc`, which NumPy reports its arrays to), both ways, and
their ratios (exact / direct), all measured in this run. The direct draw is what
``initializer(spec)(shape, rng, "float32")`` does; ``exact=True`` is what the NumPy engine asks for.

Run: python benchmarks/float32_draw.py [--shape 4096,4096] [--repeats 7]
"""

from __future__ import annotations

import argparse
import tracemalloc

from _timing import median_seconds

from initlab.init import initializer

SCHEMES = ("he_normal", "xavier_uniform")


def peak_bytes(call) -> int:
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", default="4096,4096")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    shape = tuple(int(d) for d in args.shape.split(","))
    print(f"shape {shape} float32, median of {args.repeats} draws; exact = float64 draw rounded")
    print(f"{'scheme':<16}{'direct s':>10}{'exact s':>10}{'time ratio':>12}{'direct MB':>11}{'exact MB':>10}"
          f"{'memory ratio':>14}")
    for spec in SCHEMES:
        init = initializer(spec)
        draws = {exact: (lambda exact=exact: init(shape, 0, "float32", exact=exact)) for exact in (False, True)}
        seconds = {exact: median_seconds(call, args.repeats) for exact, call in draws.items()}
        peaks = {exact: peak_bytes(call) for exact, call in draws.items()}
        print(f"{spec:<16}{seconds[False]:>10.3f}{seconds[True]:>10.3f}{seconds[True] / seconds[False]:>11.2f}x"
              f"{peaks[False] / 2**20:>11.0f}{peaks[True] / 2**20:>10.0f}{peaks[True] / peaks[False]:>13.2f}x")


if __name__ == "__main__":
    main()
