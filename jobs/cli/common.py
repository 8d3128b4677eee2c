"""What the command modules share openly: the App decorator, finding a listing, reading ages."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import click

from gpuscout.jobs.app import App

pass_app = click.make_pass_decorator(App)


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


def find_listing(session: Any, ref: str) -> Any:
    from gpuscout.models.storage.queries import find_listing

    listing = find_listing(session, ref)
    if listing is None:
        raise click.ClickException(f"no listing {ref!r} (use an id from `gpuscout deals`, or "
                                   "source:external_id)")
    return listing
