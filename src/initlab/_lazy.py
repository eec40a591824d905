"""Lazy package attributes (PEP 562): `from initlab.experiments import run_compare` imports the
submodule that defines it only when asked, so importing one light submodule of a package (as the
CLI does for its help texts) does not import the heavy ones beside it."""

from __future__ import annotations

import importlib


def lazy_attributes(package: str, exports: dict[str, tuple[str, ...]]):
    """A module `__getattr__` for `package`: `exports` maps each submodule to the names it provides."""
    where = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str):
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{where[name]}"), name)

    return __getattr__
