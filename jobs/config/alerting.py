"""The alert tables of the configuration: [email], [[notify]] push targets and [[alert]] rules."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from gpuscout.jobs.config.schema import (
    EMAIL_CHANNEL,
    EVENTS,
    MODES,
    SECURITY,
    SMTP_PASSWORD_ENV,
    AlertRule,
    EmailConfig,
    NotifyConfig,
)
from gpuscout.jobs.config.urls import is_host, mask_url
from gpuscout.jobs.config.values import Table, defaults
from gpuscout.jobs.errors import ConfigError

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def parse_email(raw: Any) -> EmailConfig:
    r = Table(raw, "email", defaults(EmailConfig))
    recipients = r.raw("recipients", [])
    if isinstance(recipients, str):
        recipients = [recipients]
    if not isinstance(recipients, list) or not all(
        isinstance(x, str) and "@" in x for x in recipients
    ):
        raise ConfigError(f"email.recipients = {recipients!r}: must be a list of email addresses")
    if "password" in r.data:
        raise ConfigError(f"email.password: not allowed in the file; set {SMTP_PASSWORD_ENV} instead")
    smtp_host = r.string("smtp_host")
    if not is_host(smtp_host):
        raise ConfigError(f"email.smtp_host = {smtp_host!r}: must be a host name or an address "
                          "(no scheme, port or spaces: the port is email.smtp_port)")
    e = EmailConfig(
        smtp_host=smtp_host,
        smtp_port=r.number("smtp_port", minimum=1, maximum=65535, integer=True),
        security=r.string("security", choices=SECURITY),
        sender=r.string("sender", single_line=True),
        recipients=tuple(recipients),
        username=r.string("username"),
        timeout=float(r.number("timeout", minimum=1)),
        timezone=r.string("timezone"),
    )
    r.done()
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(e.timezone)
    except Exception as exc:
        raise ConfigError(f"email.timezone = {e.timezone!r}: must be an IANA zone like "
                          "'America/New_York'") from exc
    return e


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SCHEME_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$")


def parse_notify(i: int, raw: Any) -> NotifyConfig:
    r = Table(raw, f"notify[{i}]", defaults(NotifyConfig))
    n = NotifyConfig(name=r.string("name", single_line=True), url=r.string("url"),
                     url_env=r.string("url_env", single_line=True))
    r.done()
    key = f"notify[{i}]"
    if n.name == EMAIL_CHANNEL:
        raise ConfigError(f"{key}.name = 'email': that name is the [email] section's; pick another")
    if (n.url is None) == (n.url_env is None):
        raise ConfigError(f"{key}: give url (an Apprise URL without secrets) or url_env (the "
                          "environment variable holding it), not both or neither")
    if n.url_env is not None and not _ENV_NAME.match(n.url_env):
        raise ConfigError(f"{key}.url_env = {n.url_env!r}: must be an environment variable name "
                          "like GPUSCOUT_NOTIFY_PHONE")
    if n.url is not None:
        if not _SCHEME_URL.match(n.url):
            raise ConfigError(f"{key}.url = {n.url!r}: must be an Apprise URL like "
                              "'ntfy://ntfy.sh/my-topic'")
        if mask_url(n.url) != n.url:
            raise ConfigError(f"{key}.url holds a password or token: put the URL in an "
                              "environment variable and name it with url_env instead")
    return n


def parse_alert(i: int, raw: Any, watches: set[str]) -> AlertRule:
    r = Table(raw, f"alert[{i}]", defaults(AlertRule))
    watch = r.string("watch")
    if watch not in watches:
        raise ConfigError(f"alert[{i}].watch = {watch!r}: must name a watch ({', '.join(sorted(watches))})")
    events = r.raw("events", list(AlertRule.events))
    if not isinstance(events, list) or not events or any(e not in EVENTS for e in events):
        raise ConfigError(f"alert[{i}].events = {events!r}: must be a list of {', '.join(EVENTS)}")
    quiet = r.string("quiet_hours")
    if quiet is not None:
        start, _, end = quiet.partition("-")
        if not (_HHMM.match(start) and _HHMM.match(end)):
            raise ConfigError(f"alert[{i}].quiet_hours = {quiet!r}: must look like '23:00-07:00'")
    digest_time = r.string("digest_time")
    if not _HHMM.match(digest_time):
        raise ConfigError(f"alert[{i}].digest_time = {digest_time!r}: must be HH:MM (24-hour)")
    a = AlertRule(
        name=r.string("name", f"{watch}-{i}", single_line=True),
        watch=watch,
        min_score=r.number("min_score", minimum=0, maximum=100, integer=True),
        max_price=r.money("max_price"),
        events=tuple(events),
        mode=r.string("mode", choices=MODES),
        drop_percent=r.money("drop_percent") or Decimal(0),
        drop_amount=r.money("drop_amount"),
        digest_time=digest_time,
        digest_top=r.number("digest_top", minimum=1, integer=True),
        quiet_hours=quiet,
        auction_hours=r.number("auction_hours", minimum=0.25, maximum=720),
        move_percent=_positive(r.money("move_percent"), f"alert[{i}].move_percent"),
        move_days=r.number("move_days", minimum=1, maximum=365, integer=True),
        notify=tuple(_names(f"alert[{i}].notify", r.raw("notify", []))),
    )
    r.done()
    if "market_move" in a.events and a.mode != "instant":
        raise ConfigError(f"alert[{i}].events: market_move alerts are instant; put them in a rule "
                          'with mode = "instant"')
    return a


def _positive(value: Decimal | None, key: str) -> Decimal:
    if value is None or value <= 0:
        raise ConfigError(f"{key} = {value}: must be a positive number")
    return value


def _names(key: str, value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(x, str) and x for x in value):
        raise ConfigError(f"{key} = {value!r}: must be a list of channel names like "
                          "[\"email\", \"phone\"]")
    return list(dict.fromkeys(value))
