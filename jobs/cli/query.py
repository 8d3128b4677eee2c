"""Commands that read the database: deals, show, history, stats, export."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import click

from gpuscout.jobs.app import App
from gpuscout.jobs.cli.common import Age, Amount, find_listing, pass_app
from gpuscout.jobs.cli.market import chart_options
from gpuscout.jobs.cli.output import emit, format_option
from gpuscout.jobs.rows import components_of, deal_row, listing_dict, score_dict
from gpuscout.scraper.sources.registry import NAMES

FIRST_SCAN_HINT = (
    "No listings stored yet. Run a first scan with `gpuscout scan` (or `gpuscout demo` to try the "
    "whole pipeline offline), then ask again."
)
DEAL_COLUMNS = ("id", "score", "unit_price", "currency", "title", "source", "age", "location",
                "reasons", "url", "model", "variant", "external_id")


@click.command("deals")
@click.option("--watch", "watch_name", metavar="NAME", help="Which watch (default: the first).")
@click.option("--max-price", type=Amount(), help="Highest unit price to show.")
@click.option("--min-score", type=click.IntRange(0, 100), help="Lowest score to show.")
@click.option("--source", type=click.Choice(NAMES),
              help="Only this marketplace.")
@click.option("--since", type=Age(), help="Only listings first seen within AGE (90m, 24h, 7d, 2w).")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@format_option()
@pass_app
def deals_cmd(app: App, watch_name: str | None, max_price: Decimal | None, min_score: int | None,
              source: str | None, since: timedelta | None, limit: int, fmt: str) -> None:
    """The best deals right now: active listings that fit the watch, best score first, with the
    reasons behind each score."""
    from gpuscout.models.storage.deals import DealFilter
    from gpuscout.models.storage.records import to_minor

    watch = app.config.watch(watch_name)
    now = datetime.now(UTC)
    wanted = DealFilter(
        watch.name, max_price=to_minor(max_price, watch.currency),
        min_score=min_score, source=source, since=(now - since) if since else None, limit=limit)
    rows, stored = _read_deals(app, wanted, count=fmt == "table")
    if not rows and fmt == "table":
        if stored == 0:
            click.echo(FIRST_SCAN_HINT)
        else:
            click.echo(f"No active listing fits watch {watch.name!r} with these filters yet. "
                       "`gpuscout stats` shows what is stored.")
        return
    out = [deal_row(r, now) for r in rows]
    emit(out, fmt, DEAL_COLUMNS, title=f"Best deals for {watch.name} "
         f"({watch.model} {watch.variant}, {watch.price_low}-{watch.price_high} {watch.currency})",
         table_columns=("id", "score", "unit_price", "title", "source", "age", "location", "reasons"))


def _read_deals(app: App, wanted: Any, *, count: bool) -> tuple[list[Any], int | None]:
    """The deals, and (when there are none and ``count``) how many listings are stored at all.

    NOTE: a current SQLite file is read with the standard library alone, which spares a command
    that should answer at once the import of SQLAlchemy; anything else (PostgreSQL, a database
    to upgrade) goes through the application's engine.
    """
    from contextlib import closing

    from gpuscout.models.storage.deals import count_listings, open_sqlite_reader, top_deals

    reader = open_sqlite_reader(app.config.database_url)
    if reader is not None:
        with closing(reader):
            rows = top_deals(reader, wanted, sqlite=True)
            return rows, count_listings(reader) if count and not rows else None
    from gpuscout.models.storage import queries

    with app.sessions()() as session:
        rows = queries.read_deals(session, wanted)
        return rows, queries.count_listings(session) if count and not rows else None


def _describe_item(item: dict[str, Any]) -> str:
    from gpuscout.models.judge.items import Item

    return Item.from_dict(item).describe()


@click.command("show")
@click.argument("ref", metavar="ID")
@format_option(default="table", choices=("table", "json"))
@pass_app
def show_cmd(app: App, ref: str, fmt: str) -> None:
    """Everything stored about one listing (ID or source:external_id), with its scores."""
    import json

    from gpuscout.jobs.cli.output import jsonable
    from gpuscout.jobs.text import clean_text, terminal_text
    from gpuscout.models.storage.queries import scores_for

    with app.sessions()() as session:
        listing = find_listing(session, ref)
        data = listing_dict(listing)
        data["scores"] = [score_dict(s) for s in scores_for(session, listing.id)]
    if fmt == "json":
        click.echo(json.dumps(jsonable(data), ensure_ascii=False))
        return
    width = max(len(k) for k in data)
    for key, value in data.items():
        if key in ("scores", "description", "items"):
            continue
        click.echo(f"{key.rjust(width)}  {'' if value is None else clean_text(jsonable(value), 1000)}")
    if data.get("description"):
        click.echo("\n" + terminal_text(data["description"]).strip() + "\n")
    if data.get("items"):
        click.echo("items read from the post, with their prices:")
        for item in data["items"]:
            click.echo(f"  - {clean_text(_describe_item(item), 300)}")
        click.echo("")
    for sc in data["scores"]:
        click.echo(f"score for watch {sc['watch']}: {sc['total']}/100 (rules v{sc['version']})"
                   + ("" if sc["fits"] else f" — does not fit: {sc['unfit_reason']}"))
        for name, comp in components_of(sc["components"]):
            click.echo(f"  {name}: {comp.get('points')} / {comp.get('max')}")
            for reason in comp.get("reasons", []):
                click.echo(f"    - {clean_text(reason, 300)}")
        for flag in sc["flags"] or []:
            click.echo(f"  ! {clean_text(flag, 100)}")


@click.command("history")
@click.argument("ref", metavar="ID")
@chart_options
@format_option()
@pass_app
def history_cmd(app: App, ref: str, chart: bool, png_path: Any, html_path: Any, fmt: str) -> None:
    """A listing's price observations over time (one row each time the price changed), with
    those of its copies: the same card cross-posted or listed again carries its history over.
    --chart, --png and --html draw its price day by day beside the market of the watch for its
    model (sold median and reference) and the watch's band."""
    from gpuscout.jobs.cli.market import write_charts
    from gpuscout.models.storage.market import copies_of
    from gpuscout.models.storage.queries import history
    from gpuscout.models.storage.records import from_minor

    with app.sessions()() as session:
        listing = find_listing(session, ref)
        copies = copies_of(session, listing.id)
        rows = []
        for lid, why in copies:
            for o in history(session, lid):
                rows.append({"observed_at": o.observed_at, "listing": lid,
                             "price": from_minor(o.price, o.currency),
                             "shipping": from_minor(o.shipping, o.currency),
                             "currency": o.currency, "copy": why or ""})
        rows.sort(key=lambda r: (r["observed_at"], r["listing"]))
        title = f"Price history of {listing.id}: {listing.title}"
        if len(copies) > 1:
            title += f" (with {len(copies) - 1} copies of the same card)"
        drawn = _history_chart(app, session, listing, rows) \
            if chart or png_path or html_path else None
    columns = ("observed_at", "listing", "price", "shipping", "currency", "copy")
    if not chart or fmt != "table":
        emit(rows, fmt, columns, title=title)
    if drawn is not None:
        write_charts(drawn, show=chart and fmt == "table", png=png_path, html=html_path,
                     columns=columns, rows=rows, intro=(title,))


