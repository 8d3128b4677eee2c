"""Commands for reading pages and judging listings: parse, evaluate, explain, rescore."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from jobs.app import App
from jobs.output import emit, format_option

pass_app = click.make_pass_decorator(App)

PARSE_COLUMNS = ("source", "external_id", "url", "title", "price", "shipping", "currency",
                 "location", "posted_at", "seller", "seller_feedback", "condition",
                 "buying_format", "status", "description", "image_url")
#: a URL that makes relative links absolute when a saved page is parsed without --url
DEFAULT_PAGE_URLS = {
    "ebay": "https://www.ebay.com/sch/i.html",
    "reddit": "https://www.reddit.com/r/hardwareswap/new.json",
    "craigslist": "https://sfbay.craigslist.org/search/sss",
    "facebook": "https://www.facebook.com/marketplace/",
}


def raw_to_dict(raw: Any) -> dict[str, Any]:
    from scraper.money import format_amount

    out: dict[str, Any] = {}
    for key in PARSE_COLUMNS:
        value = getattr(raw, key)
        if key in ("price", "shipping"):
            value = format_amount(value)
        out[key] = value
    return out


@click.command("parse")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", type=click.Choice(["ebay", "reddit", "craigslist", "facebook"]),
              help="Which marketplace the page is from (default: detected from the content).")
@click.option("--url", help="The URL the page was fetched from (makes links absolute).")
@format_option(default="json", choices=("json", "table"))
def parse_cmd(file: Path, source: str | None, url: str | None, fmt: str) -> None:
    """Parse a saved page offline and print every listing it holds.

    The tool to reach for when a marketplace changes its markup: save the page, run this, see
    what is read. A login wall, a captcha or an unrecognised page exits 1 and says which."""
    from scraper.errors import Blocked, MarkupDrift, ScrapeError, UnsupportedPage
    from scraper.sources import detect_source, get_source

    body = file.read_bytes()
    try:
        src = get_source(source) if source else detect_source(body, url)
        result = src.parse(body, url or DEFAULT_PAGE_URLS[src.name])
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
             table_columns=("external_id", "title", "price", "shipping", "currency", "location",
                            "status"))
        return
    emit(rows, "json", PARSE_COLUMNS)
    if not rows and result.empty:
        click.echo(f"{file}: a 'no results' page", err=True)


COMMANDS: list[click.Command] = [parse_cmd]
