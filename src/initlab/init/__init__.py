"""Initializers: exact schemes, fans, gains, spec strings and the registry.

>>> from initlab.init import initializer
>>> w = initializer("normal(std=0.01)")((2, 3), rng=0)
>>> w.shape, w.dtype.name
((2, 3), 'float64')
"""

from initlab.init import schemes as _schemes  # noqa: F401  (registers every scheme)
from initlab.init.fans import LAYOUTS, FanAxes, Fans, fans
from initlab.init.gains import gain
from initlab.init.initializer import Initializer, check_dtype
from initlab.init.registry import SCHEMES, Scheme, canonical, initializer, lookup
from initlab.init.spec import Spec, parse

__all__ = ["LAYOUTS", "SCHEMES", "FanAxes", "Fans", "Initializer", "Scheme", "Spec", "canonical", "check_dtype",
           "fans", "gain", "initializer", "lookup", "parse"]
