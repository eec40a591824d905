"""Everything the CLI prints: the stderr console, tables that fit the width, progress bars, JSON.

Human-readable output goes to stderr; `--json` prints exactly one JSON document on stdout.

Width rule for tables: a terminal's own width; when stderr is not a terminal (a pipe, a file, a CI
log) the width is $COLUMNS if set, else 160. A table wider than that first leaves out its optional
columns (and says which), then, if it still does not fit, prints each row as a block of
`column: value` lines. Names and numbers are never cut or split across lines.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable

from rich.console import Console
from rich.cells import cell_len
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

PIPE_WIDTH = 160  # the width of tables written to a pipe or file when $COLUMNS is not set

err = Console(stderr=True)


def emit_json(document: dict) -> None:
    sys.stdout.write(json.dumps(document, allow_nan=False) + "\n")


def table_console() -> Console:
    """The console tables are printed on: the terminal's width, or the pipe width rule above."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit():  # read at each call, not once at import
        return Console(stderr=True, width=int(columns))
    return err if err.is_terminal else Console(stderr=True, width=PIPE_WIDTH)


def new_table(columns: Iterable[str], *, title: str | None = None, caption: str | None = None,
              left: Iterable[str] = (), wrap: Iterable[str] = ()) -> Table:
    """A table whose cells are never cut or split: columns in `wrap` may break between words only,
    the others never wrap. Columns are right-aligned (numbers) except those in `left`."""
    left, wrap = set(left), set(wrap)
    table = Table(title=title, caption=caption)
    for column in columns:  # a header may wrap between its words, whatever its cells do
        table.add_column(Text(column, no_wrap=False), justify="left" if column in left else "right",
                         no_wrap=column not in wrap, overflow="fold" if column in wrap else "ellipsis")
    return table


def _cell_width(cell, whole: bool) -> int:
    """Columns a cell needs: all of it when it may not wrap, else its longest word."""
    plain = Text.from_markup(cell).plain if isinstance(cell, str) else getattr(cell, "plain", str(cell))
    lines = plain.splitlines() or [""]
    if whole:
        return max(cell_len(line) for line in lines)
    return max((cell_len(word) for line in lines for word in line.split()), default=0)


def _column_need(column, whole_header: bool) -> int:
    header = _cell_width(column.header, whole=whole_header)
    return max([header, *(_cell_width(cell, whole=column.no_wrap) for cell in column._cells)])


def _fits(console: Console, table: Table) -> bool:
    """Whether `table` fits the width with no cell cut or split inside a word, pinning its column
    widths so that Rich lays it out that way: Rich's own layout measures only the longest word of
    a cell, also in columns that must not wrap, and shrinks every column alike when short of room."""
    def total(needs):  # padding of 1 each side, vertical borders
        return sum(needs) + 3 * len(needs) + 1

    needs = [_column_need(column, whole_header=True) for column in table.columns]
    if total(needs) > console.width:  # headers wrap between words before anything else gives way
        needs = [_column_need(column, whole_header=False) for column in table.columns]
    for column, need in zip(table.columns, needs):
        column.header = Text(_header(column), no_wrap=False)  # headers may wrap, whatever the cells do
        if column.no_wrap:
            column.width = need
        else:
            column.min_width = need
    return total(needs) <= console.width


def _without(table: Table, names: set[str]) -> Table:
    slim = Table(title=table.title, caption=table.caption)
    keep = [c for c in table.columns if _header(c) not in names]
    for column in keep:
        slim.add_column(column.header, justify=column.justify, no_wrap=column.no_wrap, overflow=column.overflow)
    for row_index, row in enumerate(table.rows):
        slim.add_row(*(column._cells[row_index] for column in keep), style=row.style)
    return slim


def _header(column) -> str:
    return getattr(column.header, "plain", str(column.header))


def _text(cell) -> Text:
    return Text.from_markup(cell) if isinstance(cell, str) else Text(str(getattr(cell, "plain", cell)))


def stacked(table: Table) -> Text:
    """Each row as a block: the first cell on its own line, then `column: value` lines."""
    text = Text()
    if table.title:
        text.append(f"{table.title}\n", style="italic")
    first, *others = table.columns
    for row_index, row in enumerate(table.rows):
        block = Text()
        block.append_text(_text(first._cells[row_index]))
        block.append("\n")
        for column in others:
            label = f"  {_header(column)}: "
            block.append(label)
            cell = _text(column._cells[row_index])  # a cell's later lines line up under its first
            for k, line in enumerate(cell.split("\n")):
                block.append_text(line if k == 0 else Text(" " * len(label)) + line)
                block.append("\n")
        if row.style:
            block.stylize(row.style)
        text.append_text(block)
    if table.caption:
        caption = _text(table.caption)
        caption.stylize("dim")
        text.append_text(caption + "\n")
    return text


def show(table: Table, optional: Iterable[str] = ()) -> None:
    """Print `table` by the width rule in the module docstring; `optional` columns are left out in
    the order given, as few as needed."""
    console = table_console()
    present = {_header(c) for c in table.columns}
    optional = [name for name in optional if name in present]
    for count in range(len(optional) + 1):
        slim = _without(table, set(optional[:count])) if count else table
        if _fits(console, slim):
            console.print(slim)
            if count:
                console.print(f"(narrow terminal: left out {', '.join(optional[:count])}; --json has every "
                              "column)", style="dim")
            return
    console.print(stacked(table), soft_wrap=True)


def progress_bar() -> Progress:
    """A transient progress bar on stderr, drawn only when stderr is a terminal."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    return Progress(*columns, console=err, transient=True, disable=not err.is_terminal)
