"""Output shared by every command: one --format option, and table / JSON lines / CSV writers."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])
FORMATS = ("table", "json", "csv")


def format_option(default: str = "table", choices: Sequence[str] = FORMATS) -> Callable[[F], F]:
    """The one --format option (table for people, json lines or csv for scripts)."""
    return click.option(
        "--format", "fmt", type=click.Choice(list(choices)), default=default, show_default=True,
        help="table for reading; json (one object per line) or csv for scripts.",
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


def emit(rows: Sequence[dict[str, Any]], fmt: str, columns: Sequence[str], *,
         title: str | None = None, table_columns: Sequence[str] | None = None) -> None:
    """Print ``rows`` as a rich table, JSON lines, or CSV (all keys in ``columns`` order)."""
    if fmt == "json":
        out = sys.stdout
        for row in rows:
            out.write(json.dumps(jsonable(row), ensure_ascii=False) + "\n")
        return
    if fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(row.get(k)) for k in columns})
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    shown = list(table_columns or columns)
    for col in shown:
        table.add_column(col.replace("_", " "), overflow="fold")
    for row in rows:
        table.add_row(*[_cell(row.get(c)) for c in shown])
    Console().print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return str(value)
