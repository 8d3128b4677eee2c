"""Alert rules: which events qualify, when an alert is due (quiet hours, digests), and its keys."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from gpuscout.jobs.config import AlertRule, Config, EmailConfig
from gpuscout.jobs.errors import ConfigError
from gpuscout.models.judge.score import RED_FLAGS
from gpuscout.models.storage.records import to_minor

#: the event a scan reports for an auction that now ends within a rule's ``auction_hours``
ENDING_SOON = "ending_soon"


def alert_timezone(cfg: Config) -> str:
    """The zone of digest times and quiet hours: ``email.timezone`` (UTC without [email])."""
    return cfg.email.timezone if cfg.email is not None else "UTC"


@dataclass(frozen=True)
class ScoreFacts:
    """What a rule looks at: the listing's status and its stored score for the rule's watch
    (with its flags), and when the listing ends if it is an auction."""

    status: str
    fits: bool
    total: int
    unit_price: int | None
    currency: str | None
    quantity: int = 1
    flags: tuple[str, ...] = ()
    ends_at: datetime | None = None

    @property
    def auction(self) -> bool:
        return "auction" in self.flags


def reject_reason(rule: AlertRule, event: str, facts: ScoreFacts | None, *,
                  old_price: int | None = None, new_price: int | None = None,
                  now: datetime | None = None) -> str | None:
    """Why ``rule`` does not alert on this event, or None when it does."""
    if event == ENDING_SOON:
        if rule.auction_hours is None:
            return "the rule sets no auction_hours: auctions never alert"
    elif event not in rule.events:
        return f"event {event} is not in the rule's events"
    elif facts is not None and facts.auction:
        return "an auction alerts only as it nears its end (see auction_hours)"
    reason = score_reason(rule, facts, now=now)
    if reason is None and event == "price_drop" and facts is not None and not drop_qualifies(
            rule, old_price, new_price, facts):
        return "the price drop is below the rule's threshold"
    return reason


def score_reason(rule: AlertRule, facts: ScoreFacts | None, *,
                 now: datetime | None = None) -> str | None:
    """Why the listing as it stands does not interest ``rule`` (any event), or None. A red flag
    (a described fault, a payment scam risk) never alerts; an auction alerts only under the
    rule's ``auction_hours``: ending within that many hours of ``now`` and expected inside the
    watch's band."""
    if facts is None:
        return f"no score for watch {rule.watch}"
    if facts.status != "active":
        return f"listing is {facts.status}"
    if not facts.fits:
        return "does not fit the watch"
    flagged = [f for f in facts.flags if f in RED_FLAGS]
    if flagged:
        return f"red flag ({', '.join(flagged)}): never alerted"
    if facts.auction:
        reason = _auction_reason(rule, facts, now)
        if reason is not None:
            return reason
    if facts.total < rule.min_score:
        return f"score {facts.total} is below {rule.min_score}"
    if rule.max_price is not None:
        limit = to_minor(rule.max_price, facts.currency)
        if facts.unit_price is None or limit is None or facts.unit_price > limit:
            return "unit price is above max_price"
    return None


def _auction_reason(rule: AlertRule, facts: ScoreFacts, now: datetime | None) -> str | None:
    if rule.auction_hours is None:
        return "an auction, and the rule sets no auction_hours"
    if "auction_above_band" in facts.flags:
        return "the auction's expected final price is above the watch's band"
    if now is None:
        return None
    if facts.ends_at is None:
        return "the auction's end is not known"
    if not now < facts.ends_at <= now + timedelta(hours=rule.auction_hours):
        return f"the auction does not end within {rule.auction_hours:g} hours"
    return None


def drop_qualifies(rule: AlertRule, old: int | None, new: int | None, facts: ScoreFacts) -> bool:
    """A drop counts from ``drop_percent`` % or ``drop_amount`` (per unit); either suffices."""
    if old is None or new is None or old <= 0 or new >= old:
        return False
    drop = old - new
    if Decimal(drop) * 100 / Decimal(old) >= rule.drop_percent:
        return True
    if rule.drop_amount is not None:
        per_unit = Decimal(drop) / max(facts.quantity, 1)
        amount = to_minor(rule.drop_amount, facts.currency) or 0
        return per_unit >= amount
    return False


