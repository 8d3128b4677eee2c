"""The demo: a local marketplace of fictional listings, scanned into a throw-away database, with
the best deals and the alert email that would have been sent."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gpuscout.jobs.config import AlertRule, Config, EmailConfig, WatchConfig, parse_config
from gpuscout.jobs.testing.localmarket import LocalMarket
from gpuscout.jobs.testing.pages import (
    CRAIGSLIST_ADS,
    EBAY_CARDS,
    EBAY_SOLD,
    SUBREDDIT,
    craigslist_search_page,
    ebay_search_page,
    image_path,
    placeholder_image,
    reddit_listing,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from gpuscout.jobs.scan import ScanSummary

#: the searches the demo runs (the built-in defaults' names and queries)
EBAY_QUERY = "rtx 3090 founders edition"
REDDIT_QUERY = "3090"
CRAIGSLIST_QUERY = "rtx 3090"
DEMO_RECIPIENT = "you@example.com"
CONFIG_NAME = "gpuscout.toml"
DB_NAME = "gpuscout.db"

DEMO_TOML = """\
# gpuscout demo configuration: every source points at the local demo marketplace, which only
# runs while `gpuscout demo` does. Read commands (deals, show, explain, history, stats, status,
# export) work on the database beside this file; a `scan` with it finds nothing to connect to.

[database]
url = {db_url}

[[watch]]
name = "3090-fe"
model = "rtx 3090"
variant = "fe"
price_low = 650
price_high = 800
currency = "USD"

[[search]]
name = "ebay-3090-fe"
source = "ebay"
query = {ebay_query}

[[search]]
name = "ebay-3090-fe-sold"
source = "ebay"
query = {ebay_query}
options = {{ sold = "true" }}

[[search]]
name = "hws-3090"
source = "reddit"
query = {reddit_query}
options = {{ subreddit = {subreddit}, route = "json" }}   # the live site: the API (README)

[[search]]
name = "craigslist-3090"
source = "craigslist"
query = {craigslist_query}
options = {{ site = "sfbay" }}

[sources.ebay]
base_url = {base_url}
min_interval = 0
jitter = 0
max_pages = 1

[sources.reddit]
base_url = {base_url}
min_interval = 0
jitter = 0
max_pages = 1

[sources.craigslist]
base_url = {base_url}
min_interval = 0
jitter = 0
max_pages = 1

[sources.facebook]
base_url = {base_url}
min_interval = 0

[fetch]
timeout = 10.0
max_retries = 1

[scan]
data_dir = {data_dir}

[scoring]
rates_url = {base_url}
"""

#: the demo's daily rates: units per US dollar, as the rates source states them
DEMO_RATES = {"amount": 1.0, "base": "USD", "date": "2026-05-01",
              "rates": {"CAD": 1.37, "EUR": 0.926, "GBP": 0.794}}


def _toml_str(value: str) -> str:
    # NOTE: a JSON string is a valid TOML basic string (same escapes)
    return json.dumps(value)


def demo_config_text(base_url: str, workdir: Path) -> str:
    """The demo's configuration file: the default watch and searches, pointed at ``base_url``."""
    return DEMO_TOML.format(
        db_url=_toml_str(f"sqlite:///{(workdir / DB_NAME).as_posix()}"),
        base_url=_toml_str(base_url), data_dir=_toml_str((workdir / "data").as_posix()),
        ebay_query=_toml_str(EBAY_QUERY), reddit_query=_toml_str(REDDIT_QUERY),
        craigslist_query=_toml_str(CRAIGSLIST_QUERY), subreddit=_toml_str(SUBREDDIT))


def serve_demo(market: LocalMarket, now: datetime) -> None:
    """Each source's search page at the path and query its live site uses, plus the photos."""
    base = market.url
    html = "text/html; charset=utf-8"
    market.add("/sch/i.html", ebay_search_page(base, EBAY_QUERY), content_type=html,
               query={"_nkw": EBAY_QUERY})
    market.add("/sch/i.html", ebay_search_page(base, EBAY_QUERY, EBAY_SOLD, now=now),
               content_type=html, query={"_nkw": EBAY_QUERY, "LH_Sold": "1"})
    market.add("/latest", json.dumps(DEMO_RATES), content_type="application/json",
               query={"base": "USD"})
    market.add(f"/r/{SUBREDDIT}/new.json", reddit_listing(base, now),
               content_type="application/json; charset=UTF-8", query={"raw_json": "1"})
    market.add("/search/sss", craigslist_search_page(base, CRAIGSLIST_QUERY), content_type=html,
               query={"query": CRAIGSLIST_QUERY})
    images = [("ebay", c.item_id) for c in (*EBAY_CARDS, *EBAY_SOLD)] + \
        [("craigslist", a.post_id) for a in CRAIGSLIST_ADS]
    for source, ident in images:
        market.add(image_path(source, ident), placeholder_image(f"{source} {ident}"),
                   content_type="image/svg+xml")


