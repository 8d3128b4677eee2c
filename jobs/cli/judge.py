"""Commands for reading pages and judging listings: parse, evaluate, explain, rescore."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from gpuscout.jobs.app import App
from gpuscout.jobs.cli.common import pass_app
from gpuscout.jobs.cli.output import emit, format_option
from gpuscout.scraper.sources.registry import NAMES

PARSE_COLUMNS = ("source", "external_id", "url", "title", "price", "shipping", "price_local",
                 "price_max", "price_each", "currency", "location", "posted_at", "seller",
                 "seller_feedback", "seller_positive_pct", "condition", "buying_format", "bids",
                 "ends_at", "hours_left", "status", "sold_at", "description", "image_url")
_MONEY = ("price", "shipping", "price_local", "price_max")


def raw_to_dict(raw: Any) -> dict[str, Any]:
    from gpuscout.scraper.money import format_amount

    out: dict[str, Any] = {}
    for key in PARSE_COLUMNS:
        if key == "hours_left":
            # NOTE: an auction's time left as the page stated it, when it gave no end time
            left = raw.ends_in
            out[key] = None if left is None else round(left.total_seconds() / 3600, 2)
            continue
        value = getattr(raw, key)
        if key in _MONEY:
            value = format_amount(value)
        out[key] = value
    return out


@click.command("parse")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", type=click.Choice(NAMES),
              help="Which marketplace the page is from (default: detected from the content).")
@click.option("--url", help="The URL the page was fetched from (makes links absolute).")
@format_option(default="json", choices=("json", "table"))
def parse_cmd(file: Path, source: str | None, url: str | None, fmt: str) -> None:
    """Parse a saved page offline and print every listing it holds.

    The tool to reach for when a marketplace changes its markup: save the page, run this, see
    what is read. A login wall, a captcha or an unrecognised page exits 1 and says which."""
    from gpuscout.scraper.errors import Blocked, MarkupDrift, ScrapeError, UnsupportedPage
    from gpuscout.scraper.sources import detect_source, get_source
    from gpuscout.scraper.sources.registry import info

    body = file.read_bytes()
    try:
        src = get_source(source) if source else detect_source(body, url)
        result = src.parse(body, url or info(src.name).sample_url)
    except Blocked as exc:
        raise click.ClickException(f"{file}: blocked page ({exc.reason or 'blocked'}): {exc}") \
            from None
    except MarkupDrift as exc:
        raise click.ClickException(f"{file}: looks like a results page but nothing could be "
                                   f"read (markup changed?): {exc}") from None
    except UnsupportedPage as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    except ScrapeError as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    rows = [raw_to_dict(r) for r in result.listings]
    if fmt == "table":
        emit(rows, "table", PARSE_COLUMNS, title=f"{file.name}: {len(rows)} listings from {src.name}"
             + (" (a 'no results' page)" if result.empty else ""),
             table_columns=("external_id", "title", "price", "shipping", "price_local",
                            "currency", "buying_format", "bids", "location", "status"))
        return
    emit(rows, "json", PARSE_COLUMNS)
    if not rows and result.empty:
        click.echo(f"{file}: a 'no results' page", err=True)


COMMANDS: list[click.Command] = [parse_cmd]


EVALUATE_COLUMNS = ("score", "fits", "model", "variant", "kind", "quantity", "unit_price",
                    "currency", "why", "title")


@click.command("evaluate")
@click.option("--title", help="Evaluate one listing with this title instead of reading stdin.")
@click.option("--description", help="Its description.")
@click.option("--price", help="Its price (a number in its currency).")
@click.option("--shipping", help="Its shipping cost.")
@click.option("--price-local", help="A separately stated local pickup price.")
@click.option("--currency", help="ISO currency of price and shipping (default: the watch's).")
@click.option("--source", help="Marketplace it is from (a registered one, or another such as "
              "kijiji: local-pickup marketplaces are judged for 'shipping only' sellers).")
@click.option("--seller-feedback", type=int, help="eBay feedback count or Reddit trades.")
@click.option("--status", type=click.Choice(["active", "sold", "gone", "wanted"]),
              help="The listing's status; sold and wanted are never deals.")
@click.option("--buying-format", type=click.Choice(["fixed", "auction", "best_offer"]),
              help="An auction is ranked at its expected final price, not its current bid.")
@click.option("--bids", type=int, help="An auction's bid count.")
@click.option("--ends-at", help="When an auction ends (ISO 8601, e.g. 2025-06-01T18:00Z).")
@click.option("--watch", "watch_name", metavar="NAME", help="Score for this watch (default: first).")
@format_option(default="json", choices=("json", "table"))
@pass_app
def evaluate_cmd(app: App, title: str | None, description: str | None, price: str | None,
                 shipping: str | None, price_local: str | None, currency: str | None,
                 source: str | None, seller_feedback: int | None, status: str | None,
                 buying_format: str | None, bids: int | None, ends_at: str | None,
                 watch_name: str | None, fmt: str) -> None:
    """Identify and score listings without storing them.

    Reads JSON lines on stdin, each a listing object as `gpuscout parse` prints it: {title,
    description?, price?, shipping?, price_local?, price_each?, currency?, source?,
    seller_feedback?, seller_positive_pct?, condition?, status?, buying_format?, bids?, ends_at?},
    and prints one JSON line each with model, variant, kind, quantity, unit_price, score, rank
    (null when the listing does not fit the watch: it is never ranked), components (price,
    condition, risk with their points), flags, reasons and the item lines of a multi-item post.
    --format table prints one row per listing for reading. The price is judged against the
    watch's band (the stored market is not consulted).

    \b
    echo '{"title": "RTX 3090 Founders Edition, never mined", "price": 700}' | gpuscout evaluate
    gpuscout evaluate --title "EVGA RTX 3090 FTW3 for parts" --price 300
    gpuscout parse saved-page.html | gpuscout evaluate --format table
    """
    import json
    from datetime import UTC, datetime

    from gpuscout.jobs.scoring import catalog_of, score_rules, score_watch
    from gpuscout.models.judge.from_json import EvaluationInputError, evaluate

    cfg = app.config
    watch = score_watch(cfg.watch(watch_name))
    now = datetime.now(UTC)
    rates = dict(cfg.scoring.rates)
    catalog = catalog_of(cfg)
    rules = score_rules()
    results: list[dict[str, Any]] = []

    def one(obj: Any) -> dict[str, Any]:
        if isinstance(obj, dict) and obj.get("currency") is None:
            obj = {**obj, "currency": watch.currency}
        if not isinstance(obj, dict):
            raise EvaluationInputError("each line must be a JSON object")
        out = evaluate(obj, watch, now=now, rates=rates, catalog=catalog, rules=rules).to_dict()
        results.append({**out, "title": obj.get("title")})
        return out

    def show(out: dict[str, Any]) -> None:
        if fmt == "json":
            click.echo(json.dumps(out, ensure_ascii=False))

    if title is not None:
        obj = {"title": title, "description": description, "price": price, "shipping": shipping,
               "price_local": price_local, "currency": currency, "source": source,
               "seller_feedback": seller_feedback, "status": status,
               "buying_format": buying_format, "bids": bids, "ends_at": ends_at}
        try:
            show(one(obj))
        except EvaluationInputError as exc:
            raise click.ClickException(str(exc)) from None
        _evaluation_table(results, watch, fmt)
        return
    if sys.stdin.isatty():
        click.echo("reading JSON lines from stdin (Ctrl-D to end; see --help)", err=True)
    errors = 0
    for number, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            show(one(json.loads(line)))
        except (json.JSONDecodeError, EvaluationInputError) as exc:
            errors += 1
            click.echo(f"gpuscout: line {number}: {exc}", err=True)
            continue
    _evaluation_table(results, watch, fmt)
    if errors:
        sys.exit(1)


def _evaluation_table(results: list[dict[str, Any]], watch: Any, fmt: str) -> None:
    """The results as one table, rankable listings first, best first."""
    if fmt != "table":
        return
    rows = []
    for out in sorted(results, key=lambda r: (r["rank"] is None, -(r["rank"] or r["score"]))):
        item = out.get("item") or {}
        flags = [f for f in out["flags"] if f != "unfit"]
        why = out["unfit_reason"] if not out["fits"] else "; ".join(flags)
        rows.append({"score": out["rank"] if out["fits"] else f"({out['score']})",
                     "fits": "yes" if out["fits"] else "no",
                     "model": item.get("model", out["model"]),
                     "variant": item.get("variant", out["variant"]), "kind": out["kind"],
                     "quantity": item.get("quantity", out["quantity"]),
                     "unit_price": out["unit_price"], "currency": out["currency"], "why": why,
                     "title": out.get("title")})
    emit(rows, "table", EVALUATE_COLUMNS,
         title=f"{len(rows)} listings judged for watch {watch.name} ({watch.model} {watch.variant}, "
               f"{watch.price_low}-{watch.price_high} {watch.currency}); a score in brackets "
               "is never ranked")


KINDS = {"card": "a single card", "bundle": "a bundle", "system": "a complete system",
         "parts": "sold for parts", "box_only": "a box without a card", "accessory": "an accessory",
         "wanted": "a buying post", "other": "not a GPU"}


@click.command("explain")
@click.argument("ref", metavar="ID")
@click.option("--watch", "watch_name", metavar="NAME", help="For this watch (default: every one).")
@pass_app
def explain_cmd(app: App, ref: str, watch_name: str | None) -> None:
    """Why a stored listing scores what it does, in words: what it was identified as and on what
    evidence, the items read from a multi-item post, and each component of its stored score for
    the watch (the same score `show` and `deals` use). When the current rules or market would
    score it differently, says so: `gpuscout rescore` stores the new score."""
    from datetime import UTC, datetime

    from gpuscout.jobs.cli.common import find_listing
    from gpuscout.jobs.scoring import Evaluator, catalog_of, identify_raw_fields
    from gpuscout.jobs.text import clean_text
    from gpuscout.models.storage.queries import scores_for
    from gpuscout.models.storage.records import from_minor

    cfg = app.config
    watches = [cfg.watch(watch_name)] if watch_name else list(cfg.watches)
    with app.sessions()() as session:
        listing = find_listing(session, ref)
        ident = identify_raw_fields(listing.title, listing.description, listing.condition,
                                    listing.status, catalog=catalog_of(cfg))
        price = from_minor(listing.price, listing.currency)
        click.echo(f"#{listing.id} {clean_text(listing.title, 500)}")
        click.echo(f"  {listing.source} · {listing.status} · {clean_text(listing.url, 1000)}")
        shipping = from_minor(listing.shipping, listing.currency)
        click.echo(f"  asks {price if price is not None else '(no price)'} {listing.currency or ''}"
                   + (f" + {shipping} shipping" if shipping else ""))
        stored_ident = (listing.model, listing.variant, listing.kind, listing.quantity)
        click.echo(f"\nWhat it is: {listing.model}, variant {listing.variant}, "
                   f"{KINDS.get(listing.kind or '', listing.kind)}"
                   + (f", {listing.quantity} units" if (listing.quantity or 1) > 1 else ""))
        if stored_ident != (ident.model, ident.variant, ident.kind, ident.quantity):
            click.echo(f"  (the current rules read it as {ident.model}, variant {ident.variant}, "
                       f"{KINDS.get(ident.kind, ident.kind)}; `gpuscout rescore` stores that)")
        for item in ident.evidence:
            if not item.startswith("items: "):
                click.echo(f"  because: {clean_text(item, 300)}")
        if listing.buying_format == "auction":
            ends = listing.ends_at.strftime("%Y-%m-%d %H:%M UTC") if listing.ends_at else "unknown"
            click.echo(f"  an auction: {listing.bids if listing.bids is not None else '?'} bids, "
                       f"ends {ends}")
        if ident.items:
            click.echo("\nItems read from the post, with their prices:")
            for read in ident.items:
                click.echo(f"  - {clean_text(read.describe(), 300)}")
        stored = {s.watch: s for s in scores_for(session, listing.id)}
        evaluator = Evaluator(cfg, session, now=datetime.now(UTC))
        for watch in watches:
            head = (f"\nFor watch {watch.name} ({watch.model} {watch.variant}, "
                    f"{watch.price_low}-{watch.price_high} {watch.currency}): ")
            now_score = evaluator.score(listing, watch)
            score = stored.get(watch.name)
            if score is None:
                click.echo(head + f"{now_score.total}/100 (not stored yet)"
                           + ("" if now_score.fits else f" — never ranked: {now_score.unfit_reason}"))
                components = [c.to_dict() for c in now_score.components]
                reasons, flags = list(now_score.reasons), list(now_score.flags)
            else:
                click.echo(head + f"{score.total}/100 (rules v{score.version})"
                           + ("" if score.fits else f" — never ranked: {score.unfit_reason}"))
                components = _stored_components(score.components)
                reasons, flags = list(score.reasons or []), list(score.flags or [])
            _echo_yardstick(evaluator.reference(watch), now_score, watch)
            if now_score.item is not None:
                click.echo(f"  scored as the item {clean_text(now_score.item.describe(), 300)}")
            for reason in reasons:
                if reason.startswith(("red flag:", "auction:")):
                    click.echo(f"  {clean_text(reason, 300)}")
            _echo_components(components, flags)
            if score is not None and (now_score.total, now_score.fits, now_score.version) != (
                    score.total, score.fits, score.version):
                click.echo(f"  Scored now it would be {now_score.total}/100"
                           + ("" if now_score.fits else " (not ranked)")
                           + f" with rules v{now_score.version} and today's market reference; "
                           "`gpuscout rescore` stores that.")


def _echo_yardstick(reference: Any, score: Any, watch: Any) -> None:
    """The two measures of a price: the market it is compared with, the budget it must fit."""
    from gpuscout.models.judge.score import against_market, budget

    click.echo(f"  Market (the yardstick for price points): {reference.explain()}")
    price = score.unit_price
    if price is None:
        click.echo(f"  Budget (the band {watch.price_low}-{watch.price_high}): no comparable price")
        return
    click.echo(f"  This card: {price} {score.currency} per card, "
               f"{against_market(price, reference.median, score.currency)}")
    click.echo(f"  Budget (what may be ranked and alerted): {budget(price, watch)}")


def _stored_components(components: Any) -> list[dict[str, Any]]:
    from gpuscout.jobs.rows import components_of

    return [{**c, "name": name} for name, c in components_of(components)]


def _echo_components(components: list[dict[str, Any]], flags: Any) -> None:
    from gpuscout.jobs.text import clean_text

    for comp in components:
        click.echo(f"  {str(comp.get('name')).capitalize()} {comp.get('points')}/{comp.get('max')}")
        for reason in comp.get("reasons", []):
            click.echo(f"    - {clean_text(reason, 300)}")
    if flags:
        click.echo(f"  Flags: {', '.join(clean_text(f, 100) for f in flags)}")


@click.command("rescore")
@click.option("--batch", type=click.IntRange(100, 100_000), default=2000, show_default=True)
@pass_app
def rescore_cmd(app: App, batch: int) -> None:
    """Re-identify and re-score every stored listing (after the rules, the catalogue or a watch's
    band changed). Scores carry the rules version that made them."""
    from datetime import UTC, datetime

    from gpuscout.jobs.scoring import rescore_all
    from gpuscout.models.judge.score import SCORE_VERSION

    done = rescore_all(app.config, app.sessions(), now=datetime.now(UTC), batch=batch,
                       progress=lambda n: click.echo(f"rescored {n} listings", err=True))
    click.echo(f"rescored {done} listings with rules version {SCORE_VERSION}")


COMMANDS.extend([evaluate_cmd, explain_cmd, rescore_cmd])