def _hhmm(text: str) -> time:
    hour, minute = text.split(":")
    return time(int(hour), int(minute))


def _at_local(day: date, at: time, tz: ZoneInfo) -> datetime:
    """``day`` at ``at`` local time, as UTC (a time skipped by a DST change resolves forward)."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def quiet_end(now: datetime, quiet_hours: str | None, tz_name: str) -> datetime | None:
    """When ``now`` falls inside the quiet period ("23:00-07:00", local), when it ends (UTC);
    otherwise None. A period whose start is after its end runs over midnight."""
    if not quiet_hours:
        return None
    start_s, _, end_s = quiet_hours.partition("-")
    start, end = _hhmm(start_s), _hhmm(end_s)
    if start == end:
        return None
    tz = ZoneInfo(tz_name)
    local = now.astimezone(tz)
    t = local.time().replace(tzinfo=None)
    if start < end:
        return _at_local(local.date(), end, tz) if start <= t < end else None
    if t >= start:
        return _at_local(local.date() + timedelta(days=1), end, tz)
    if t < end:
        return _at_local(local.date(), end, tz)
    return None


def next_digest_at(now: datetime, digest_time: str, tz_name: str) -> datetime:
    """The next local ``digest_time`` strictly after ``now``, as UTC."""
    tz = ZoneInfo(tz_name)
    local = now.astimezone(tz)
    at = _at_local(local.date(), _hhmm(digest_time), tz)
    return at if at > now else _at_local(local.date() + timedelta(days=1), _hhmm(digest_time), tz)


def due_at(rule: AlertRule, now: datetime, tz_name: str) -> datetime:
    """Instant alerts are due now, or at the end of the quiet period; digest items at the digest."""
    if rule.mode == "digest":
        return next_digest_at(now, rule.digest_time, tz_name)
    return quiet_end(now, rule.quiet_hours, tz_name) or now


def local_date(now: datetime, tz_name: str) -> date:
    return now.astimezone(ZoneInfo(tz_name)).date()


def dedupe_key(listing_id: int, rule: str, event: str, unit_price: int | None,
               channel: str = "email") -> str:
    """The outbox key: one alert per (listing, rule, event, unit price in minor units) and
    channel (email keys carry no channel, as before push targets existed); an auction ending soon
    alerts once whatever its price does."""
    if event == ENDING_SOON:
        unit_price = None
    key = f"{listing_id}:{rule}:{event}:{'none' if unit_price is None else unit_price}"
    return key if channel == "email" else f"{key}@{channel}"


def digest_key(rule: str, day: date, channel: str = "email") -> str:
    key = f"digest:{rule}:{day.isoformat()}"
    return key if channel == "email" else f"{key}@{channel}"


def first_scan_key(rule: str, now: datetime, channel: str = "email") -> str:
    """The key of the one digest a search's first scan sends instead of an alert per listing."""
    key = f"first:{rule}:{now.strftime('%Y%m%dT%H%M%S')}"
    return key if channel == "email" else f"{key}@{channel}"


_DOMAIN = re.compile(r"[^A-Za-z0-9.-]")


def message_id_for(key: str, sender: str) -> str:
    """A Message-ID derived from the outbox key, so a re-sent alert carries the same one."""
    domain = _DOMAIN.sub("", sender.rpartition("@")[2]).strip(".") or "gpuscout.invalid"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<gpuscout.{digest}@{domain}>"


def email_config(cfg: Config) -> EmailConfig:
    if cfg.email is None:
        raise ConfigError("email: there is no [email] section; add one (see `gpuscout config init`)")
    return cfg.email


def alert_rule(cfg: Config, name: str) -> AlertRule:
    for rule in cfg.alerts:
        if rule.name == name:
            return rule
    known = ", ".join(r.name for r in cfg.alerts) or "none"
    raise ConfigError(f"no alert rule named {name!r}; configured: {known}")
