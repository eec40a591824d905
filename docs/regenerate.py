"""Rerun every command whose output README.md and docs/*.md show, and write the fresh output in.

A shown output sits between two markers; everything between them is rewritten:

    <!-- output: initlab sample he_normal --shape 400,25 -->
    ```console
    $ initlab sample he_normal --shape 400,25
    (what the command printed, stdout and stderr as one stream)
    ```
    <!-- /output -->

Options go in parentheses before the colon, separated by spaces:
``<!-- output (slow lines=1-8,35-): initlab diagnose ... -->``

- ``slow``: takes long (more than a few seconds); tests/test_readme_outputs.py checks it only
  under ``pytest -m slow``.
- ``seconds``: takes a few seconds; checked by ``make test`` but left out of ``make test-fast``
  (the test is marked slow).
- ``timing``: the output is a time measured on this machine (benchmarks); rerun only with
  ``--timings`` (``make timings``), never compared by the test.
- ``lines=A-B,C-``: show only these 1-based line ranges of the output; each left-out stretch
  becomes one line ``...``.
- ``head=N from=WORD``: show the first N lines (default none) and everything from the first line
  that starts with WORD (e.g. ``from=verdict:``); the stretch between becomes ``...``.
- ``table``: the command prints a Markdown table (lines starting with ``|``): the table is written
  as Markdown after the console block, which keeps the command and the other lines.
- ``fresh=PATH``: delete PATH (a file with its SQLite ``-wal``/``-shm`` side files, or a folder)
  before running, so the command starts from nothing (e.g. a sweep store).

Commands run from the repository root with ``.venv/bin`` (this interpreter's folder) first on PATH,
a fixed terminal width (COLUMNS=100) and no terminal (so no colours or progress bars), in the
order they appear: README.md first, then docs/*.md by name.

    python docs/regenerate.py              # every block but the timings (make docs)
    python docs/regenerate.py --fast       # skip blocks marked slow as well
    python docs/regenerate.py --timings    # only the timing blocks (make timings)
    python docs/regenerate.py --match diagnose README.md   # only blocks whose command contains 'diagnose'
    python docs/regenerate.py --check      # rewrite nothing; list blocks that differ (exit 1)
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = 100
MARKER = re.compile(
    r"<!-- output(?: \((?P<options>[^)]*)\))?: (?P<command>.+?) -->\n(?P<body>.*?)<!-- /output -->",
    flags=re.S)


@dataclass(frozen=True)
class Block:
    """One marked output: its file, the command, its options and the text now between the markers."""

    path: Path
    command: str
    body: str
    options: dict = field(default_factory=dict)

    @property
    def slow(self) -> bool:
        return "slow" in self.options

    @property
    def seconds(self) -> bool:
        return "seconds" in self.options

    @property
    def timing(self) -> bool:
        return "timing" in self.options

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(ROOT)}: {self.command}"


def documents() -> list[Path]:
    """README.md, then the docs pages by name."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _options(text: str | None) -> dict:
    options = {}
    for item in (text or "").split():
        key, _, value = item.partition("=")
        if key not in ("slow", "seconds", "timing", "table", "lines", "head", "from", "fresh"):
            raise ValueError(f"output marker: unknown option {key!r}, expected slow, seconds, timing, table, lines=, "
                             "head=, from=, fresh=")
        options[key] = value
    return options


def blocks(path: Path) -> list[Block]:
    text = path.read_text()
    return [Block(path, m["command"], m["body"], _options(m["options"])) for m in MARKER.finditer(text)]


def all_blocks() -> list[Block]:
    return [block for path in documents() for block in blocks(path)]


