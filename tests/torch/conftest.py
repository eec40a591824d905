"""Make `_initlab_torch_nets.py` importable: pytest runs with ``--import-mode=importlib``, which does
not put test directories on sys.path, and this directory is not a package. The name is unique."""

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
