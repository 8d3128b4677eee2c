"""Commands that read the database: deals, show, history, stats, export."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from jobs.app import App
from jobs.output import emit, format_option

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


def deal_row(listing: Any, score: Any, now: datetime) -> dict[str, Any]:
    from models.records import from_minor

    reasons = [r for r in (score.reasons or [])][:3]
    return {
        "id": listing.id, "score": score.total,
        "unit_price": from_minor(score.unit_price, score.currency),
        "currency": score.currency, "title": listing.title, "source": listing.source,
        "age": age(listing.posted_at or listing.first_seen, now),
        "location": listing.location, "reasons": reasons, "url": listing.url,
        "model": listing.model, "variant": listing.variant, "external_id": listing.external_id,
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

    from models.queries import count_listings, deals
    from models.records import to_minor

    window = parse_since(since)
    watch = app.config.watch(watch_name)
    now = datetime.now(UTC)
    with app.sessions()() as session:
        rows = deals(
            session, watch=watch.name,
            max_price=to_minor(Decimal(str(max_price)), watch.currency) if max_price is not None else None,
            min_score=min_score, source=source, since=(now - window) if window else None, limit=limit,
        )
        if not rows and fmt == "table":
            if count_listings(session) == 0:
                click.echo(FIRST_SCAN_HINT)
            else:
                click.echo(f"No active listing fits watch {watch.name!r} with these filters yet. "
                           "`gpuscout stats` shows what is stored.")
            return
        out = [deal_row(r.listing, r.score, now) for r in rows]
    emit(out, fmt, DEAL_COLUMNS, title=f"Best deals for {watch.name} "
         f"({watch.model} {watch.variant}, {watch.price_low}-{watch.price_high} {watch.currency})",
         table_columns=("id", "score", "unit_price", "title", "source", "age", "location", "reasons"))


COMMANDS: list[click.Command] = [deals_cmd]
