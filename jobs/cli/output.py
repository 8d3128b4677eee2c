"""Output shared by every command: one --format option, and table / JSON lines / CSV writers.

Every value printed here is hostile text from a marketplace: tables show it as plain text (never
as rich markup or links) with escapes and control characters removed, and CSV cells that a
spreadsheet would run as formulas are quoted (``jobs.text``). Output that is not a terminal (a
pipe, a file, a log) is never wrapped: tables there are as wide as their longest cell.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import click

from gpuscout.jobs.text import csv_cell, terminal_text

F = TypeVar("F", bound=Callable[..., Any])
FORMATS = ("table", "json", "csv")
_MEANING = {"table": "table for reading", "json": "json (one object per line)", "csv": "csv",
            "toml": "toml"}


def format_option(default: str = "table", choices: Sequence[str] = FORMATS) -> Callable[[F], F]:
    """The one --format option; its help names exactly the formats the command accepts."""
    kinds = [_MEANING[c] for c in choices]
    return click.option(
        "--format", "fmt", type=click.Choice(list(choices)), default=default, show_default=True,
        help=f"Output: {', '.join(kinds[:-1])} or {kinds[-1]}.",
    )


def jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def console(*, stderr: bool = False) -> Any:
    """A rich Console: the terminal's width on a terminal, unlimited elsewhere (no wrapping)."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return Console(file=stream, highlight=False)
    return Console(file=stream, width=100_000, highlight=False, no_color=True)


def emit(rows: Sequence[dict[str, Any]], fmt: str, columns: Sequence[str], *,
         title: str | None = None, table_columns: Sequence[str] | None = None) -> None:
    """Print ``rows`` as a table, JSON lines, or CSV (all keys in ``columns`` order)."""
    if fmt == "json":
        out = sys.stdout
        for row in rows:
            out.write(json.dumps(jsonable(row), ensure_ascii=False) + "\n")
        return
    if fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: csv_value(row.get(k)) for k in columns})
        return
    from rich.table import Table
    from rich.text import Text

    con = console()
    wrap = con.is_terminal
    if title and not wrap:
        con.print(Text(terminal_text(title)))
    table = Table(title=Text(terminal_text(title)) if title and wrap else None, show_lines=False)
    shown = list(table_columns or columns)
    for col in shown:
        table.add_column(col.replace("_", " "), overflow="fold" if wrap else "ignore",
                         no_wrap=not wrap)
    for row in rows:
        # NOTE: Text, never a str: a str would be parsed as rich markup ("[/bold]" raises,
        # "[link=…]" makes a link)
        table.add_row(*[Text(terminal_text(cell(row.get(c)))) for c in shown])
    con.print(table)


def cell(value: Any) -> str:
    """A value as a table shows it."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return str(value)


def csv_value(value: Any) -> Any:
    """A value as a CSV cell: numbers as numbers, text safe from formula injection."""
    if isinstance(value, bool) or value is None:
        return cell(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, Decimal):
        return cell(value)
    return csv_cell(cell(value))
