"""Push notifications through Apprise: a short message per alert (or digest) to a [[notify]]
target (ntfy, Telegram, Discord, Pushover, Slack and the rest, by URL).

Failures become DeliveryErrors the outbox understands: a target that cannot be reached or whose
URL variable is unset stays queued without using up an attempt (as a mail server that is down);
a refused message counts an attempt; a URL Apprise cannot use fails for good.
"""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass
from typing import Any, Protocol

from gpuscout.jobs.alerts.price_note import market_note, top_reasons
from gpuscout.jobs.config import NotifyConfig
from gpuscout.jobs.errors import DeliveryError
from gpuscout.jobs.text import clean_text

TITLE_CHARS = 120
BODY_TITLE_CHARS = 200
#: listings a digest push shows (ntfy turns a body over 4 KB into a file attachment)
DIGEST_PUSH_ITEMS = 10
_STATUS = re.compile(r"error=(\d{3})")


@dataclass(frozen=True)
class PushMessage:
    """A push notification: a title, a plain-text body (its last line the link), and the
    outbox key it delivers."""

    title: str
    body: str
    key: str


class Pusher(Protocol):
    """Something that delivers a push message to a target and returns an id for the outbox."""

    def send(self, message: PushMessage, target: NotifyConfig) -> str: ...


def _quiet_apprise() -> Any:
    """Apprise, imported with its plugins' deprecation warnings silenced (they load lazily)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import apprise

    return apprise


class ApprisePusher:
    """Sends through Apprise, one call per message."""

    def send(self, message: PushMessage, target: NotifyConfig) -> str:
        url = target.resolved_url
        if not url:
            raise DeliveryError(f"[[notify]] {target.name!r}: {target.url_env} is not set; export "
                                "the target's Apprise URL in it", kind="auth")
        apprise = _quiet_apprise()
        sender = apprise.Apprise()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            added = sender.add(url)
            if not added:
                raise DeliveryError(f"[[notify]] {target.name!r}: Apprise cannot use this URL "
                                    "(unknown scheme or a missing part); see "
                                    "https://github.com/caronc/apprise/wiki", kind="error",
                                    permanent=True)
            with apprise.LogCapture(level=logging.WARNING) as captured:
                ok = sender.notify(title=message.title, body=message.body,
                                   body_format=apprise.NotifyFormat.TEXT)
        if not ok:
            raise convert(target, captured.getvalue())
        return f"<push:{target.name}:{message.key}>"

    def check(self, target: NotifyConfig) -> None:
        """That the target's URL is set and Apprise can use it (nothing is sent)."""
        url = target.resolved_url
        if not url:
            raise DeliveryError(f"{target.url_env} is not set", kind="auth")
        apprise = _quiet_apprise()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            if not apprise.Apprise().add(url):
                raise DeliveryError("Apprise cannot use this URL", kind="error", permanent=True)


def convert(target: NotifyConfig, log_text: str) -> DeliveryError:
    """A DeliveryError from what Apprise logged about a failed notify()."""
    lines = [line.split(" - ", 2)[-1] for line in log_text.strip().splitlines() if line.strip()]
    detail = clean_text(lines[-1] if lines else "Apprise reported a failure", 300)
    where = f"[[notify]] {target.name!r}: {detail}"
    lowered = detail.lower()
    status = _STATUS.search(detail)
    code = int(status.group(1)) if status else None
    if "connection error" in lowered or "name or service" in lowered:
        return DeliveryError(f"{where} (is the push service reachable?)", kind="refused")
    if "timed out" in lowered or "timeout" in lowered:
        return DeliveryError(where, kind="timeout")
    if code in (401, 403):
        return DeliveryError(f"{where} (check the token in the target's URL)", kind="auth")
    if code is not None and 400 <= code < 500 and code != 429:
        return DeliveryError(where, kind="rejected", permanent=True)
    return DeliveryError(where, kind="error")


# --------------------------------------------------------------------------- messages


def alert_push(listing: Any, score: Any, *, event: str, key: str, money: Any,
               model_label: Any, old_price: int | None = None) -> PushMessage:
    """One alert: "<model> <unit price> — score N" over the title, the price against the market,
    why it scored, and the link."""
    price = money(score.unit_price, score.currency)
    prefix = {"price_drop": "Price drop: ", "back_in_stock": "Back in stock: "}.get(event, "")
    was = f" (was {money(old_price, listing.currency)})" if old_price is not None else ""
    title = clean_text(f"{prefix}{model_label(listing)} {price}{was} — score {score.total}",
                       TITLE_CHARS)
    lines = [clean_text(listing.title, BODY_TITLE_CHARS)]
    note = market_note(score, money)
    if note:
        lines.append(note)
    why = top_reasons(score)
    if why:
        lines.append("Why: " + "; ".join(why))
    where = " · ".join(x for x in (clean_text(listing.source, 40),
                                   clean_text(listing.location, 60)) if x)
    if where:
        lines.append(where)
    from gpuscout.jobs.alerts.mail import safe_url

    link = safe_url(listing.url)
    if link:
        lines.append(link)
    return PushMessage(title=title, body="\n".join(lines), key=key)


def digest_push(heading: str, items: list[dict[str, Any]], *, key: str) -> PushMessage:
    """Several listings in one message: "1. RTX 3090 FE $700 — score 88", the price against the
    market and the link of each, the best ``DIGEST_PUSH_ITEMS`` of them."""
    lines: list[str] = []
    for item in items[:DIGEST_PUSH_ITEMS]:
        lines.append(f"{item['rank']}. {item['model']} {item['price']} — score {item['score']}: "
                     f"{clean_text(item['title'], 90)}")
        if item.get("market"):
            lines.append(f"   {item['market']}")
        if item.get("url"):
            lines.append(f"   {item['url']}")
    if len(items) > DIGEST_PUSH_ITEMS:
        lines.append(f"…and {len(items) - DIGEST_PUSH_ITEMS} more: `gpuscout deals` lists them")
    return PushMessage(title=clean_text(heading, TITLE_CHARS), body="\n".join(lines), key=key)
