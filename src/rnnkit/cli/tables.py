"""The tables the CLI prints: aligned ``rich`` tables on stdout (``--json`` prints JSON
instead, untouched by this module).

Every cell is passed as :class:`rich.text.Text`, so a label holding ``[...]`` is printed as
it is, never read as rich markup. rich is imported inside the functions: it comes with
Typer, but `rnnkit --help` and ``import rnnkit`` need not load it for these.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

# Classes shown in a label distribution before the rest is summed up in one line.
TOP_CLASSES = 10
# Widest label column: longer labels are cut with an ellipsis (the report names them whole).
LABEL_WIDTH = 60


def _console():
    from rich.console import Console

    # Off a terminal (a pipe, a log, a test) rich would assume 80 columns and wrap.
    width = None if sys.stdout.isatty() else 200
    return Console(file=sys.stdout, highlight=False, soft_wrap=False, width=width)


def _table(headers: Sequence[str]):
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
    )
    for number, header in enumerate(headers):
        table.add_column(Text(header), justify="left" if number == 0 else "right")
    return table


def print_table(table: Any) -> None:
    """Prints a table built here on stdout."""
    _console().print(table)


def metrics_table(metrics: Mapping[str, Mapping[str, Any]], columns: Sequence[str]):
    """One row per method, one column per metric, numbers right-aligned.

    Example:
        >>> print_table(metrics_table({"model": {"mae": 1.5}, "naive": {"mae": 2.25}}, ["mae"]))
        method    mae
        ─────────────
        model     1.5
        naive    2.25
    """
    from rich.text import Text

    from rnnkit.core.report import format_number

    table = _table(["method", *columns])
    for name, values in metrics.items():
        table.add_row(Text(name), *(Text(format_number(values.get(c))) for c in columns))
    return table


def print_metrics(
    metrics: Mapping[str, Mapping[str, Any]], columns: Sequence[str], title: str | None = None
) -> None:
    """Prints :func:`metrics_table`, after ``title`` on a line of its own (a rich title
    would be wrapped to the table's width)."""
    if title is not None:
        print(title, flush=True)
    print_table(metrics_table(metrics, columns))


def distribution_table(rows: Sequence[Mapping[str, Any]], top: int = TOP_CLASSES):
    """Texts per class in the train, validation and test parts, the largest classes first;
    beyond ``top`` classes the rest are summed up in one last row ("and 67 more").

    Example:
        >>> rows = [{"label": name, "train": n, "validation": 1, "test": 1}
        ...         for name, n in (("loans", 9), ("cards", 5), ("fees", 2))]
        >>> print_table(distribution_table(rows, top=1))
        label        train   val   test
        ───────────────────────────────
        loans            9     1      1
        and 2 more       7     2      2
    """
    from rich.text import Text

    ordered = sorted(rows, key=lambda r: -(r["train"] + r["validation"] + r["test"]))
    table = _table(["label", "train", "val", "test"])
    table.columns[0].max_width = LABEL_WIDTH
    table.columns[0].overflow = "ellipsis"
    table.columns[0].no_wrap = True
    # Summing up a single class saves no line: show it instead.
    shown = ordered if len(ordered) <= top + 1 else ordered[:top]
    for r in shown:
        table.add_row(Text(r["label"]), *(Text(str(r[k])) for k in ("train", "validation", "test")))
    rest = ordered[len(shown) :]
    if rest:
        sums = [sum(r[k] for r in rest) for k in ("train", "validation", "test")]
        table.add_row(Text(f"and {len(rest)} more", style="italic"), *(Text(str(n)) for n in sums))
    return table


def frame_table(frame: Any):
    """A DataFrame's rows under its column names, the first column left-aligned and the
    others right-aligned; floats as the reports write them.

    Example:
        >>> import pandas as pd
        >>> print_table(frame_table(pd.DataFrame({"cell": ["gru"], "ratio": [0.1234567]})))
        cell    ratio
        ─────────────
        gru    0.1235
    """
    from rich.text import Text

    from rnnkit.core.report import format_number

    table = _table([str(c) for c in frame.columns])
    for row in frame.itertuples(index=False):
        table.add_row(*(Text(format_number(v) if isinstance(v, float) else str(v)) for v in row))
    return table
