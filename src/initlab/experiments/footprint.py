"""The memory a comparison will need, checked against the budget before data or networks exist.

`check_data` runs before the data is generated (a generated set's size is known from its spec);
`check_runs` after it is loaded and before any network is built. Both raise the ValueError of
`initlab.memory.check`, naming the option that made the run large.
"""

from __future__ import annotations

import math

from initlab import memory
from initlab.data.loader import generated_features
from initlab.experiments.config import CompareConfig
from initlab.nn.steps import MAX_SAMPLE_SPACE_ROWS


def check_data(config: CompareConfig, max_memory=None) -> None:
    """Refuse a generated data set larger than the budget (before generating it)."""
    rows = config.n_samples * (2 if config.test_data else 1)
    widths = [generated_features(spec) for spec in (config.data, config.test_data) if spec]
    if widths and all(w is not None for w in widths):
        memory.check("n_samples", memory.data(rows, max(widths)), max_memory,
                     f"{rows:,} rows of {max(widths)} features; use fewer samples")


def needed(config: CompareConfig, layer_sizes: list[int], n_train: int, n_test: int, n_runs: int) -> float:
    """Bytes of training `n_runs` networks of `layer_sizes` with `config` on the loaded data."""
    itemsize = 8 if config.dtype == "float64" else 4
    full_batch = config.batch_size is None or config.batch_size >= n_train
    sample_space = (2 * n_train <= layer_sizes[0] and n_train <= MAX_SAMPLE_SPACE_ROWS and full_batch
                    and config.optimizer in ("gd", "momentum"))
    rows = n_train if full_batch else config.batch_size
    recorded = math.ceil(config.iterations / config.record_interval) + 2
    total = memory.training(layer_sizes, n_runs, max(rows, n_test), itemsize, recorded,
                            ensemble=full_batch and not sample_space)
    if sample_space:  # first layer carried as (n_train, width) coefficients, velocity and delta
        total += 3 * n_train * layer_sizes[1] * itemsize
    return total + memory.data(n_train + n_test, layer_sizes[0])


def check_runs(config: CompareConfig, layer_sizes: list[int], n_train: int, n_test: int, n_runs: int,
               max_memory=None) -> None:
    """Refuse `n_runs` trainings that need more than the budget; blame the seeds when one run fits."""
    total = needed(config, layer_sizes, n_train, n_test, n_runs)
    limit = memory.budget(max_memory)
    if total <= limit:
        return
    one = needed(config, layer_sizes, n_train, n_test, 1)
    if one <= limit:
        each = (total - needed(config, layer_sizes, n_train, n_test, 0)) / n_runs
        memory.check("seeds", total, max_memory, f"{n_runs:,} runs (schemes x seeds) of about "
                     f"{memory.format_bytes(each)} each; use fewer seeds or schemes")
    recorded = math.ceil(config.iterations / config.record_interval) + 2
    if recorded * memory.POINT_OVERHEAD > one / 2:
        memory.check("record_every", total, max_memory, f"{recorded:,} recorded costs per run; "
                     "record fewer points (a larger record_every) or run fewer iterations")
    memory.check("hidden", total, max_memory, f"layers {layer_sizes} on {n_train:,} rows; "
                 "use fewer or narrower layers (or fewer samples)")
