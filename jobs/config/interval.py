"""Intervals between scans: ``every = "60s"`` read and checked, and how often a cron schedule
fires (for jitter and for when `status` calls a search stale)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from gpuscout.jobs.errors import ConfigError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^(?:(\d+)\s*([smhd])\s*)+$")
_PART = re.compile(r"(\d+)\s*([smhd])")
#: the least interval accepted (a faster poll would be impolite whatever the site)
MIN_EVERY = 1.0


def parse_every(key: str, value: object) -> float:
    """Seconds from ``"60s"``, ``"10m"``, ``"1h30m"``, ``"1d"`` (or a number of seconds)."""
    if isinstance(value, bool):
        raise ConfigError(f"{key} = {value!r}: must be a duration like \"60s\", \"10m\" or \"1h\"")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and _DURATION.match(value.strip().lower()):
        seconds = float(sum(int(n) * _UNITS[u] for n, u in _PART.findall(value.strip().lower())))
    else:
        raise ConfigError(f"{key} = {value!r}: must be a duration like \"60s\", \"10m\" or \"1h\"")
    if not seconds >= MIN_EVERY or seconds != seconds or seconds == float("inf"):
        raise ConfigError(f"{key} = {value!r}: must be at least {MIN_EVERY:g} second")
    return seconds


def format_every(seconds: float) -> str:
    """``600`` -> ``"10m"``, ``90`` -> ``"90s"``, ``5400`` -> ``"90m"``."""
    whole = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if whole >= size and whole % size == 0 and whole == seconds:
            return f"{whole // size}{unit}"
    return f"{seconds:g}s"


def cron_gap(expr: str, *, start: datetime | None = None, fires: int = 400) -> float:
    """The longest wait between two fires of a cron schedule over its next ``fires`` fires (a
    working-days schedule waits over the weekend), in seconds."""
    from apscheduler.triggers.cron import CronTrigger

    trigger = CronTrigger.from_crontab(expr, timezone=UTC)
    now = start or datetime(2024, 1, 1, tzinfo=UTC)
    previous = trigger.get_next_fire_time(None, now)
    longest = 0.0
    for _ in range(fires):
        if previous is None:
            break
        following = trigger.get_next_fire_time(previous, previous + timedelta(seconds=1))
        if following is None:
            break
        longest = max(longest, (following - previous).total_seconds())
        previous = following
        if previous - now > timedelta(days=366):
            break
    return longest or 86400.0


def every_as_cron(seconds: float) -> tuple[str, bool]:
    """The crontab line's schedule for an interval, and whether it is exact: cron counts whole
    minutes that divide an hour (or whole hours that divide a day); anything else is rounded."""
    minutes = max(1, round(seconds / 60))
    if minutes < 60:
        step = next(m for m in range(minutes, 61) if 60 % m == 0)
        return ("* * * * *" if step == 1 else f"*/{step} * * * *"), step * 60 == seconds
    hours = max(1, round(minutes / 60))
    step = next(h for h in range(hours, 25) if 24 % h == 0)
    return ("0 * * * *" if step == 1 else f"0 */{step} * * *"), step * 3600 == seconds
