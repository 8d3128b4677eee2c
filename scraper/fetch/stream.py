"""Stateless parts of gpuscout.scraper.fetch.client: one streamed GET, the redirect rules, Retry-After."""

from __future__ import annotations

import email.utils
import socket
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import httpx

from gpuscout.scraper.errors import Blocked, FetchError, HostUnresolved, ResponseTooLarge
from gpuscout.scraper.fetch.decode import BodyDecoder

MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

#: path fragments of a redirect target that mean "you are not getting the page" -> Blocked reason
_WALL_MARKERS: tuple[tuple[str, str], ...] = (
    ("captcha", "captcha"),
    # NOTE: eBay's bot check lives at /splashui/challenge, on the same host as the search
    ("challenge", "captcha"),
    ("/login", "login"),
    ("signin", "login"),
)


@dataclass(frozen=True, slots=True)
class Validators:
    """What a server said to identify a version of a page, for a conditional request."""

    etag: str | None = None
    last_modified: str | None = None


class ValidatorStore(Protocol):
    """Where the Fetcher remembers validators per URL; the scan layer can persist them."""

    def get(self, url: str) -> Validators | None: ...

    def set(self, url: str, validators: Validators) -> None: ...


class MemoryValidators:
    """A ValidatorStore that lives as long as the Fetcher."""

    def __init__(self) -> None:
        self._data: dict[str, Validators] = {}

    def get(self, url: str) -> Validators | None:
        return self._data.get(url)

    def set(self, url: str, validators: Validators) -> None:
        self._data[url] = validators


@dataclass(frozen=True, slots=True)
class Reply:
    """One HTTP answer with its whole (capped) body."""

    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float = 0.0


class Transient(Exception):
    """A failure worth another attempt (connection, timeout, truncated body)."""

    def __init__(self, message: str, cause: BaseException, *, truncated: bool = False) -> None:
        super().__init__(message)
        self.cause = cause
        self.truncated = truncated


