"""Errors raised by the scraper layer.

    ScrapeError                  base of everything this package raises
    ├── FetchError               the page could not be fetched (after retries)
    │   ├── RateLimited          HTTP 429 (or a site's own "slow down" page)
    │   ├── HttpStatusError      another non-success status
    │   ├── ResponseTooLarge     the body went over the configured cap
    │   ├── DeadlineExceeded     the scan's deadline passed: the request was stopped or not sent
    │   ├── RobotsDisallowed     robots.txt forbids the path and no override is set
    │   └── HostUnresolved       DNS gave no address for the host: offline, or a wrong name
    ├── PageError                the page arrived but is not a page of listings
    │   ├── Blocked              captcha, login wall, bot check, 403
    │   │   └── MissingCredentials  the route needs API keys that are not configured
    │   ├── MarkupDrift          looks like a results page but nothing parses: markup changed
    │   └── UnsupportedPage      a page no source knows (another marketplace, a blank page)
    └── PriceError               a price string that cannot be read

Foreign exceptions (httpx, json, selectolax) are converted at the edge with ``raise ... from``.
"""

from __future__ import annotations


class ScrapeError(Exception):
    """Base class of the scraper layer's errors."""


class FetchError(ScrapeError):
    """A request failed after its retries."""

    def __init__(self, message: str, *, url: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class RateLimited(FetchError):
    """The site answered 429 (Too Many Requests) until retries ran out."""

    def __init__(
        self, message: str, *, url: str = "", status: int | None = 429,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, url=url, status=status)
        self.retry_after = retry_after


class HttpStatusError(FetchError):
    """A non-success HTTP status other than 429."""


class ResponseTooLarge(FetchError):
    """The response body exceeded the configured size cap."""


class DeadlineExceeded(FetchError):
    """The scan's deadline passed before this request could finish (or start)."""


class RobotsDisallowed(FetchError):
    """robots.txt disallows the URL for our User-Agent."""


class HostUnresolved(FetchError):
    """The host name did not resolve: no network, DNS down, or a misspelt host. Not retried: a
    resolver that just failed will not answer within a backoff's few seconds."""

    def __init__(self, message: str, *, url: str = "", host: str = "") -> None:
        super().__init__(message, url=url)
        self.host = host


class PageError(ScrapeError):
    """The body is not a page of listings we can read."""

    def __init__(self, message: str, *, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason


class Blocked(PageError):
    """A captcha, login wall, bot check or 403 page; ``reason`` names which."""


class MissingCredentials(Blocked):
    """The marketplace's sanctioned route needs credentials that are not set; the message says
    what to create and which variables to set. No request was made."""

    def __init__(self, message: str) -> None:
        super().__init__(message, reason="no-credentials")


class MarkupDrift(PageError):
    """The page looks like results but no listing (or too few fields) could be parsed."""


class UnsupportedPage(PageError):
    """The page belongs to no supported source (e.g. Kijiji, Kleinanzeigen) or is not a listing page."""


class PriceError(ScrapeError, ValueError):
    """A price string that cannot be read."""
