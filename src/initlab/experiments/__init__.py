"""Experiments: compare schemes over many seeds on the same data and network.

Attributes are imported on first use (`initlab._lazy`): the CLI reads `presets` for its help text
without importing the training code.
"""

from initlab._lazy import lazy_attributes

_EXPORTS = {
    "compare": ("CompareResult", "Dataset", "Run", "load_dataset", "run_compare"),
    "config": ("SOURCE_SCHEMES", "CompareConfig"),
    "presets": ("PRESETS", "preset", "resolve"),
}
__getattr__ = lazy_attributes(__name__, _EXPORTS)
__all__ = sorted(name for names in _EXPORTS.values() for name in names)
