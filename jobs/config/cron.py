"""Checking a 5-field cron expression without importing the scheduler: its fields, their ranges,
and that it fires at all (``* * 31 2 *`` never does).

Plain syntax (``*``, numbers, ranges, steps, lists, month and weekday names) is read here, as
APScheduler reads it: day of month and day of week must both match, weekdays count from Monday
(0 or ``mon``). Anything else (APScheduler's ``last`` or ``2nd fri``) is handed to APScheduler
itself, which then decides.
"""

from __future__ import annotations

import calendar
import re

from gpuscout.jobs.errors import ConfigError

_MONTHS = {name: i for i, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_WEEKDAYS = {name: i for i, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))}
#: (name, lowest, highest, names) per field, in crontab order
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}), ("hour", 0, 23, {}), ("day", 1, 31, {}),
           ("month", 1, 12, _MONTHS), ("day of week", 0, 6, _WEEKDAYS))
_PART = re.compile(r"^(?:(\*)|([a-z0-9]+)(?:-([a-z0-9]+))?)(?:/(\d+))?$")


class _Unread(Exception):
    """Syntax this module leaves to APScheduler."""


def _value(text: str, names: dict[str, int]) -> int:
    if text.isdigit():
        return int(text)
    if text in names:
        return names[text]
    raise _Unread(text)


def _field(text: str, name: str, lo: int, hi: int, names: dict[str, int]) -> set[int]:
    values: set[int] = set()
    for part in text.lower().split(","):
        m = _PART.match(part)
        if not m:
            raise _Unread(part)
        star, first, last, step = m.groups()
        start = lo if star else _value(first, names)
        end = hi if star or (step and last is None) else _value(last or first, names)
        for v in (start, end):
            if not lo <= v <= hi:
                raise ConfigError(f"{name} {v} is outside {lo}-{hi}")
        if start > end:
            raise ConfigError(f"{name} range {part} runs backwards")
        every = int(step) if step else 1
        if every < 1:
            raise ConfigError(f"{name} step {part} must be at least 1")
        values.update(range(start, end + 1, every))
    return values


def _fires(days: set[int], months: set[int]) -> bool:
    """Whether some month has one of ``days`` (in a leap year, so 29 February counts). NOTE: the
    day of week never rules a date out: every date falls on every weekday in some year."""
    return any(day <= calendar.monthrange(2024, month)[1] for month in months for day in days)


def check_cron(key: str, expr: str) -> None:
    """Raise ConfigError naming ``key`` unless ``expr`` is a 5-field cron expression that fires."""
    parts = expr.split()
    if len(parts) != 5:
        raise ConfigError(f"{key} = {expr!r}: must be a 5-field cron expression like '*/30 * * * *'")
    try:
        sets = [_field(p, *spec) for p, spec in zip(parts, _FIELDS, strict=True)]
    except ConfigError as exc:
        raise ConfigError(f"{key} = {expr!r}: invalid cron expression ({exc})") from None
    except _Unread:
        _check_with_scheduler(key, expr)
        return
    if not _fires(sets[2], sets[3]):
        raise ConfigError(f"{key} = {expr!r}: never fires (no month has such a day)")


def _check_with_scheduler(key: str, expr: str) -> None:
    from datetime import UTC, datetime

    from apscheduler.triggers.cron import CronTrigger

    try:
        trigger = CronTrigger.from_crontab(expr, timezone=UTC)
    except ValueError as exc:
        raise ConfigError(f"{key} = {expr!r}: invalid cron expression ({exc})") from exc
    now = datetime(2024, 1, 1, tzinfo=UTC)
    if trigger.get_next_fire_time(None, now) is None:
        raise ConfigError(f"{key} = {expr!r}: never fires")
