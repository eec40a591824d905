"""`initlab --help` and a refused input start fast: importing the CLI imports no heavy library."""

import subprocess
import sys

import pytest

HEAVY = ("scipy", "sklearn", "matplotlib", "numba", "dask", "distributed", "torch", "PIL", "pandas", "pyarrow")


def _modules_after(code: str) -> set[str]:
    script = f"import sys\n{code}\nprint('MODULES', *sorted(sys.modules))"  # after any help text
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    modules = done.stdout.rsplit("MODULES", 1)[1].split()
    return {name.split(".")[0] for name in modules}


def test_importing_the_cli_imports_no_heavy_library():
    assert _modules_after("import initlab.cli").isdisjoint(HEAVY)


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["compare", "--help"], ["diagnose", "--help"],
                                  ["sweep", "run", "--help"], ["theory", "phase", "--help"],
                                  ["compare", "--hidden", "10,-5"], ["sample", "he_norml"],
                                  ["diagnose", "--n-samples", "0"], ["train", "--lr", "nan"]])
def test_help_and_refused_input_import_no_heavy_library(argv):
    loaded = _modules_after(f"from initlab.cli import main\ncode = main({argv!r})\nassert code in (0, 2), code")
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