def parse_url(url: str) -> httpx.URL:
    """An absolute http(s) URL, or FetchError."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise FetchError(f"not a valid URL: {url!r} ({exc})", url=str(url)) from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise FetchError(f"not an absolute http(s) URL: {url!r}", url=url)
    return parsed


def host_key(url: httpx.URL) -> str:
    """The politeness key of a URL: its host, lower case, without a leading ``www.``."""
    # NOTE: sites bounce between example.com and www.example.com; both are one host to pace.
    return url.host.lower().removeprefix("www.")


def judge_redirect(source: httpx.URL, target: httpx.URL, status: int, *, cross_host: bool) -> None:
    """Raise unless a redirect from ``source`` to ``target`` may be followed.

    A target whose path looks like a login or captcha page raises Blocked, whatever its host; a
    target on another host raises FetchError naming it unless ``cross_host`` allows it.
    """
    if target.scheme not in ("http", "https"):
        raise FetchError(f"{source} redirected to a non-HTTP URL {target}", url=str(source),
                         status=status)
    # NOTE: the host counts too: eBay signs in at signin.ebay.com, others at login.<site>
    where = f"//{target.host}{target.path}".lower()
    for marker, reason in _WALL_MARKERS:
        if marker in where:
            raise Blocked(f"{source} redirected to a {reason} page: {target}", reason=reason)
    if host_key(target) != host_key(source) and not cross_host:
        raise FetchError(
            f"{source} redirected to another host, not followed: {target} "
            "(usually a login or consent page)", url=str(source), status=status)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or an HTTP-date), else None."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _detail(exc: BaseException) -> str:
    """The first message down an exception's causes: httpx often wraps the OS error (a connection
    reset) in exceptions whose own message is empty."""
    current: BaseException | None = exc
    for _depth in range(10):
        if current is None:
            break
        if str(current):
            return str(current)
        current = current.__cause__ or current.__context__
    return "no detail"


def dns_failure(exc: BaseException) -> socket.gaierror | None:
    """The resolver's error somewhere down ``exc``'s causes (httpx wraps it twice), else None."""
    current: BaseException | None = exc
    for _depth in range(10):
        if current is None:
            return None
        if isinstance(current, socket.gaierror):
            return current
        current = current.__cause__ or current.__context__
    return None


def unresolved(url: httpx.URL | str, cause: socket.gaierror) -> HostUnresolved:
    """The one message for a host that does not resolve: offline, DNS down, or a wrong name."""
    host = httpx.URL(str(url)).host
    detail = cause.strerror or str(cause)
    return HostUnresolved(f"cannot resolve {host} ({detail}): this machine looks offline or its DNS "
                          "is not answering; if other sites work, check the host in base_url",
                          url=str(url), host=host)


def _headers(response: httpx.Response) -> dict[str, str]:
    return {name.lower(): value for name, value in response.headers.items()}


async def read_body(
    client: httpx.AsyncClient, url: httpx.URL, headers: Mapping[str, str], limit: int, *,
    truncate: bool = False,
) -> Reply:
    """One GET, the body streamed under ``limit`` bytes (decoded). Over the limit: ResponseTooLarge,
    or with ``truncate`` the first ``limit`` bytes. Network trouble raises Transient; a corrupt
    compressed body FetchError.

    The body is read raw and inflated here (``decode.BodyDecoder``), never by httpx, so the cap
    counts decoded bytes as they are produced: a small body that inflates to gigabytes is refused
    after at most ``limit`` bytes of it were made. The caller bounds the time (``asyncio.timeout``).
    """
    got_headers = False
    try:
        async with client.stream("GET", url, headers=dict(headers)) as response:
            got_headers = True
            status = response.status_code
            declared = response.headers.get("content-length", "").strip()
            if not truncate and declared.isdigit() and int(declared) > limit:
                raise ResponseTooLarge(
                    f"{url} announces {int(declared)} bytes, over the {limit}-byte cap",
                    url=str(url), status=status)
            decoder = BodyDecoder(response.headers.get("content-encoding", ""), str(url))
            body = _Capped(limit, truncate, str(url), status)
            async for raw in _raw_chunks(response):
                if body.take(decoder.feed(raw)):
                    break
            else:
                body.take(decoder.finish())
            return Reply(str(response.url), status, _headers(response), body.join())
    except httpx.TimeoutException as exc:
        raise Transient(f"timed out ({type(exc).__name__})", exc) from exc
    except httpx.RemoteProtocolError as exc:
        if got_headers:
            raise Transient(f"truncated body: the connection closed early ({exc})", exc,
                            truncated=True) from exc
        raise Transient(f"connection failed ({exc})", exc) from exc
    except httpx.UnsupportedProtocol as exc:
        raise FetchError(f"cannot fetch {url}: {exc}", url=str(url)) from exc
    except httpx.TransportError as exc:
        # NOTE: a resolver failure is not worth a backoff of seconds: it is reported at once
        dns = dns_failure(exc)
        if dns is not None:
            raise unresolved(url, dns) from exc
        detail = _detail(exc)
        raise Transient(f"connection error ({type(exc).__name__}: {detail})", exc) from exc
    except httpx.RequestError as exc:
        raise FetchError(f"request to {url} failed ({type(exc).__name__}: {exc})",
                         url=str(url)) from exc


def _raw_chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    """The body as sent (still compressed), chunk by chunk."""
    if response.is_stream_consumed and isinstance(response.stream, httpx.AsyncByteStream):
        # NOTE: a response built in memory (httpx.MockTransport) was read when it was made; its
        # stream gives the raw bytes again
        return aiter(response.stream)
    return response.aiter_raw()


class _Capped:
    """Decoded pieces gathered under a cap: over it, ResponseTooLarge (or, with ``truncate``, the
    first ``limit`` bytes)."""

    def __init__(self, limit: int, truncate: bool, url: str, status: int) -> None:
        self.limit, self.truncate, self.url, self.status = limit, truncate, url, status
        self.chunks: list[bytes] = []
        self.size = 0

    def take(self, pieces: Iterator[bytes]) -> bool:
        """Append ``pieces``; True once the body was cut at the cap (read no further)."""
        for piece in pieces:
            self.size += len(piece)
            if self.size > self.limit:
                if self.truncate:
                    self.chunks.append(piece[: len(piece) - (self.size - self.limit)])
                    return True
                # NOTE: raising here stops the inflation at once: the rest is never produced
                raise ResponseTooLarge(f"{self.url} sent more than the {self.limit}-byte cap",
                                       url=self.url, status=self.status)
            self.chunks.append(piece)
        return False

    def join(self) -> bytes:
        return b"".join(self.chunks)
