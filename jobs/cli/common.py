"""What the command modules share openly: the App decorator, finding a listing, reading ages and
amounts from the command line (refused with a one-line usage error, never a traceback)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import click

from gpuscout.jobs.app import App

pass_app = click.make_pass_decorator(App)


if TYPE_CHECKING:
    _ParamType = click.ParamType[Any]
else:  # NOTE: ParamType takes a type parameter from click 8.4 on only
    _ParamType = click.ParamType

#: the longest age an option accepts: further back than any listing
MAX_AGE = timedelta(days=36_500)
#: the largest amount an option accepts, as for prices read from pages
MAX_AMOUNT = Decimal(100_000_000)
_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1),
          "w": timedelta(weeks=1)}


def parse_since(value: str | None) -> timedelta | None:
    """'24h', '7d', '90m', '2w' -> timedelta (at most MAX_AGE); BadParameter otherwise."""
    if value is None:
        return None
    m = re.fullmatch(r"\s*([0-9]{1,12})\s*([mhdw])\s*", value)
    if not m:
        raise click.BadParameter(f"{value!r}: use a number and a unit, like 90m, 24h, 7d or 2w")
    n, unit = int(m.group(1)), _UNITS[m.group(2)]
    if n > MAX_AGE / unit:
        raise click.BadParameter(f"{value!r}: at most {MAX_AGE.days} days "
                                 f"({int(MAX_AGE / unit)}{m.group(2)})")
    return n * unit


class Age(_ParamType):
    """An age such as 90m, 24h, 7d or 2w, as a timedelta."""

    name = "AGE"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> timedelta | None:
        if isinstance(value, timedelta) or value is None:
            return value
        try:
            return parse_since(str(value))
        except click.BadParameter as exc:
            self.fail(exc.message, param, ctx)


class Amount(_ParamType):
    """A finite, non-negative amount of money up to MAX_AMOUNT, as a Decimal ("nan", "inf",
    "1e999" and "-5" are refused)."""

    name = "AMOUNT"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Decimal:
        if isinstance(value, Decimal):
            return value
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            self.fail(f"{value!r} is not a number", param, ctx)
        if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
            self.fail(f"{value!r} is not an amount from 0 to {MAX_AMOUNT}", param, ctx)
        return amount


def find_listing(session: Any, ref: str) -> Any:
    from gpuscout.models.storage.queries import find_listing

    listing = find_listing(session, ref)
    if listing is None:
        raise click.ClickException(f"no listing {ref!r} (use an id from `gpuscout deals`, or "
                                   "source:external_id)")
    return listing
