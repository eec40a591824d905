"""Experiments: compare schemes over many seeds on the same data and network."""

from initlab.experiments.compare import CompareResult, Dataset, Run, load_dataset, run_compare
from initlab.experiments.config import SOURCE_SCHEMES, CompareConfig
from initlab.experiments.presets import PRESETS, preset, resolve

__all__ = ["PRESETS", "SOURCE_SCHEMES", "CompareConfig", "CompareResult", "Dataset", "Run", "load_dataset",
           "preset", "resolve", "run_compare"]
