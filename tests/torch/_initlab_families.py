"""The model families of examples/families.py under the name the tests import (the README's commands name
them examples.families:NAME; one module, so the tests check what the README runs)."""

from examples.families import *  # noqa: F401,F403
from examples.families import FAMILIES, PLANTED  # noqa: F401  (named: the tests' main entry points)
