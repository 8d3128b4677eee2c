"""Email: SMTP delivery with plain failure messages, and safe multipart alert and digest messages.

Listing titles are hostile input. Every header value goes through :func:`clean_text` (control
characters removed, whitespace collapsed, encoded-word openers ``=?`` broken, length capped) and
the message is built with ``email.message.EmailMessage`` under ``email.policy.SMTP``; a final
check refuses any header that still holds a line break. Bodies are rendered by Jinja2 with
autoescaping for HTML, and only http(s) links and images are emitted.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import jinja2

from gpuscout.jobs.config import SMTP_PASSWORD_ENV, EmailConfig
from gpuscout.jobs.errors import DeliveryError
from gpuscout.jobs.text import clean_text
from gpuscout.models.storage.records import from_minor

if TYPE_CHECKING:
    from gpuscout.models.storage.tables.listings import Listing, PriceObservation, Score

#: failures of the connection or the account, not of one message (the outbox does not count them)
CONNECTION_KINDS = frozenset({"dns", "refused", "timeout", "tls", "auth"})
#: the server had the whole message when the connection failed: it may have been delivered
UNCERTAIN = "uncertain"
SUBJECT_TITLE_CHARS = 120
BODY_TITLE_CHARS = 500
_TEMPLATES = Path(__file__).with_name("templates")


class Mailer(Protocol):
    """Something that delivers a message and returns its Message-ID."""

    def send(self, msg: EmailMessage) -> str: ...


def safe_url(url: str | None) -> str | None:
    """``url`` when it is an absolute http(s) URL without whitespace, quotes or angle brackets
    (escaping would make those harmless too; a marketplace URL never needs them), else None."""
    if not url:
        return None
    url = url.strip()
    if not url.lower().startswith(("http://", "https://")) or any(
            ch.isspace() or ch in '"<>\\`' or unicodedata.category(ch) == "Cc" for ch in url):
        return None
    return url


# --------------------------------------------------------------------------- messages


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(template: str, context: Mapping[str, Any]) -> str:
    return _env().get_template(template).render(**context)


@dataclass(frozen=True)
class InlineImage:
    """A picture the HTML part shows by ``cid:`` (a chart), sent inside the message."""

    cid: str
    data: bytes
    subtype: str = "png"
    filename: str = "chart.png"


def inline_cid(message_id: str, name: str) -> str:
    """A Content-ID for a picture of the message ``message_id`` (unique with it)."""
    local, _, domain = message_id.strip("<>").partition("@")
    return f"{name}.{local}@{domain or 'gpuscout.invalid'}"


def build_message(email: EmailConfig, *, subject: str, text: str, html: str | None,
                  message_id: str, now: datetime,
                  images: Sequence[InlineImage] = ()) -> EmailMessage:
    """A multipart/alternative message (plain text first, then HTML) under policy SMTP; the HTML
    part becomes multipart/related with ``images`` attached inline after it."""
    msg = EmailMessage(policy=policy.SMTP)
    try:
        msg["Subject"] = clean_text(subject, 250)
        msg["From"] = email.sender
        msg["To"] = ", ".join(email.recipients)
        msg["Date"] = format_datetime(now)
        msg["Message-ID"] = message_id
        msg["Auto-Submitted"] = "auto-generated"
    except ValueError as exc:  # policy SMTP refuses CR/LF in a header value
        raise DeliveryError(f"refusing to send: {exc} (check email.sender and email.recipients)",
                            kind="error", permanent=True) from exc
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
        if images:
            html_part = msg.get_body(preferencelist=("html",))
            assert isinstance(html_part, EmailMessage)
            for image in images:
                html_part.add_related(image.data, maintype="image", subtype=image.subtype,
                                      cid=f"<{image.cid}>", filename=image.filename,
                                      disposition="inline")
    for name, value in msg.items():
        if any(ch in str(value) for ch in "\r\n\0"):
            raise DeliveryError(f"refusing to send: the {name} header holds a line break",
                                kind="error", permanent=True)
    return msg


def render_message(email: EmailConfig, *, template: str, subject: str,
                   context: Mapping[str, Any], message_id: str, now: datetime,
                   images: Sequence[InlineImage] = ()) -> EmailMessage:
    """Render ``<template>.txt.j2`` and ``<template>.html.j2`` into one message (``images``
    inline, referenced from the HTML by their ``cid``)."""
    full = {**context, "subject": clean_text(subject, 250)}
    return build_message(email, subject=subject, text=render(f"{template}.txt.j2", full),
                         html=render(f"{template}.html.j2", full), message_id=message_id, now=now,
                         images=images)


def check_message(email: EmailConfig, *, now: datetime, message_id: str) -> EmailMessage:
    security = {"none": "no encryption", "starttls": "STARTTLS", "tls": "implicit TLS"}
    text = (
        "This is a test message from gpuscout.\n\n"
        f"Server: {email.smtp_host}:{email.smtp_port} ({security.get(email.security, email.security)})\n"
        f"Login: {email.username or '(none)'}\n"
        f"From: {email.sender}\nTo: {', '.join(email.recipients)}\n\n"
        "If you can read this, alerts will reach you.\n"
    )
    return build_message(email, subject="[gpuscout] test message", text=text, html=None,
                         message_id=message_id, now=now)


# --------------------------------------------------------------------------- content

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$", "JPY": "¥"}
_EVENTS = {"new": "New listing", "price_drop": "Price drop", "back_in_stock": "Back in stock",
           "ending_soon": "Auction ending soon"}
_VARIANTS = {"fe": "FE", "oem": "OEM"}


def money(minor: int | None, currency: str | None) -> str:
    """$699, $1,299.50, 650 CHF."""
    amount = from_minor(minor, currency)
    if amount is None:
        return "?"
    text = f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    symbol = _SYMBOLS.get(currency or "")
    return f"{symbol}{text}" if symbol else f"{text} {currency or ''}".rstrip()


def model_label(listing: Listing) -> str:
    """"RTX 3090 FE" from the identified model and variant."""
    model = (listing.model or "").strip()
    if not model or model == "none":
        return "GPU"
    variant = _VARIANTS.get((listing.variant or "").lower(), "")
    return clean_text(f"{model.upper()} {variant}".strip(), 40)


def alert_subject(listing: Listing, score: Score, event: str, *, old_price: int | None) -> str:
    price = money(score.unit_price, score.currency)
    prefix = {"price_drop": "Price drop: ", "back_in_stock": "Back in stock: ",
              "ending_soon": "Auction ending soon: "}.get(event, "")
    was = f" (was {money(old_price, listing.currency)})" if old_price is not None else ""
    return (f"[gpuscout] {prefix}{model_label(listing)} {price}{was} — score {score.total}: "
            f"{clean_text(listing.title, SUBJECT_TITLE_CHARS)}")


def _components(raw: Any) -> list[dict[str, Any]]:
    items = list(raw.values()) if isinstance(raw, dict) else raw if isinstance(raw, list) else []
    names = list(raw) if isinstance(raw, dict) else [None] * len(items)
    out = []
    for name, item in zip(names, items, strict=True):
        if not isinstance(item, dict):
            continue
        reasons = item.get("reasons")
        detail = "; ".join(map(str, reasons)) if isinstance(reasons, list) else item.get("detail", "")
        out.append({"name": clean_text(item.get("name") or name or "?", 40),
                    "points": clean_text(item.get("points", ""), 10),
                    "max": clean_text(item.get("max") or item.get("max_points") or "", 10),
                    "detail": clean_text(detail, 200)})
    return out


def alert_context(listing: Listing, score: Score, history: Sequence[PriceObservation], *,
                  event: str, rule: str, watch: str) -> dict[str, Any]:
    """Everything the alert templates show, each value already cleaned."""
    rows = [{"when": h.observed_at.strftime("%Y-%m-%d %H:%M UTC"),
             "price": money(h.price, h.currency or listing.currency),
             "shipping": money(h.shipping, h.currency or listing.currency) if h.shipping else ""}
            for h in history]
    note = ""
    if event == "price_drop" and len(history) >= 2:
        before, after = history[-2], history[-1]
        old = (before.price or 0) + (before.shipping or 0)
        new = (after.price or 0) + (after.shipping or 0)
        if old > new:
            note = (f"Was {money(old, listing.currency)}, now {money(new, listing.currency)} "
                    f"(−{(old - new) * 100 / old:.1f} %)")
    reasons = score.reasons if isinstance(score.reasons, list) else []
    from gpuscout.jobs.alerts.price_note import market_note

    return {
        "headline": _EVENTS.get(event, event), "event_note": note,
        "market_note": market_note(score, money) or "",
        "model": model_label(listing), "price": money(score.unit_price, score.currency),
        "score": score.total, "title": clean_text(listing.title, BODY_TITLE_CHARS),
        "url": safe_url(listing.url), "image_url": safe_url(listing.image_url),
        "source": clean_text(listing.source, 40), "location": clean_text(listing.location, 100),
        "seller": clean_text(listing.seller, 100), "condition": clean_text(listing.condition, 100),
        "reasons": [clean_text(r, 300) for r in reasons], "components": _components(score.components),
        "history": rows, "rule": clean_text(rule, 64), "watch": clean_text(watch, 64),
        # NOTE: the market of the last 90 days, when known (see ``alerts.market``)
        "market": None,
    }


def digest_item(rank: int, listing: Listing, score: Score, event: str) -> dict[str, Any]:
    return {"rank": rank, "score": score.total, "price": money(score.unit_price, score.currency),
            "model": model_label(listing), "title": clean_text(listing.title, BODY_TITLE_CHARS),
            "url": safe_url(listing.url), "image_url": safe_url(listing.image_url),
            "source": clean_text(listing.source, 40), "location": clean_text(listing.location, 100),
            "event_label": "" if event == "new" else _EVENTS.get(event, event).lower()}


def digest_subject(rule: str, items: Sequence[Mapping[str, Any]]) -> str:
    best = items[0]
    count = f"{len(items)} new deal{'' if len(items) == 1 else 's'}"
    return (f"[gpuscout] Digest {clean_text(rule, 64)}: {count}, best {best['model']} "
            f"{best['price']} — score {best['score']}")


# --------------------------------------------------------------------------- delivery


class SmtpMailer:
    """Sends through the configured SMTP server: one connection per :meth:`send`.

    ``smtp_class``/``smtp_ssl_class`` and ``ssl_context`` are there so tests can substitute a
    fake client or trust a local certificate.
    """

    def __init__(self, email: EmailConfig, *, password: str | None = None,
                 smtp_class: Callable[..., smtplib.SMTP] = smtplib.SMTP,
                 smtp_ssl_class: Callable[..., smtplib.SMTP] = smtplib.SMTP_SSL,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.email = email
        self.password = password if password is not None else email.password
        self.smtp_class = smtp_class
        self.smtp_ssl_class = smtp_ssl_class
        self.ssl_context = ssl_context
        #: recipients the server refused while accepting the others, on the last send
        self.partially_refused: list[str] = []

    @property
    def where(self) -> str:
        return f"{self.email.smtp_host}:{self.email.smtp_port}"

    def send(self, msg: EmailMessage) -> str:
        """Deliver ``msg`` to every configured recipient; DeliveryError says what failed."""
        if not self.email.recipients:
            raise DeliveryError("no recipients: set email.recipients", kind="rejected",
                                permanent=True)
        self.partially_refused = []
        with self._connection() as smtp:
            delivered = _watch_data(smtp)
            try:
                refused = smtp.send_message(msg, from_addr=self.email.sender,
                                            to_addrs=list(self.email.recipients))
            except (smtplib.SMTPServerDisconnected, OSError) as exc:
                if delivered():
                    raise DeliveryError(
                        f"{self.where} received the whole message, then closed the connection "
                        f"or went silent before confirming it ({type(exc).__name__}): it may have "
                        "been delivered", kind=UNCERTAIN) from exc
                raise self.convert(exc, "send") from exc
            except smtplib.SMTPException as exc:
                raise self.convert(exc, "send") from exc
        if refused:
            self.partially_refused = sorted(refused)
        return str(msg["Message-ID"] or "")

    def check(self) -> None:
        """Connect, negotiate TLS and log in, without sending anything."""
        with self._connection():
            pass

    @contextmanager
    def _connection(self) -> Iterator[smtplib.SMTP]:
        e = self.email
        if e.username and not self.password:
            raise DeliveryError(f"email.username is set but {SMTP_PASSWORD_ENV} is not: export the "
                                "password (or remove username for a server without login)",
                                kind="auth", permanent=False)
        stage = "connect"
        try:
            context = self.ssl_context or ssl.create_default_context()
            if e.security == "tls":
                smtp = self.smtp_ssl_class(e.smtp_host, e.smtp_port, timeout=e.timeout,
                                           context=context)
            else:
                smtp = self.smtp_class(e.smtp_host, e.smtp_port, timeout=e.timeout)
        except (smtplib.SMTPException, OSError) as exc:
            raise self.convert(exc, stage) from exc
        try:
            smtp.ehlo()
            if e.security == "starttls":
                stage = "starttls"
                smtp.starttls(context=context)
                smtp.ehlo()
            if e.username:
                stage = "login"
                smtp.login(e.username, self.password or "")
            stage = "send"
            yield smtp
        except (smtplib.SMTPException, OSError) as exc:
            raise self.convert(exc, stage) from exc
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    def convert(self, exc: BaseException, stage: str) -> DeliveryError:
        """A plain DeliveryError for a socket, TLS or SMTP failure at ``stage``."""
        e, where = self.email, self.where
        if isinstance(exc, DeliveryError):
            return exc
        if isinstance(exc, socket.gaierror):
            return DeliveryError(f"cannot resolve the mail server name {e.smtp_host!r} ({exc}): "
                                 "check email.smtp_host and your DNS", kind="dns")
        if isinstance(exc, ConnectionRefusedError):
            return DeliveryError(f"connection refused by {where}: check email.smtp_host and "
                                 "email.smtp_port, and that the mail server is running",
                                 kind="refused")
        if isinstance(exc, TimeoutError):
            return DeliveryError(f"no answer from {where} within {e.timeout:g} s during {stage}: "
                                 "check the host, the port and any firewall", kind="timeout")
        if isinstance(exc, ssl.SSLCertVerificationError):
            return DeliveryError(f"the certificate of {where} is not trusted "
                                 f"({exc.verify_message}): check email.smtp_host is the name on "
                                 "the certificate", kind="tls")
        if isinstance(exc, ssl.SSLError) or (stage == "starttls" and isinstance(
                exc, smtplib.SMTPNotSupportedError)):
            hint = ('the server does not offer STARTTLS: set email.security = "tls" (port 465) '
                    'or "none" (a local relay)' if isinstance(exc, smtplib.SMTPNotSupportedError)
                    else f"TLS failed ({exc}): check email.security — starttls for port 587, "
                         "tls for port 465, none for a local relay")
            return DeliveryError(f"{where}: {hint}", kind="tls")
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return DeliveryError(f"{where} refused the login for {e.username!r} "
                                 f"({exc.smtp_code} {_text(exc.smtp_error)}): check email.username "
                                 f"and {SMTP_PASSWORD_ENV}", kind="auth")
        if stage == "login" and isinstance(exc, smtplib.SMTPNotSupportedError):
            return DeliveryError(f"{where} does not offer login (AUTH): remove email.username, or "
                                 'use security = "starttls"/"tls" (many servers offer AUTH only '
                                 "after TLS)", kind="auth")
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            codes = [code for code, _ in exc.recipients.values()]
            detail = "; ".join(f"{addr}: {code} {_text(msg)}"
                               for addr, (code, msg) in exc.recipients.items())
            return DeliveryError(f"{where} refused the recipients ({detail}): check "
                                 "email.recipients", kind="rejected",
                                 permanent=all(c >= 500 for c in codes))
        if isinstance(exc, smtplib.SMTPSenderRefused):
            return DeliveryError(f"{where} refused the sender {e.sender!r} ({exc.smtp_code} "
                                 f"{_text(exc.smtp_error)}): check email.sender (many servers "
                                 "accept only the account's own address)", kind="rejected",
                                 permanent=exc.smtp_code >= 500)
        if isinstance(exc, smtplib.SMTPResponseException):
            permanent = exc.smtp_code >= 500 and stage == "send"
            return DeliveryError(f"{where} answered {exc.smtp_code} {_text(exc.smtp_error)} "
                                 f"during {stage}", kind="rejected" if permanent else "error",
                                 permanent=permanent)
        if isinstance(exc, smtplib.SMTPServerDisconnected):
            return DeliveryError(f"{where} closed the connection during {stage}: check "
                                 "email.security and email.smtp_port", kind="error")
        return DeliveryError(f"sending through {where} failed during {stage}: "
                             f"{type(exc).__name__}: {exc}", kind="error")


def _watch_data(smtp: Any) -> Callable[[], bool]:
    """A check that says whether the whole message (up to the final ".") went to the server.

    NOTE: after that moment a lost connection or a timeout leaves the outcome unknown: the server
    may have queued the message before it could answer. smtplib does not tell the two moments
    apart, so its ``send`` is watched for the end-of-data marker on this one connection.
    """
    sent = False
    original = getattr(smtp, "send", None)
    if not callable(original):
        return lambda: False

    def send(data: bytes | str) -> None:
        nonlocal sent
        original(data)
        if isinstance(data, bytes) and data.endswith(b"\r\n.\r\n"):
            sent = True

    setattr(smtp, "send", send)  # noqa: B010 - replaces the bound method on this instance only
    return lambda: sent


def _text(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return clean_text(text, 200)
