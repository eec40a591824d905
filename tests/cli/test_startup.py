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
                                  ["diagnose", "--n-samples", "0"], ["train", "--lr", "nan"],
                                  ["sweep", "run", "missing.toml", "--store", "x.db"], ["sweep", "plan", "missing.toml"]])
@pytest.mark.slow
def test_help_and_refused_input_import_no_heavy_library(argv):
    loaded = _modules_after(f"from initlab.cli import main\ncode = main({argv!r})\nassert code in (0, 2), code")
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def _first_paragraph(text: str) -> str:
    return " ".join(text.strip().split("\n\n")[0].split())


def test_root_help_lines_are_the_commands_own_first_lines():
    """`initlab --help` lists commands from a table (so it imports none of them): the table's line
    must open each command's own help."""
    import importlib

    import typer

    from initlab.cli.main import COMMANDS
    for name, (module, attribute, line) in COMMANDS.items():
        target = getattr(importlib.import_module(f"initlab.cli.{module}"), attribute)
        own = target.info.help if isinstance(target, typer.Typer) else target.__doc__
        assert _first_paragraph(own).startswith(line.rstrip(".")), name


@pytest.mark.parametrize("argv", [["--help"], ["--version"], []])
def test_root_help_and_version_do_not_even_import_numpy(argv):
    loaded = _modules_after(f"from initlab.cli import main\ncode = main({argv!r})\nassert code in (0, 2), code")
    assert "numpy" not in loaded and "initlab" in loaded
