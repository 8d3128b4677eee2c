"""`gpuscout market`: a watch's market week by week, as a table, JSON or CSV, and as a chart in
the terminal, a PNG or an HTML page."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from gpuscout.jobs.app import App
from gpuscout.jobs.cli.common import pass_app
from gpuscout.jobs.cli.output import format_option

EMPTY_HINT = ("No market prices are stored for {what} yet. A scan stores them (the default eBay "
              "sold search fills the market fastest); after upgrading from an older version, "
              "`gpuscout rescore` records those of the listings already stored.")


def chart_options(fn: Any) -> Any:
    """--chart, --png FILE and --html FILE, shared by `market` and `history`."""
    fn = click.option("--html", "html_path", metavar="FILE",
                      type=click.Path(dir_okay=False, path_type=Path),
                      help="Write the chart and the table as a self-contained HTML page.")(fn)
    fn = click.option("--png", "png_path", metavar="FILE",
                      type=click.Path(dir_okay=False, path_type=Path),
                      help="Write the chart as a PNG image (800x400).")(fn)
    return click.option("--chart", is_flag=True,
                        help="Draw the chart in the terminal instead of printing the table.")(fn)


@contextmanager
def db_api(app: App) -> Iterator[tuple[Any, bool]]:
    """A DB-API connection to the database and whether it is SQLite: the standard library's
    for a current SQLite file (no SQLAlchemy import), else the application's engine's."""
    from contextlib import closing

    from gpuscout.models.storage.deals import open_sqlite_reader

    reader = open_sqlite_reader(app.config.database_url)
    if reader is not None:
        with closing(reader):
            yield reader, True
        return
    from gpuscout.models.storage.market import raw_connection

    with app.sessions()() as session:
        yield raw_connection(session)


def write_charts(chart: Any, *, show: bool, png: Path | None, html: Path | None,
                 columns: Any = (), rows: Any = (), intro: Any = ()) -> None:
    """Draw ``chart`` where asked: the terminal, a PNG file, an HTML page with the table."""
    if show:
        import shutil
        import sys

        from gpuscout.jobs.charts.terminal import render_terminal

        size = shutil.get_terminal_size((100, 30))
        click.echo(render_terminal(chart, width=min(size.columns, 140),
                                   height=max(15, min(size.lines - 4, 30)),
                                   colour=sys.stdout.isatty()), nl=False)
    if png is not None:
        from gpuscout.jobs.charts.png import render_png

        _write(png, render_png(chart))
    if html is not None:
        from gpuscout.jobs.charts.svg import render_html

        _write(html, render_html(chart, columns, rows, intro=intro).encode("utf-8"))


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror or exc}") from None
    click.echo(f"wrote {path} ({len(data):,} bytes)", err=True)


@click.command("market")
@click.argument("watch_name", metavar="[WATCH]", required=False)
@click.option("--weeks", type=click.IntRange(1, 520), default=12, show_default=True,
              help="How many weeks back, this one included.")
@click.option("--until", "until", metavar="DATE", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="The market as it stood at the end of DATE (YYYY-MM-DD) instead of now.")
@chart_options
@format_option()
@pass_app
def market_cmd(app: App, watch_name: str | None, weeks: int, until: datetime | None, chart: bool,
               png_path: Path | None, html_path: Path | None, fmt: str) -> None:
    """The market of a watch's model and variant, week by week: how many sold and at what
    median and 25th percentile (per card, shipping included, in the watch's currency), the same
    of the asks, how many listings vanished within days (most likely sold), the market
    reference at the week's end and its change over 30 days. The reference is what price points
    are measured against: the sales first, asks scaled to what sells, outliers and copies left
    out, the band's midpoint standing in while data is scarce.

    \b
    gpuscout market                      the first watch, the last 12 weeks
    gpuscout market 3090-fe --weeks 26 --chart
    gpuscout market --png market.png --html market.html
    gpuscout market --format csv > market.csv
    gpuscout market --until 2025-06-30 --weeks 26
    """
    from datetime import timedelta

    from gpuscout.jobs.cli.output import emit
    from gpuscout.jobs.marketview import (
        MARKET_COLUMNS,
        data_rows,
        market_report,
        report_chart,
        table_rows,
    )

    watch = app.config.watch(watch_name)
    now = datetime.now(UTC)
    if until is not None:
        now = min(now, until.replace(tzinfo=UTC) + timedelta(days=1))
    with db_api(app) as (conn, sqlite):
        report = market_report(app.config, watch, conn, sqlite=sqlite, now=now, weeks=weeks)
    what = f"{watch.model} {watch.variant} (watch {watch.name})"
    if fmt != "table":
        emit(data_rows(report), fmt, MARKET_COLUMNS)
    elif report.empty:
        click.echo(EMPTY_HINT.format(what=what))
    elif not chart:
        emit(table_rows(report), "table", MARKET_COLUMNS,
             title=f"Market for {what}, per card in {watch.currency}; "
                   f"{report.reference.explain()}",
             table_columns=MARKET_COLUMNS[:-1])
    if chart or png_path or html_path:
        drawn = report_chart(report)
        write_charts(drawn, show=chart and fmt == "table", png=png_path, html=html_path,
                     columns=MARKET_COLUMNS[:-1], rows=table_rows(report),
                     intro=(report.reference.explain(),))


COMMANDS: list[click.Command] = [market_cmd]
