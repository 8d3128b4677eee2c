"""The project's own pages: small, self-written marketplace pages in each source's real markup, kept
in tests/scraper/sources/pages so that every parser and the whole pipeline run on a fresh clone; and
a parse result's listings by id."""

from __future__ import annotations

from pathlib import Path

from gpuscout.scraper.listing import RawListing
from gpuscout.scraper.sources.base import ParseResult

PAGES_DIR = Path(__file__).resolve().parents[1] / "scraper" / "sources" / "pages"


def page_path(relative: str) -> Path:
    """page_path("ebay/search-scard-us.html") -> its file; KeyError-like FileNotFoundError if absent."""
    path = PAGES_DIR / relative
    if not path.is_file():
        raise FileNotFoundError(f"no own page {relative!r} under {PAGES_DIR}")
    return path


def read_page(relative: str) -> bytes:
    """read_page("reddit/hardwareswap-new.json") -> the page's bytes."""
    return page_path(relative).read_bytes()


def all_pages() -> list[str]:
    """Every own page, relative to PAGES_DIR, sorted."""
    return sorted(str(p.relative_to(PAGES_DIR)) for p in PAGES_DIR.rglob("*")
                  if p.suffix in (".html", ".json"))


def by_id(result: ParseResult) -> dict[str, RawListing]:
    """A parse result's listings by their marketplace id."""
    return {listing.external_id: listing for listing in result.listings}