def _history_chart(app: App, session: Any, listing: Any, rows: list[dict[str, Any]]) -> Any:
    """The chart of a listing's price per card, beside the market of the first watch for its
    model (when one is configured)."""
    from decimal import Decimal

    from gpuscout.jobs.marketview import ListingHistory, daily_prices, history_chart, market_report
    from gpuscout.jobs.text import clean_text
    from gpuscout.models.storage.market import raw_connection

    now = datetime.now(UTC)
    cfg = app.config
    watch = next((w for w in cfg.watches if w.model == listing.model
                  and w.variant in ("any", listing.variant)), None)
    until = now if listing.status == "active" else listing.last_seen
    first = min((r["observed_at"] for r in rows), default=now)
    # NOTE: four weeks of the market at least, so that a new listing is seen against it
    start = min(first, until - timedelta(days=28)).date()
    report = None
    conn, sqlite = raw_connection(session)
    if watch is not None:
        weeks = min(104, (now.date() - start).days // 7 + 2)
        report = market_report(cfg, watch, conn, sqlite=sqlite, now=now, weeks=weeks)
    currency = watch.currency if watch else (listing.currency or "USD")
    usd = report.usd if report else {}
    quantity = max(listing.quantity or 1, 1)

    def per_card(row: dict[str, Any]) -> Decimal | None:
        if row["price"] is None:
            return None
        amount = (row["price"] + (row["shipping"] or 0)) / quantity
        if row["currency"] in (None, currency):
            return Decimal(amount)
        rate, target = usd.get(row["currency"]), usd.get(currency)
        return None if not rate or not target else amount * rate / target

    days, prices = daily_prices([(r["observed_at"], per_card(r)) for r in rows], until, start=start)
    return history_chart(ListingHistory(
        title=clean_text(f"#{listing.id} {listing.title}", 70) + f", {currency} per card",
        days=days, prices=prices, currency=currency, report=report))


@click.command("stats")
@click.option("--watch", "watch_name", metavar="NAME", help="Only the watch's model and variant.")
@click.option("--days", type=click.IntRange(1, 3650), default=30, show_default=True,
              help="Window for the ask statistics.")
@format_option()
@pass_app
def stats_cmd(app: App, watch_name: str | None, days: int, fmt: str) -> None:
    """Per model and variant: active listings, median and 25th percentile of asks (per unit,
    shipping included) over the window, and how many sold."""
    from gpuscout.models.storage.queries import stats
    from gpuscout.models.storage.records import from_minor

    model = variant = None
    if watch_name:
        w = app.config.watch(watch_name)
        model, variant = w.model, w.variant
    since = datetime.now(UTC) - timedelta(days=days)
    with app.sessions()() as session:
        rows = [{"model": s.model, "variant": s.variant, "currency": s.currency,
                 "active": s.active, "asks": s.asks_30d,
                 "median": from_minor(s.median, s.currency), "p25": from_minor(s.p25, s.currency),
                 "sold": s.sold} for s in stats(session, since=since, model=model, variant=variant)]
    emit(rows, fmt, ("model", "variant", "currency", "active", "asks", "median", "p25", "sold"),
         title=f"Market over {days} days")


@click.command("export")
@format_option(default="json", choices=("json", "csv"))
@pass_app
def export_cmd(app: App, fmt: str) -> None:
    """Every stored listing, as JSON lines or CSV, streamed."""
    import csv
    import json
    import sys

    from gpuscout.jobs.cli.output import csv_value, jsonable
    from gpuscout.models.storage.queries import iter_listings
    from gpuscout.models.storage.tables.listings import Listing

    columns = list(Listing.__table__.columns.keys())
    writer = csv.DictWriter(sys.stdout, fieldnames=columns) if fmt == "csv" else None
    if writer:
        writer.writeheader()
    with app.sessions()() as session:
        for listing in iter_listings(session):
            data = listing_dict(listing)
            if writer:
                writer.writerow({k: csv_value(json.dumps(jsonable(v), ensure_ascii=False)
                                              if isinstance(v, list) else jsonable(v))
                                 for k, v in data.items()})
            else:
                sys.stdout.write(json.dumps(jsonable(data), ensure_ascii=False) + "\n")


COMMANDS: list[click.Command] = [deals_cmd, show_cmd, history_cmd, stats_cmd, export_cmd]
