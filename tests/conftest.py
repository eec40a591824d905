"""Set-up shared by every test folder.

Test helpers (`tests/**/_initlab_*.py`) are importable by name: pytest runs with
``--import-mode=importlib``, which does not put test folders on sys.path, and the folders are not
packages. The helpers' names are unique to these tests, so they shadow nothing.
"""

import contextlib
import json
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

for _folder in sorted({str(p.parent) for p in Path(__file__).resolve().parent.rglob("_initlab_*.py")}):
    if _folder not in sys.path:
        sys.path.insert(0, _folder)


@pytest.fixture
def single_threaded_linear_algebra():
    """One BLAS/OpenMP and one torch thread for the test (restored afterwards).

    On a small machine shared with other work, multithreaded OpenBLAS and torch spin on the small
    matrices these tests multiply (a (400, 250) QR took ~2 s instead of ~5 ms; 30 x 256 MLPs ran
    up to 10x slower); the numbers being tested do not depend on the thread count. Folders whose
    tests need it request it from an autouse fixture in their conftest.
    """
    try:
        from threadpoolctl import threadpool_limits
        blas = threadpool_limits(limits=1)
    except ImportError:  # threadpoolctl comes with scikit-learn; without it only speed suffers
        blas = contextlib.nullcontext()
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    with blas:
        if torch is not None:
            torch.set_num_threads(1)
        try:
            yield
        finally:
            if torch is not None:
                torch.set_num_threads(before)


class CliResult(NamedTuple):
    """What one `initlab` command gave: exit code, stdout, stderr."""

    code: int
    out: str
    err: str

    def json(self):
        """stdout as the one JSON document it must be (json.loads fails on anything else); exit code 0."""
        assert self.code == 0, self.err
        return json.loads(self.out)


class Cli:
    """Runs the `initlab` command in-process: ``cli("theory", "--json")`` calls ``initlab.cli.main``
    with the arguments as strings and returns a `CliResult` with what it printed."""

    def __init__(self, capsys):
        self.capsys = capsys

    def __call__(self, *argv) -> CliResult:
        from initlab.cli import main

        self.capsys.readouterr()  # drop anything printed before the command
        code = main([str(a) for a in argv])
        captured = self.capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    def json(self, *argv):
        """``initlab ARGV --json``: the parsed document (the command must succeed)."""
        return self(*argv, "--json").json()


@pytest.fixture
def cli(capsys) -> Cli:
    """`Cli`: run ``initlab ...`` in-process and get (code, out, err)."""
    return Cli(capsys)
