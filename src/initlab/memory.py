"""How much memory a run will need, estimated before it starts, and the budget it must fit in.

The budget is `max_memory` (bytes, or text such as ``'12GB'``, ``'500MB'``); by default half of
the machine's physical RAM (`DEFAULT_FRACTION`, read with ``os.sysconf``). A run whose estimate is
above the budget is refused with a ValueError naming the argument that made it large, before any
array is allocated.

Estimates count the arrays a run holds at its peak (parameters, optimizer state, activations of a
batch, recorded costs, the data) plus a fixed per-object overhead for the Python objects behind
each network and each recorded point; tests/test_memory.py checks them against the peak RSS of
real runs (within a factor of 2).

>>> format_bytes(31.2e9), parse_size("12GB"), parse_size("1.5 GiB")
('31.2 GB', 12000000000, 1610612736)
"""

from __future__ import annotations

import math
import os
import re

from initlab._errors import ArgumentError
from collections.abc import Sequence

DEFAULT_FRACTION = 0.5  # of physical RAM: room for the OS, the Python runtime and other programs
NETWORK_OVERHEAD = 4_000  # bytes of Python objects per MLP (object, lists, tuples, array headers)
POINT_OVERHEAD = 120  # bytes per recorded (iteration, cost) pair: tuple, int, float, list slot
UNITS = {"": 1, "B": 1, "K": 10**3, "KB": 10**3, "M": 10**6, "MB": 10**6, "G": 10**9, "GB": 10**9,
         "T": 10**12, "TB": 10**12, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def physical_memory() -> int:
    """Bytes of RAM of this machine (POSIX ``os.sysconf``; 8 GB where it is not available)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return 8 * 10**9


def parse_size(text: str | int | float, argument: str = "max_memory") -> int:
    """Bytes from a number of bytes or text with a unit: '500MB', '12 GB', '1.5GiB' (powers of 1000
    without 'i', of 1024 with it)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value, unit = float(text), ""
    else:
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*", str(text))
        if not match or match[2].upper() not in UNITS:
            raise ArgumentError(argument, f"expected a size such as '12GB', '500MB' or a number of bytes, got {text!r}")
        value, unit = float(match[1]), match[2].upper()
    size = value * UNITS[unit]
    if not math.isfinite(size) or size <= 0:
        raise ArgumentError(argument, f"expected a positive size such as '12GB', got {text!r}")
    return int(size)


def budget(max_memory: str | int | float | None = None) -> int:
    """The budget in bytes: `max_memory`, else `DEFAULT_FRACTION` of the physical RAM."""
    return int(DEFAULT_FRACTION * physical_memory()) if max_memory is None else parse_size(max_memory)


def format_bytes(n: float) -> str:
    """'31.2 GB', '640 MB', '12 kB' (powers of 1000, three significant digits)."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} B"


def check(argument: str, needed: float, max_memory: str | int | float | None = None, advice: str = "") -> None:
    """Refuse a run whose estimate `needed` (bytes) is above the budget; `argument` is what made it big."""
    limit = budget(max_memory)
    if needed > limit:
        default = "" if max_memory is not None else "; half the RAM by default"
        detail = (f"this run needs about {format_bytes(needed)} (estimate), above the memory budget of "
                  f"{format_bytes(limit)} (--max-memory, max_memory{default})")
        raise ArgumentError(argument, detail + (f"; {advice}" if advice else ""))


def parameter_count(layer_sizes: Sequence[int]) -> int:
    """Weights and biases of a dense network: sum of (fan_in + 1) * fan_out."""
    return sum((a + 1) * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))


def training(layer_sizes: Sequence[int], n_runs: int, n_rows: int, itemsize: int, recorded: int,
             ensemble: bool, threads: int | None = None) -> float:
    """Bytes of training `n_runs` networks of `layer_sizes` on batches of `n_rows` rows.

    Every network exists at once (run_compare builds them before training); each holds its
    parameters; an ensemble also keeps a stacked copy and two optimizer states per network and
    one set of activations per thread (forward values and pre-activations, two delta buffers);
    separate training keeps gradients, two optimizer states and the forward pass of one network.
    Each run records `recorded` costs."""
    params = parameter_count(layer_sizes)
    units, widest = sum(layer_sizes[1:]), max(layer_sizes[1:])
    per_network = params * itemsize + NETWORK_OVERHEAD
    if ensemble:
        threads = threads or os.cpu_count() or 1
        state = n_runs * params * itemsize * 3 + min(threads, n_runs) * n_rows * (2 * units + 2 * widest) * itemsize
    else:
        state = params * itemsize * 3 + n_rows * (3 * units + widest) * itemsize
    costs = n_runs * recorded * (8 + POINT_OVERHEAD)
    return n_runs * per_network + state + costs


def data(n_rows: int, n_features: int) -> float:
    """Bytes of a float64 data set held while it is loaded, split and standardized (about 4 copies)."""
    return 4.0 * n_rows * (n_features + 1) * 8


def forward_backward(layer_sizes: Sequence[int], n_rows: int, itemsize: int = 8) -> float:
    """Bytes of one recorded forward and backward pass (diagnose): per layer z, a, dz, its float64
    copies in the statistics, and the weights with their gradients."""
    return n_rows * sum(layer_sizes[1:]) * (3 * itemsize + 3 * 8) + parameter_count(layer_sizes) * (2 * itemsize + 16)


def tensor(n_elements: int, itemsize: int = 8, draw_itemsize: int = 8) -> float:
    """Bytes of drawing one tensor: the draw (float64, or float32 when drawn directly), one temporary of
    the law, and the cast to `itemsize`."""
    return n_elements * (2 * draw_itemsize + itemsize)