def environment() -> dict:
    """The environment the commands see: this venv first on PATH, a fixed width, no terminal features."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(COLUMNS=str(COLUMNS), LINES="50", TERM="dumb", NO_COLOR="1", PYTHONIOENCODING="utf-8")
    env.pop("FORCE_COLOR", None)
    return env


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    for side in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        side.unlink(missing_ok=True)


def run(block: Block, printed=None) -> str:
    """The command's output (stdout and stderr as one stream), cut to the block's ``lines``.

    `printed` (a function of the command returning its lines) replaces running it, e.g. a cache.
    """
    if "fresh" in block.options:
        _remove(ROOT / block.options["fresh"])
    lines = (printed or output)(block.command)
    return "\n".join(select(lines, line_spec(lines, block.options)))


def output(command: str) -> list[str]:
    """What `command` prints, stdout and stderr as one stream, without trailing spaces."""
    words = shlex.split(command)
    if words[0] == "python":
        words[0] = sys.executable
    done = subprocess.run(words, cwd=ROOT, env=environment(), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=3600)
    return [line.rstrip() for line in done.stdout.rstrip("\n").splitlines()]


@functools.cache
def cached_output(command: str) -> list[str]:
    """`output`, run once per command when several blocks show the same one."""
    return output(command)


def line_spec(lines: list[str], options: dict) -> str | None:
    """The ``lines`` option, or the ranges that ``head`` and ``from`` stand for.

    >>> line_spec(["a", "b", "verdict: ok", "c"], {"head": "1", "from": "verdict:"})
    '1-1,3-'
    """
    if "lines" in options or not ({"head", "from"} & set(options)):
        return options.get("lines")
    ranges = [f"1-{options['head']}"] if int(options.get("head", 0)) > 0 else []
    if "from" in options:
        starts = [i for i, line in enumerate(lines, 1) if line.startswith(options["from"])]
        ranges.append(f"{starts[0] if starts else len(lines) + 1}-")
    return ",".join(ranges)


def select(lines: list[str], spec: str | None) -> list[str]:
    """Keep the 1-based line ranges of `spec` ("1-8,35-"); each left-out stretch becomes '...'.

    >>> select(list("abcdef"), "1-2,5-")
    ['a', 'b', '...', 'e', 'f']
    >>> select(list("abc"), None)
    ['a', 'b', 'c']
    """
    if not spec:
        return lines
    keep = set()
    for part in spec.split(","):
        start, _, end = part.partition("-")
        last = int(end) if end else len(lines) if "-" in part else int(start)
        keep.update(range(int(start) - 1, min(last, len(lines))))
    shown, skipping = [], False
    for index, line in enumerate(lines):
        if index in keep:
            shown.append(line)
            skipping = False
        elif not skipping:
            shown.append("...")
            skipping = True
    return shown


def render(block: Block, output: str) -> str:
    """The text between the markers: a console block with the command and its output.

    >>> print(render(Block(ROOT, "cmd", "", {"table": ""}), "note\\n| a |\\n|---|"), end="")
    ```console
    $ cmd
    note
    ```
    <BLANKLINE>
    | a |
    |---|
    """
    if "table" in block.options:
        lines = output.splitlines()
        table = "\n".join(line for line in lines if line.startswith("|"))
        rest = "".join(f"{line}\n" for line in lines if not line.startswith("|") and line.strip())
        return f"```console\n$ {block.command}\n{rest}```\n\n{table}\n"
    return f"```console\n$ {block.command}\n{output}\n```\n"


def wanted(block: Block, *, fast: bool = False, timings: bool = False, match: str = "") -> bool:
    """Whether a run of the script with these flags reruns `block`."""
    return block.timing == timings and not (fast and block.slow) and match in block.command


def regenerate(path: Path, *, fast: bool = False, timings: bool = False, match: str = "",
               check: bool = False) -> list[str]:
    """Rerun the blocks of one file and rewrite them (unless `check`); the names of blocks that changed."""
    text = path.read_text()
    changed = []

    def fresh(found: re.Match) -> str:
        block = Block(path, found["command"], found["body"], _options(found["options"]))
        if not wanted(block, fast=fast, timings=timings, match=match):
            return found[0]
        started = time.perf_counter()
        body = render(block, run(block, None if "fresh" in block.options else cached_output))
        print(f"{time.perf_counter() - started:6.1f} s  {block.name}", file=sys.stderr)
        if body != block.body:
            changed.append(block.name)
        head = found[0][:found.start("body") - found.start()]
        return f"{head}{body}<!-- /output -->"

    new = MARKER.sub(fresh, text)
    if not check and new != text:
        path.write_text(new)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fast", action="store_true", help="skip blocks marked slow")
    parser.add_argument("--timings", action="store_true", help="only the blocks marked timing")
    parser.add_argument("--match", default="", metavar="TEXT", help="only blocks whose command contains TEXT")
    parser.add_argument("--check", action="store_true", help="rewrite nothing; exit 1 if a block differs")
    parser.add_argument("files", nargs="*", type=Path, help="files to regenerate (default: README.md, docs/*.md)")
    args = parser.parse_args(argv)
    (ROOT / "runs").mkdir(exist_ok=True)  # a store's folder must exist; compare creates its own
    changed = []
    for path in [p.resolve() for p in args.files] or documents():
        changed += regenerate(path, fast=args.fast, timings=args.timings, match=args.match,
                              check=args.check)
    for name in changed:
        print(f"{'differs' if args.check else 'rewrote'}: {name}", file=sys.stderr)
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
