"""OAuth tokens for the marketplaces' APIs: one POST to the token endpoint, cached and renewed.

Both Reddit's Data API and eBay's Browse API hand an application a bearer token for its client id
and secret (HTTP Basic auth on a form POST). A token lasts hours (Reddit 24 h, eBay 2 h); fetching
one per scan would be one extra request per scan and, for eBay, eats a daily allowance of token
requests. ``bearer_token`` keeps it in the Fetcher's memory until shortly before it expires, and
fetches a new one when asked to renew (the API answered 401 to the cached one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import httpx

from gpuscout.scraper.errors import FetchError
from gpuscout.scraper.fetch.stream import dns_failure, unresolved

if TYPE_CHECKING:
    from gpuscout.scraper.fetch.memory import TokenCache

#: reads the endpoint's answer: (token, seconds it lasts or None); raises a ScrapeError
ReadToken = Callable[[httpx.Response], tuple[str, float | None]]


async def bearer_token(
    client: httpx.AsyncClient, tokens: TokenCache | None, *, url: str, client_id: str,
    secret: str, form: Mapping[str, str], read: ReadToken, label: str,
    headers: Mapping[str, str] | None = None, renew: bool = False,
) -> str:
    """A token for ``client_id`` from ``url``: the cached one unless ``renew``, else a new one."""
    key = (url, client_id, *sorted(f"{k}={v}" for k, v in form.items() if k != "password"))
    if tokens is not None:
        if renew:
            tokens.forget(key)
        else:
            cached = tokens.get(key)
            if cached is not None:
                return cached
    try:
        response = await client.post(url, data=dict(form), auth=httpx.BasicAuth(client_id, secret),
                                     headers={"Accept": "application/json", **(headers or {})})
    except httpx.HTTPError as exc:
        dns = dns_failure(exc)
        if dns is not None:
            raise unresolved(url, dns) from exc
        raise FetchError(f"{label} token request to {url} failed: {type(exc).__name__}: {exc}",
                         url=url) from exc
    token, expires_in = read(response)
    if tokens is not None:
        tokens.put(key, token, expires_in)
    return token