@dataclass(frozen=True)
class DemoResult:
    """What the demo did: where its files are, what the scan stored, the deals, the emails."""

    workdir: Path
    config_path: Path
    market_url: str
    summary: ScanSummary
    counts: Mapping[str, int]
    deals: tuple[dict[str, Any], ...]
    not_deals: tuple[dict[str, Any], ...]
    emails: tuple[EmailMessage, ...]
    #: True when the alerts came from the rule; False: none qualified, ``emails`` shows the
    #: top deal's message anyway
    alerts_qualified: bool
    rule: AlertRule
    watch: WatchConfig
    #: the watch's market reference after the scan (``MarketReference.to_dict``)
    reference: Mapping[str, Any] | None = None


class PreviewMailer:
    """A mailer that keeps each message instead of sending it."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    def send(self, msg: EmailMessage) -> str:
        self.messages.append(msg)
        return str(msg["Message-ID"])


def demo_rule(watch: WatchConfig) -> AlertRule:
    """The alert rule the demo pretends is configured: instant email for new deals ≥ 70."""
    return AlertRule(name=f"{watch.name}-instant", watch=watch.name, min_score=70,
                     events=("new",), mode="instant")


def run_demo(workdir: Path, *, now: datetime | None = None,
             progress: Callable[[str, str], None] | None = None) -> DemoResult:
    """Serve the fictional marketplace, scan it into ``workdir``, read back deals and emails."""
    from gpuscout.jobs.scan import run_scan
    from gpuscout.models.storage.db import make_engine, session_factory
    from gpuscout.models.storage.migrate import upgrade

    when = now or datetime.now(UTC)
    workdir.mkdir(parents=True, exist_ok=True)
    workdir = workdir.resolve()
    config_path = workdir / CONFIG_NAME
    with LocalMarket() as market:
        market_url = market.url
        serve_demo(market, when)
        text = demo_config_text(market_url, workdir)
        config_path.write_text(text, encoding="utf-8")
        cfg = parse_config(tomllib.loads(text), str(config_path))
        engine = make_engine(cfg.database_url)
        try:
            upgrade(engine)
            summary = run_scan(cfg, engine, now=when, progress=progress, send_alerts=False)
            sessions = session_factory(engine)
            rule = demo_rule(cfg.watches[0])
            captured = preview_alerts(cfg, sessions, summary.events, rule, when)
            with sessions() as session:
                counts, deals, not_deals, keys = _read_back(cfg, session, when)
                reference = _reference(cfg, session, when)
                emails = _in_deal_order(captured, keys)
                qualified = bool(emails)
                if not emails and deals:
                    emails = (_render_top(cfg, session, rule, when),)
        finally:
            engine.dispose()
    return DemoResult(workdir=workdir, config_path=config_path, market_url=market_url,
                      summary=summary, counts=counts, deals=deals, not_deals=not_deals,
                      emails=emails, alerts_qualified=qualified, rule=rule,
                      watch=cfg.watches[0], reference=reference)


def _reference(cfg: Config, session: Session, now: datetime) -> dict[str, Any]:
    """The first watch's market reference, as the scan's scores were computed against it."""
    from gpuscout.jobs.scoring import Evaluator

    data: dict[str, Any] = Evaluator(cfg, session, now=now).reference(cfg.watches[0]).to_dict()
    return data


def preview_email(cfg: Config) -> EmailConfig:
    """The mail settings the previews are addressed with (nothing is ever sent with them)."""
    return cfg.email or EmailConfig(recipients=(DEMO_RECIPIENT,))


def preview_alerts(cfg: Config, sessions: sessionmaker[Session], events: Sequence[Any],
                   rule: AlertRule, now: datetime) -> list[EmailMessage]:
    """Run the scan's events through the alert pipeline (rules, outbox, rendering) with ``rule``
    and a mailer that keeps the messages: the emails an instant rule would have sent."""
    from gpuscout.jobs.alerts.dispatch import process_events
    from gpuscout.models.storage.db import transaction
    from gpuscout.models.storage.outbox import mark_previewed

    mailer = PreviewMailer()
    preview_cfg = replace(cfg, email=preview_email(cfg), alerts=(rule,))
    process_events(preview_cfg, sessions, events, now=now, mailer=mailer)
    # NOTE: the outbox marks what the preview mailer took as sent; nothing was sent, so a kept
    # demo database lists those alerts as "previewed"
    with transaction(sessions) as session:
        mark_previewed(session, note="gpuscout demo: rendered as a preview, never sent")
    return mailer.messages


def _read_back(cfg: Config, session: Session, now: datetime) -> tuple[
        dict[str, int], tuple[dict[str, Any], ...], tuple[dict[str, Any], ...], list[str]]:
    """Listings per source, the deals, the listings kept out (and why), and each deal's
    alert Message-ID (to put the previews in deal order)."""
    from sqlalchemy import func, or_, select

    from gpuscout.jobs.alerts.rules import dedupe_key, message_id_for
    from gpuscout.jobs.rows import deal_row
    from gpuscout.models.storage.market import groups_of
    from gpuscout.models.storage.queries import deals
    from gpuscout.models.storage.tables.listings import Listing, Score

    watch = cfg.watches[0]
    counts = {str(src): int(n) for src, n in session.execute(
        select(Listing.source, func.count()).group_by(Listing.source).order_by(Listing.source))}
    rows = deals(session, watch=watch.name, limit=20)
    sender = preview_email(cfg).sender
    card = groups_of(session, [r.listing_id for r in rows])
    keys = [message_id_for(dedupe_key(card[r.listing_id], demo_rule(watch).name, "new",
                                      r.unit_price), sender) for r in rows]
    # NOTE: the sales of eBay's sold listings (a sold date) are the market, not listings to buy
    unfit = session.execute(
        select(Listing, Score).join(Score, Score.listing_id == Listing.id)
        .where(Score.watch == watch.name,
               or_(Score.fits.is_(False), Listing.status != "active"),
               ~((Listing.status == "sold") & Listing.sold_at.is_not(None)))
        .order_by(Listing.source, Listing.id)).all()
    not_deals = tuple({"id": listing.id, "source": listing.source, "title": listing.title,
                       "why": _why_not(listing, score)} for listing, score in unfit)
    deal_rows = tuple({**deal_row(r, now), "notes": component_notes(
        r.components, ("condition", "risk"))} for r in rows)
    return counts, deal_rows, not_deals, keys


def component_notes(components: Any, names: Sequence[str]) -> list[str]:
    """The reasons the named score components give (stored as a list or a name-keyed map)."""
    items = list(components.values()) if isinstance(components, dict) else \
        components if isinstance(components, list) else []
    notes: list[str] = []
    for name in names:
        for item in items:
            if isinstance(item, dict) and item.get("name") == name:
                notes += [str(r) for r in item.get("reasons") or [] if r]
    return notes


def _why_not(listing: Any, score: Any) -> str:
    if not score.fits:
        return str(score.unfit_reason or "does not fit the watch")
    return f"listing is {listing.status}"


def _in_deal_order(messages: list[EmailMessage], keys: list[str]) -> tuple[EmailMessage, ...]:
    rank = {key: i for i, key in enumerate(keys)}
    return tuple(sorted(messages, key=lambda m: rank.get(str(m["Message-ID"]), len(rank))))


def _render_top(cfg: Config, session: Session, rule: AlertRule, now: datetime) -> EmailMessage:
    """The top deal's alert, rendered as the alerts would, for when no deal reached the rule."""
    from sqlalchemy import select

    from gpuscout.jobs.alerts.mail import alert_context, alert_subject, render_message
    from gpuscout.jobs.alerts.rules import dedupe_key, message_id_for
    from gpuscout.models.storage.outbox import price_history
    from gpuscout.models.storage.queries import deals
    from gpuscout.models.storage.tables.listings import Listing, Score

    best = deals(session, watch=rule.watch, limit=1)[0]
    listing, score = session.execute(
        select(Listing, Score).join(Score, Score.listing_id == Listing.id)
        .where(Listing.id == best.listing_id, Score.watch == rule.watch)).one()
    email = preview_email(cfg)
    key = dedupe_key(listing.id, rule.name, "new", score.unit_price)
    context = alert_context(listing, score, price_history(session, listing.id),
                            event="new", rule=rule.name, watch=rule.watch)
    return render_message(email, template="alert",
                          subject=alert_subject(listing, score, "new", old_price=None),
                          context=context, message_id=message_id_for(key, email.sender), now=now)


def message_text(msg: EmailMessage) -> str:
    """The plain-text part of a message."""
    body = msg.get_body(preferencelist=("plain",))
    return str(body.get_content()).rstrip() + "\n" if isinstance(body, EmailMessage) else ""


def format_message(msg: EmailMessage) -> str:
    """A message as a reader would see it: its headers, then its plain-text part."""
    head = "\n".join(f"{k}: {v}" for k, v in msg.items() if k.lower() not in (
        "content-type", "content-transfer-encoding", "mime-version"))
    return f"{head}\n\n{message_text(msg)}"
