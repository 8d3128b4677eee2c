"""One source page through fetch and parse, with an outcome; and a crawl that follows next pages.

Outcomes:

* ``ok``: listings were read (or the server said 304 Not Modified: ``result`` is then None);
* ``empty``: the page positively says there are no results (or held only skipped cards);
* ``blocked``: 403, a login/captcha redirect, a parser's Blocked, or the generic bot-check sniff;
* ``rate_limited``: 429 until retries ran out;
* ``drift``: the markup changed: MarkupDrift, or over half of the cards lacked a required field;
* ``error``: anything else (network, robots.txt, other statuses, a blank body, an unsupported
  page).

Blocked and drift bodies are saved under ``save_dir/<source>/`` for a look, and the path is logged.

The bot-check sniff is deliberately conservative, because real results pages mention these words too
(eBay's search pages list "arkose_captcha" and "google_recaptcha" among their script vendors). It
only looks at HTML (never JSON), and only calls a page blocked when a marker is present and either
the page is small (real results pages are far larger than a challenge page) or the source's parser
finds no results markup in it (MarkupDrift or UnsupportedPage).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import httpx

from gpuscout.scraper.errors import (
    Blocked,
    FetchError,
    HostUnresolved,
    MarkupDrift,
    RateLimited,
    RobotsDisallowed,
    ScrapeError,
    UnsupportedPage,
)
from gpuscout.scraper.fetch.client import BlockedResponse, FetchedPage, Fetcher
from gpuscout.scraper.fetch.stream import host_key
from gpuscout.scraper.sources.base import ParseResult, SearchSpec, Source

log = logging.getLogger("gpuscout.fetch")

Outcome = Literal["ok", "empty", "blocked", "rate_limited", "drift", "error"]
Now = Callable[[], datetime]

#: bot-check phrases, most specific first; matched case-insensitively in HTML bodies
BOT_MARKERS: tuple[str, ...] = (
    "g-recaptcha", "px-captcha", "cf-chl", "cf_chl", "pardon our interruption",
    "verify you are a human",
    "access denied", "captcha",
)
#: an HTML page at most this large with a bot-check marker is blocked without asking the parser
SMALL_PAGE_BYTES = 32 * 1024


@dataclass(frozen=True, slots=True)
class PageOutcome:
    """What became of one page. ``error`` is a readable message for every outcome but ok/empty;
    ``reason`` says why a page was blocked ("forbidden", "login", "captcha", "bot-check", ...)."""

    url: str
    outcome: Outcome
    result: ParseResult | None = None
    error: str | None = None
    saved_path: Path | None = None
    status: int | None = None
    not_modified: bool = False
    reason: str | None = None
    #: paging stopped after this page although it links a next one: every listing on it had
    #: been seen before (incremental polling), so the pages read do not cover all results
    caught_up: bool = False


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _is_json(body: bytes, content_type: str) -> bool:
    return "json" in content_type or body.lstrip()[:1] in (b"{", b"[")


def bot_check_marker(body: bytes, content_type: str = "") -> str | None:
    """The first bot-check marker found in an HTML ``body``, else None (always None for JSON)."""
    if _is_json(body, content_type.lower()):
        return None
    lowered = body.lower()
    for marker in BOT_MARKERS:
        if marker.encode("ascii") in lowered:
            return marker
    return None


def save_body(
    save_dir: Path, source: str, outcome: str, body: bytes, content_type: str, now: Now,
) -> Path | None:
    """Write ``body`` to ``save_dir/<source>/<UTC timestamp>-<outcome>-<sha1[:8]>.html|json``.

    The file is the user's alone (0600) in a folder that is too (0700; ``save_dir`` itself is
    made 0700 when gpuscout creates it): a page a site sends back may echo the session cookies or
    the account it was fetched with.
    """
    if not body:
        return None
    stamp = now().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    digest = hashlib.sha1(body, usedforsecurity=False).hexdigest()[:8]
    suffix = "json" if _is_json(body, content_type.lower()) else "html"
    path = save_dir / source / f"{stamp}-{outcome}-{digest}.{suffix}"
    try:
        save_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # NOTE: an existing one is left as is
        _private_folder(path.parent)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0),
                     0o600)
        with os.fdopen(fd, "wb") as out:
            if hasattr(os, "fchmod"):  # NOTE: an existing file (same second, same page) keeps its mode
                os.fchmod(out.fileno(), 0o600)
            out.write(body)
    except OSError as exc:
        log.warning("could not save the %s page to %s: %s", outcome, path, exc)
        return None
    return path


def _private_folder(folder: Path) -> None:
    """Create ``folder`` or tighten it: owner only, 0700."""
    folder.mkdir(mode=0o700, exist_ok=True)
    if folder.stat().st_mode & 0o077:
        folder.chmod(0o700)


class _Saver:
    """Saves bodies of one page and logs where they went."""

    def __init__(self, save_dir: Path | None, source: str, url: str, now: Now) -> None:
        self.save_dir, self.source, self.url, self.now = save_dir, source, url, now

    def __call__(self, outcome: str, body: bytes, content_type: str, message: str) -> Path | None:
        path = None
        if self.save_dir is not None:
            path = save_body(self.save_dir, self.source, outcome, body, content_type, self.now)
        if path is not None:
            log.warning("%s: %s %s (%s); body saved to %s", self.source, outcome, self.url,
                        message, path)
        else:
            log.warning("%s: %s %s (%s)", self.source, outcome, self.url, message)
        return path


def outcome_for_error(url: str, exc: ScrapeError, saved_path: Path | None = None) -> PageOutcome:
    """The outcome a scraper error stands for."""
    message = str(exc)
    if isinstance(exc, Blocked):
        status = exc.status if isinstance(exc, BlockedResponse) else None
        return PageOutcome(url, "blocked", error=message, saved_path=saved_path, status=status,
                           reason=exc.reason or "blocked")
    if isinstance(exc, MarkupDrift):
        return PageOutcome(url, "drift", error=message, saved_path=saved_path)
    if isinstance(exc, RateLimited):
        return PageOutcome(url, "rate_limited", error=message, status=exc.status,
                           reason="rate-limited")
    if isinstance(exc, RobotsDisallowed):
        return PageOutcome(url, "error", error=message, status=exc.status, reason="robots")
    if isinstance(exc, HostUnresolved):
        return PageOutcome(url, "error", error=message, reason="offline")
    if isinstance(exc, FetchError):
        return PageOutcome(url, "error", error=message, status=exc.status)
    return PageOutcome(url, "error", error=message, saved_path=saved_path)


async def fetch_page(
    fetcher: Fetcher, source: Source, url: str, headers: Mapping[str, str] | None = None, *,
    save_dir: Path | None = None, now: Now = _utc_now, spec: SearchSpec | None = None,
) -> PageOutcome:
    """Fetch ``url`` and parse it with ``source`` (keeping what ``source.select`` keeps for
    ``spec``); never raises a ScrapeError."""
    save = _Saver(save_dir, source.name, url, now)
    api = spec is not None and source.uses_api(spec)
    try:
        page = await fetcher.get(url, headers, api=api)
    except BlockedResponse as exc:
        path = save("blocked", exc.body, exc.content_type, str(exc))
        return outcome_for_error(url, exc, path)
    except ScrapeError as exc:
        log.warning("%s: %s", source.name, exc)
        return outcome_for_error(url, exc)
    if page.not_modified:
        return PageOutcome(page.url, "ok", status=page.status, not_modified=True)
    return _parse(source, page, save, spec)


def _selected(source: Source, spec: SearchSpec | None, result: ParseResult) -> ParseResult:
    """``result`` with the oldest posting time of all its listings, then only those ``spec``
    wants (the time is taken first: it says how far back the page reaches)."""
    times = [listing.posted_at for listing in result.listings if listing.posted_at is not None]
    if times and result.oldest_posted is None:
        result = replace(result, oldest_posted=min(times))
    return result if spec is None else source.select(spec, result)


def _parse(source: Source, page: FetchedPage, save: _Saver,
           spec: SearchSpec | None = None) -> PageOutcome:
    body, ctype, url, status = page.body, page.content_type, page.url, page.status
    if not body or body.isspace():  # NOTE: as ``not body.strip()``, without copying the body
        # NOTE: a blank 2xx body is a server or proxy glitch: not "no results" (that would let
        # listings go gone) and not drift (there is no markup to save or look at), whatever the host
        message = f"an empty HTTP {status} answer (no body to read)"
        log.warning("%s: %s %s", source.name, url, message)
        return PageOutcome(url, "error", error=message, status=status)
    # NOTE: a large page is only searched for bot-check words when nothing in it parsed
    marker = bot_check_marker(body, ctype) if len(body) <= SMALL_PAGE_BYTES else None
    if marker is not None:
        message = f"a bot-check page ({marker!r} in a {len(body)}-byte page)"
        return PageOutcome(url, "blocked", error=message, status=status, reason="bot-check",
                           saved_path=save("blocked", body, ctype, message))
    try:
        result = source.parse(body, url)
    except Blocked as exc:
        return PageOutcome(url, "blocked", error=str(exc), status=status,
                           reason=exc.reason or "blocked",
                           saved_path=save("blocked", body, ctype, str(exc)))
    except (MarkupDrift, UnsupportedPage) as exc:
        if marker is None and len(body) > SMALL_PAGE_BYTES:
            marker = bot_check_marker(body, ctype)
        if marker is not None:
            message = f"a bot-check page ({marker!r} and no results markup: {exc})"
            return PageOutcome(url, "blocked", error=message, status=status, reason="bot-check",
                               saved_path=save("blocked", body, ctype, message))
        if isinstance(exc, UnsupportedPage):
            log.warning("%s: %s is not a page this source reads: %s", source.name, url, exc)
            return PageOutcome(url, "error", error=str(exc), status=status)
        return PageOutcome(url, "drift", error=str(exc), status=status,
                           saved_path=save("drift", body, ctype, str(exc)))
    except ScrapeError as exc:
        log.warning("%s: reading %s failed: %s", source.name, url, exc)
        # NOTE: a site's own "too many requests" page (Reddit's, in a 200) is still a rate limit
        return outcome_for_error(url, exc) if isinstance(exc, RateLimited) else PageOutcome(
            url, "error", error=str(exc), status=status)
    except Exception as exc:  # a parser bug: keep the scan going, keep the body to reproduce it
        message = f"the {source.name} parser crashed: {type(exc).__name__}: {exc}"
        log.error("%s", message, exc_info=exc)
        return PageOutcome(url, "error", error=message, status=status,
                           saved_path=save("error", body, ctype, message))
    return _classify(_selected(source, spec, result), page, save)


def _classify(result: ParseResult, page: FetchedPage, save: _Saver) -> PageOutcome:
    listings, incomplete = len(result.listings), result.incomplete
    url, status = page.url, page.status
    if incomplete and incomplete * 2 > listings + incomplete:
        message = f"{incomplete} of {listings + incomplete} cards lacked a required field"
        return PageOutcome(url, "drift", result=result, error=message, status=status,
                           saved_path=save("drift", page.body, page.content_type, message))
    if listings or result.unmatched:
        if incomplete:
            log.warning("%s: %d of %d cards could not be read (no id, title or price)", url,
                        incomplete, listings + incomplete)
        # NOTE: a page whose posts all failed the search's own query was read fine: paging goes on
        return PageOutcome(url, "ok", result=result, status=status)
    if result.empty or result.skipped:
        return PageOutcome(url, "empty", result=result, status=status)
    # NOTE: a parser should raise MarkupDrift itself; an empty result that does not say "no
    # results" is treated the same way.
    message = "no listings and no 'no results' notice"
    return PageOutcome(url, "drift", result=result, error=message, status=status,
                       saved_path=save("drift", page.body, page.content_type, message))


async def crawl(
    fetcher: Fetcher, source: Source, spec: SearchSpec, *,
    save_dir: Path | None = None, now: Now = _utc_now,
    seen: Callable[[ParseResult], bool] | None = None,
) -> AsyncIterator[PageOutcome]:
    """The pages of one search: ``source.prepare`` once, then the search URL and each
    ``next_url`` up to ``spec.max_pages``, stopping after the first outcome that is not ok. A
    ``next_url`` on another host is not fetched: it ends the crawl with an "error" outcome (the
    pages read so far keep their listings, and the search counts as incomplete).

    ``seen`` (incremental polling) says whether a page holds nothing new; paging stops after
    such a page, which is then marked ``caught_up`` if it links a next one. On an API route a
    401 (a token revoked or expired early) renews the token and asks for the page once more.
    """
    try:
        url = source.search_url(spec)
    except ScrapeError as exc:
        yield outcome_for_error(spec.base_url, exc)
        return
    budget, _scan_bound = fetcher.budget()
    try:
        # NOTE: prepare talks to the client directly (a token endpoint); the deadline holds there too
        async with asyncio.timeout(budget):
            extra = await source.prepare(fetcher.client, spec, fetcher.tokens)
    except TimeoutError:
        message = f"preparing the {source.name} search took longer than {budget:g} s: stopped"
        log.warning("%s", message)
        yield PageOutcome(url, "error", error=message)
        return
    except ScrapeError as exc:
        log.warning("%s: preparing the search failed: %s", source.name, exc)
        yield outcome_for_error(url, exc)
        return
    except httpx.HTTPError as exc:
        message = f"preparing the {source.name} search failed: {type(exc).__name__}: {exc}"
        log.warning("%s", message)
        yield PageOutcome(url, "error", error=message)
        return
    headers = {**source.request_headers(spec), **extra}
    visited: set[str] = set()
    renewed = False
    first = url
    for page in range(1, spec.max_pages + 1):
        visited.add(url)
        outcome = await fetch_page(fetcher, source, url, headers, save_dir=save_dir, now=now,
                                   spec=spec)
        if outcome.status == 401 and source.uses_api(spec) and not renewed:
            renewed = True
            log.info("%s: the API refused the token; fetching a new one", source.name)
            try:
                extra = await source.prepare(fetcher.client, spec, fetcher.tokens, renew=True)
            except ScrapeError as exc:
                yield outcome_for_error(url, exc)
                return
            headers = {**source.request_headers(spec), **extra}
            outcome = await fetch_page(fetcher, source, url, headers, save_dir=save_dir,
                                       now=now, spec=spec)
        if outcome.outcome != "ok" or outcome.result is None:
            yield outcome
            return
        following = outcome.result.next_url
        if not following or following in visited:
            yield outcome
            return
        if seen is not None and seen(outcome.result):
            yield replace(outcome, caught_up=True)
            return
        yield outcome
        refused = foreign_next_page(first, following)
        if refused is not None:
            message = f"page {page} links its next page {refused}: not followed"
            log.warning("%s: %s", source.name, message)
            yield PageOutcome(following, "error", error=message)
            return
        url = following


def foreign_next_page(search_url: str, next_url: str) -> str | None:
    """Why ``next_url`` must not be fetched for the search at ``search_url``, or None when it may.

    A next-page link is followed only to the search's own host (``www.`` aside), over
    http(s): the same rule as redirects. A page is hostile input, and a link elsewhere would send
    the search's headers (an OAuth token, cookies) and its politeness budget to a stranger.
    """
    try:
        here, there = httpx.URL(search_url), httpx.URL(next_url)
    except (httpx.InvalidURL, TypeError):
        return f"at an unreadable URL {next_url!r}"
    if there.scheme not in ("http", "https") or not there.host:
        return f"at a URL that is not http(s): {next_url}"
    if host_key(there) != host_key(here):
        return f"on another host ({there.host}, not {here.host})"
    return None
