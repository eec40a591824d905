"""The command outputs README.md and docs/*.md show are what the commands print today (`make docs` rewrites them)."""

import doctest
import functools
import importlib.util
import re
import shlex
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
_spec = importlib.util.spec_from_file_location("docs_regenerate", ROOT / "docs" / "regenerate.py")
regenerate = sys.modules.setdefault("docs_regenerate", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(regenerate)

BLOCKS = regenerate.all_blocks()
CHECKED = [pytest.param(block, id=block.name, marks=[pytest.mark.slow] if block.slow or block.seconds else [])
           for block in BLOCKS if not block.timing]


@functools.cache
def printed(command: str) -> list[str]:
    """Each command runs once per test session, however many blocks show it."""
    return regenerate.output(command)


LONG_FLOAT = re.compile(r"-?\d+\.\d{9,}(?:e[-+]?\d+)?")


def rounded(text: str) -> str:
    """`text` with full-precision floats (JSON's 17 digits) cut to 10 significant digits: the last
    digits of a float that went through scipy or BLAS differ between builds of the same versions."""
    return LONG_FLOAT.sub(lambda m: format(float(m.group()), ".10g"), text)


@pytest.mark.parametrize("block", CHECKED)
def test_shown_output_is_what_the_command_prints_now(block, request):
    # The slow blocks (minutes in all: presets, sweeps, torch models) run only when asked for by name.
    if block.slow and "slow" not in request.config.getoption("markexpr", "").replace("not slow", ""):
        pytest.skip("a slow docs block: check it with pytest -m slow tests/test_readme_outputs.py")
    fresh = regenerate.render(block, regenerate.run(block, None if "fresh" in block.options else printed))
    assert rounded(fresh) == rounded(block.body), f"{block.name}: the shown output is stale; run `make docs`"


def test_every_output_marker_is_closed_and_filled():
    for path in regenerate.documents():
        text = path.read_text()
        opened = len(re.findall(r"^<!-- output", text, flags=re.M))
        closed = len(re.findall(r"^<!-- /output -->", text, flags=re.M))
        assert opened == closed == len(regenerate.blocks(path)), path.name
    for block in BLOCKS:
        assert block.body.startswith(f"```console\n$ {block.command}\n"), f"{block.name}: run `make docs`"


def test_the_readme_shows_fast_blocks_and_the_demo_table():
    readme = [block for block in BLOCKS if block.path.name == "README.md"]
    assert readme[0].command == "initlab compare --preset demo --out runs/demo"
    assert len([block for block in BLOCKS if not block.slow and not block.timing]) >= 8


def test_shown_commands_write_under_runs_not_the_repository():
    for block in BLOCKS:
        words = shlex.split(block.command)
        for flag, value in zip(words, words[1:]):
            if flag in ("--out", "--store"):
                assert value.startswith("runs/"), f"{block.name}: {flag} {value}"
    for path in regenerate.documents():
        for flag, value in re.findall(r"(--out|--store) (\S+)", path.read_text()):
            assert value.startswith(("runs/", "DIR", "PATH")), f"{path.name}: {flag} {value}"


def test_sources_are_named_as_readers_know_them():
    for path in regenerate.documents():
        text = path.read_text().lower()
        for vague in ("the notes", "source notes", "source documents", "seed-001"):
            assert vague not in text, f"{path.name} says {vague!r}"


def test_readme_links_point_at_files_that_exist():
    for path in regenerate.documents():
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", path.read_text()):
            if not target.startswith("http"):
                assert (path.parent / target).exists(), f"{path.name} links to missing {target}"


def test_rounding_keeps_everything_but_the_last_digits_of_long_floats():
    assert rounded('"chi_1": 1.1335156987042903, "n": 3, "q": 0.25') == '"chi_1": 1.133515699, "n": 3, "q": 0.25'
    assert rounded("1.1335156987042903") != rounded("1.1335157987042903")


def test_line_selection_and_rendering_examples_hold():
    assert doctest.testmod(regenerate).failed == 0
