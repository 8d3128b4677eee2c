"""The one interface every marketplace source implements (one module per source beside this one).

A source knows three things about its marketplace: how to build a search URL from a configured base
URL, which request headers the real site expects, and how to read a page it returns. Parsing is pure
(bytes + URL in, a ParseResult out); fetching is done by gpuscout.scraper.fetch.client and handed in.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from gpuscout.scraper.listing import RawListing
from gpuscout.scraper.sources.registry import BY_NAME

if TYPE_CHECKING:
    from datetime import datetime

    import httpx

    from gpuscout.scraper.fetch.memory import TokenCache


@dataclass(frozen=True, slots=True)
class SearchSpec:
    """What to ask a marketplace for. ``options`` holds source-specific settings
    (``subreddit`` for reddit, ``site`` for craigslist, ``sold`` for ebay, ...)."""

    query: str
    base_url: str
    max_pages: int = 3
    min_price: int | None = None
    max_price: int | None = None
    options: Mapping[str, str] = field(default_factory=dict)
    #: secrets from environment variables (API keys); never logged or shown
    credentials: Mapping[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, slots=True)
class Access:
    """What a search needs to reach its marketplace, as `gpuscout doctor` reports it: ``ready``
    True (all set), False (it cannot work: ``advice`` says what to set up) or None (it works,
    but a better route needs something: ``advice`` says what)."""

    ready: bool | None
    detail: str
    advice: str | None = None


@dataclass(frozen=True, slots=True)
class ParseResult:
    """What one page held.

    ``listings``: every listing that parsed (placeholders, stickies and adverts already left out).
    ``empty``: True only when the page positively says "no results" (not when parsing found nothing:
    that raises MarkupDrift instead). ``next_url``: the next page of these results, if the page
    links one. ``skipped``: cards left out on purpose (placeholders, stickied or moderator posts).
    ``incomplete``: cards that looked like listings but lacked a required field.
    ``unmatched``: posts read fine but left out because they do not match the search's query
    (a source that lists everything newest first and filters itself, as Reddit's ``/new``).
    ``oldest_posted``: the earliest posting time among every post on the page, matched or not
    (None when the page states no times): how far back a newest-first page reaches.
    """

    listings: tuple[RawListing, ...]
    empty: bool = False
    next_url: str | None = None
    skipped: int = 0
    incomplete: int = 0
    unmatched: int = 0
    oldest_posted: datetime | None = None


class Source(ABC):
    """A marketplace. Subclasses live one per module in scraper/sources/."""

    name: ClassVar[str]
    #: the live site's base URL, used when the configuration names none (from the registry)
    default_base_url: ClassVar[str]
    #: ISO currency when a page does not state one
    default_currency: ClassVar[str] = "USD"
    #: whether the site's paging normally ends on an empty page (Reddit's ``after`` token may
    #: point past the last post); elsewhere an empty page after results means the scan saw only
    #: part of them
    ends_on_empty_page: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        registered = BY_NAME.get(cls.__dict__.get("name", ""))
        if registered is not None and "default_base_url" not in cls.__dict__:
            cls.default_base_url = registered.base_url

    @abstractmethod
    def search_url(self, spec: SearchSpec) -> str:
        """The URL of the first results page for ``spec``, built on ``spec.base_url``."""

    def request_headers(self, spec: SearchSpec) -> dict[str, str]:
        """Headers the real site expects on a search request (beyond User-Agent)."""
        return {"Accept": "text/html,application/xhtml+xml", "Accept-Language": "en-US,en;q=0.9"}

    async def prepare(self, client: httpx.AsyncClient, spec: SearchSpec,
                      tokens: TokenCache | None = None, *, renew: bool = False) -> dict[str, str]:
        """Called once per search before the first page, with the shared client (a seam tests
        replace) and the Fetcher's token cache. Returns extra request headers, e.g. an OAuth
        bearer token; ``renew`` asks for a new token (the API refused the cached one). Raises
        MissingCredentials when the route needs keys that are not set. Default: none."""
        return {}

    def uses_api(self, spec: SearchSpec) -> bool:
        """True when ``spec`` is served by the marketplace's API with its own credentials:
        robots.txt (rules for web crawlers) does not apply, and a 401 renews the token once."""
        return False

    def route(self, spec: SearchSpec) -> str:
        """How ``spec`` reaches the marketplace, in a few words (for `gpuscout doctor`)."""
        return "API" if self.uses_api(spec) else "web pages"

    def access(self, spec: SearchSpec) -> Access:
        """Whether the keys (or cookies) the route needs are set. Default: none needed."""
        return Access(True, "nothing to set up: its public pages are read")

    def auth_url(self, spec: SearchSpec) -> str | None:
        """The token endpoint ``prepare`` calls for ``spec``, if any (for `gpuscout doctor`)."""
        return None

    def select(self, spec: SearchSpec, result: ParseResult) -> ParseResult:
        """The listings of a parsed page that belong to ``spec`` (default: all of them)."""
        return result

    @abstractmethod
    def parse(self, body: bytes, url: str) -> ParseResult:
        """Read one page. Pure: no I/O, no clock.

        Raises Blocked (captcha, login wall, bot check), MarkupDrift (looks like a results page but
        nothing could be read), UnsupportedPage (not this source's page at all).
        """

    @classmethod
    @abstractmethod
    def sniff(cls, body: bytes, url: str | None = None) -> bool:
        """True when ``body`` (and ``url`` if known) looks like a page of this marketplace."""
