"""The summary table of runs: for each scheme (compare) or grid point (sweep), the final cost and
the accuracies as mean ± std and median [min, max] over the seeds, the same rows and texts as
--json and report.html (`initlab.summary`)."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from initlab.cli.output import new_table, show, table_console


def summary_table(title: str, rows: list[dict], width: int | None = None,
                  first: str = "scheme") -> tuple[Table | Text, list[str]]:
    """The table of a compare (a row per scheme) or a sweep (a row per grid point): per row a line with
    its label and seeds, then one line per quantity (final
    cost, train and test accuracy) with mean ± std and median [min, max] (`initlab.summary`: the same
    rows and texts as --json and report.html). Names too long for `width` (the table console's) become
    [1], [2], ... and the legend lines ('[1] = name', printed whole after the table) are returned with
    it; when even that does not fit, each scheme is a block of short lines (a Text). A name or number
    is never cut."""
    from initlab.summary import (MEAN_STD, MEDIAN_RANGE, NAMES, mean_std_text, median_range_text, row_quantities,
                                 seeds_text)
    width = table_console().width if width is None else width
    seeds = [seeds_text(r) for r in rows]
    texts = [[(mean_std_text(r, q), median_range_text(r, q)) for q in row_quantities(r)] for r in rows]
    others = (max(map(len, [*seeds, "seeds"])) + max(len(a) for t in texts for a, _ in t + [(MEAN_STD, "")])
              + max(len(b) for t in texts for _, b in t + [("", MEDIAN_RANGE)]))
    labels = max(len(f"  {NAMES[q]}") for r in rows or [{}] for q in row_quantities(r))
    room = width - others - 3 * 4 - 1  # 4 bordered columns, padded 1 each side
    if room < max(labels, 3):
        return _summary_blocks(title, rows, texts), []
    long = dict.fromkeys(r["label"] for r in rows if len(r["label"]) > room)
    keys = {label: f"[{k}]" for k, label in enumerate(long, 1)}
    legend = [f"{key} = {label}" for label, key in keys.items()]
    caption = f"{MEAN_STD} and {MEDIAN_RANGE} over the seeds; final cost of the seeds that did not diverge"
    table = new_table((first, "seeds", MEAN_STD, MEDIAN_RANGE), title=escape(title), left=(first,),
                      caption=escape(caption))
    for row, seed, cells in zip(rows, seeds, texts):
        table.add_row(escape(keys.get(row["label"], row["label"])), seed, "", "")
        quantities = row_quantities(row)
        for k, (quantity, (mean_std, median_range)) in enumerate(zip(quantities, cells)):
            table.add_row(f"  {NAMES[quantity]}", "", escape(mean_std), escape(median_range),
                          end_section=k == len(quantities) - 1)
    return table, legend


def _summary_blocks(title: str, rows: list[dict], texts: list) -> Text:
    """The summary for a terminal too narrow for its table: per row, its name and seeds, then per
    quantity one line for mean ± std and one for median [min, max]."""
    from initlab.summary import MEAN_STD, MEDIAN_RANGE, NAMES, row_quantities
    text = Text(f"{title}\n", style="italic")
    for row, cells in zip(rows, texts):
        diverged = f", {row['n_diverged']} diverged" if row["n_diverged"] else ""
        reached = f", {row['n_reached']} reached" if "n_reached" in row else ""
        text.append(f"{row['label']} ({row['n_seeds']} seeds{diverged}{reached})\n", style="bold")
        for quantity, (mean_std, median_range) in zip(row_quantities(row), cells):
            text.append(f"  {NAMES[quantity]}\n    {MEAN_STD}: {mean_std}\n    {MEDIAN_RANGE}: {median_range}\n")
    return text


def print_summary(title: str, rows: list[dict], first: str = "scheme") -> None:
    """`summary_table` by the CLI's width rule (`initlab.cli.output`); `first` heads the label column."""
    shown, legend = summary_table(title, rows, first=first)
    if isinstance(shown, Text):
        table_console().print(shown, soft_wrap=True)
    else:
        show(shown)
    for line in legend:
        table_console().print(escape(line), soft_wrap=True)
