"""Commands that read the database: deals, show, history, stats, export."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from gpuscout.jobs.app import App
from gpuscout.jobs.cli.output import emit, format_option

pass_app = click.make_pass_decorator(App)

FIRST_SCAN_HINT = (
    "No listings stored yet. Run a first scan with `gpuscout scan` (or `gpuscout demo` to try the "
    "whole pipeline offline), then ask again."
)
DEAL_COLUMNS = ("id", "score", "unit_price", "currency", "title", "source", "age", "location",
                "reasons", "url", "model", "variant", "external_id")


def parse_since(value: str | None) -> timedelta | None:
    """'24h', '7d', '90m', '2w' -> timedelta."""
    if value is None:
        return None
    m = re.fullmatch(r"\s*(\d+)\s*([mhdw])\s*", value)
    if not m:
        raise click.BadParameter(f"{value!r}: use a number and a unit, like 90m, 24h, 7d or 2w")
    n, unit = int(m.group(1)), m.group(2)
    return {"m": timedelta(minutes=n), "h": timedelta(hours=n), "d": timedelta(days=n),
            "w": timedelta(weeks=n)}[unit]


def age(then: datetime | None, now: datetime) -> str:
    if then is None:
        return ""
    seconds = max(0, int((now - then).total_seconds()))
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def deal_row(deal: Any, now: datetime) -> dict[str, Any]:
    """A ``models.storage.deals.Deal`` as a table or JSON row (money as a decimal in its currency)."""
    from gpuscout.models.storage.records import from_minor

    return {
        "id": deal.listing_id, "score": deal.total,
        "unit_price": from_minor(deal.unit_price, deal.currency),
        "currency": deal.currency, "title": deal.title, "source": deal.source,
        "age": age(deal.posted_at or deal.first_seen, now),
        "location": deal.location, "reasons": list(deal.reasons[:3]), "url": deal.url,
        "model": deal.model, "variant": deal.variant, "external_id": deal.external_id,
    }


@click.command("deals")
@click.option("--watch", "watch_name", metavar="NAME", help="Which watch (default: the first).")
@click.option("--max-price", type=click.FloatRange(min=0), help="Highest unit price to show.")
@click.option("--min-score", type=click.IntRange(0, 100), help="Lowest score to show.")
@click.option("--source", type=click.Choice(["ebay", "reddit", "craigslist", "facebook"]),
              help="Only this marketplace.")
@click.option("--since", metavar="AGE", help="Only listings first seen within AGE (90m, 24h, 7d).")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@format_option()
@pass_app
def deals_cmd(app: App, watch_name: str | None, max_price: float | None, min_score: int | None,
              source: str | None, since: str | None, limit: int, fmt: str) -> None:
    """The best deals right now: active listings that fit the watch, best score first, with the
    reasons behind each score."""
    from decimal import Decimal

    from gpuscout.models.storage.deals import DealFilter
    from gpuscout.models.storage.records import to_minor

    window = parse_since(since)
    watch = app.config.watch(watch_name)
    now = datetime.now(UTC)
    wanted = DealFilter(
        watch.name,
        max_price=to_minor(Decimal(str(max_price)), watch.currency) if max_price is not None else None,
        min_score=min_score, source=source, since=(now - window) if window else None, limit=limit)
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


def listing_dict(listing: Any) -> dict[str, Any]:
    """Everything stored about a listing, money as decimals in its currency, the item lines of a
    multi-item post as a list."""
    from gpuscout.models.judge.items import items_from_json
    from gpuscout.models.storage.records import from_minor

    cur = listing.currency
    out: dict[str, Any] = {}
    for col in [c.key for c in listing.__table__.columns]:
        value = getattr(listing, col)
        if col in ("price", "shipping", "price_local", "price_max"):
            value = from_minor(value, cur)
        elif col == "items":
            value = [i.to_dict() for i in items_from_json(value)]
        out[col] = value
    return out


def _describe_item(item: dict[str, Any]) -> str:
    from gpuscout.models.judge.items import Item

    return Item.from_dict(item).describe()


def _find(session: Any, ref: str) -> Any:
    from gpuscout.models.storage.queries import find_listing

    listing = find_listing(session, ref)
    if listing is None:
        raise click.ClickException(f"no listing {ref!r} (use an id from `gpuscout deals`, or "
                                   "source:external_id)")
    return listing


@click.command("show")
@click.argument("ref", metavar="ID")
@format_option(default="table", choices=("table", "json"))
@pass_app
def show_cmd(app: App, ref: str, fmt: str) -> None:
    """Everything stored about one listing (ID or source:external_id), with its scores."""
    import json

    from gpuscout.jobs.cli.output import jsonable
    from gpuscout.models.storage.queries import scores_for

    with app.sessions()() as session:
        listing = _find(session, ref)
        data = listing_dict(listing)
        data["scores"] = [score_dict(s) for s in scores_for(session, listing.id)]
    if fmt == "json":
        click.echo(json.dumps(jsonable(data), ensure_ascii=False))
        return
    width = max(len(k) for k in data)
    for key, value in data.items():
        if key in ("scores", "description", "items"):
            continue
        click.echo(f"{key.rjust(width)}  {'' if value is None else jsonable(value)}")
    if data.get("description"):
        click.echo("\n" + str(data["description"]).strip() + "\n")
    if data.get("items"):
        click.echo("items read from the post, with their prices:")
        for item in data["items"]:
            click.echo(f"  - {_describe_item(item)}")
        click.echo("")
    for sc in data["scores"]:
        click.echo(f"score for watch {sc['watch']}: {sc['total']}/100 (rules v{sc['version']})"
                   + ("" if sc["fits"] else f" — does not fit: {sc['unfit_reason']}"))
        for name, comp in _components(sc["components"]):
            click.echo(f"  {name}: {comp.get('points')} / {comp.get('max')}")
            for reason in comp.get("reasons", []):
                click.echo(f"    - {reason}")
        for flag in sc["flags"] or []:
            click.echo(f"  ! {flag}")


def _components(components: Any) -> list[tuple[str, dict[str, Any]]]:
    """Stored components as (name, {points, max, reasons}) pairs."""
    if isinstance(components, dict):
        return [(str(k), v) for k, v in components.items()]
    return [(str(c.get("name")), c) for c in components or []]


def score_dict(score: Any) -> dict[str, Any]:
    from gpuscout.models.storage.records import from_minor

    return {"watch": score.watch, "version": score.version, "total": score.total,
            "fits": score.fits, "unfit_reason": score.unfit_reason,
            "unit_price": from_minor(score.unit_price, score.currency),
            "currency": score.currency, "components": score.components, "flags": score.flags,
            "reasons": score.reasons, "reference": score.reference,
            "computed_at": score.computed_at}


@click.command("history")
@click.argument("ref", metavar="ID")
@format_option()
@pass_app
def history_cmd(app: App, ref: str, fmt: str) -> None:
    """A listing's price observations over time (one row each time the price changed)."""
    from gpuscout.models.storage.queries import history
    from gpuscout.models.storage.records import from_minor

    with app.sessions()() as session:
        listing = _find(session, ref)
        rows = [{"observed_at": o.observed_at, "price": from_minor(o.price, o.currency),
                 "shipping": from_minor(o.shipping, o.currency), "currency": o.currency}
                for o in history(session, listing.id)]
        title = f"Price history of {listing.id}: {listing.title}"
    emit(rows, fmt, ("observed_at", "price", "shipping", "currency"), title=title)


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

    from gpuscout.jobs.cli.output import jsonable
    from gpuscout.models.storage.queries import iter_listings
    from gpuscout.models.storage.tables.listings import Listing

    columns = list(Listing.__table__.columns.keys())
    writer = csv.DictWriter(sys.stdout, fieldnames=columns) if fmt == "csv" else None
    if writer:
        writer.writeheader()
    with app.sessions()() as session:
        for listing in iter_listings(session):
            row = jsonable(listing_dict(listing))
            if writer:
                writer.writerow({k: json.dumps(v, ensure_ascii=False) if isinstance(v, list) else v
                                 for k, v in row.items()})
            else:
                sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")


COMMANDS: list[click.Command] = [deals_cmd, show_cmd, history_cmd, stats_cmd, export_cmd]
