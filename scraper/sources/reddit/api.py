"""Reddit's Data API: the OAuth routes, the app's token, the User-Agent its rules ask for, and the
query matched against each new post (the ``/new`` listing is not searched by Reddit)."""

from __future__ import annotations

import re

import httpx

from gpuscout.scraper.errors import Blocked, HttpStatusError, MarkupDrift, RateLimited
from gpuscout.scraper.listing import RawListing
from gpuscout.scraper.sources.base import SearchSpec
from gpuscout.scraper.sources.registry import BY_NAME

#: the sanctioned route: Reddit's Data API on its OAuth host, with an app's token
OAUTH_BASE = "https://oauth.reddit.com"
#: where the token comes from (HTTP Basic auth with the app's id and secret)
AUTH_BASE = "https://www.reddit.com"
TOKEN_PATH = "/api/v1/access_token"
APPS_URL = "https://www.reddit.com/prefs/apps"
#: "api": oauth.reddit.com with a token (the default); "json": the public ``.json`` pages on
#: ``base_url``, whose robots.txt turns crawlers away on reddit.com (for mirrors and local tests)
ROUTES = ("api", "json")
#: "new": the subreddit's newest posts, filtered here by the query (immediate: a post is there the
#: moment it is made); "search": Reddit's search, newest first (its index lags minutes behind)
LISTINGS = ("new", "search")


def missing_credentials_message() -> str:
    """The one line a search without Reddit app credentials reports."""
    names = BY_NAME["reddit"].credentials
    return (f"Reddit's API needs an app: create a \"script\" app at {APPS_URL}, then set "
            f"{names['client_id']} (the id under the app's name) and {names['client_secret']}")


def api_user_agent(spec: SearchSpec) -> str:
    """The User-Agent Reddit's API rules ask for: ``<platform>:<app ID>:<version> (by /u/<user>)``
    (the user from GPUSCOUT_REDDIT_USERNAME; without one, the project's address instead)."""
    user = spec.credentials.get("username", "").strip().removeprefix("/u/").removeprefix("u/")
    contact = f"by /u/{user}" if re.fullmatch(r"[A-Za-z0-9_-]{3,20}", user) else \
        "+https://github.com/gpuscout/gpuscout"
    return f"python:gpuscout:{_version()} ({contact})"


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("gpuscout")
    except Exception:  # NOTE: running from a source tree that is not installed
        return "0"


def read_token(response: httpx.Response) -> tuple[str, float | None]:
    """The token endpoint's answer: (token, lifetime in seconds); raises what went wrong."""
    url = str(response.request.url) if response.request is not None else ""
    names = BY_NAME["reddit"].credentials
    if response.status_code == 429:
        raise RateLimited("reddit token endpoint rate-limited the request", url=url)
    if response.status_code in (401, 403):
        raise Blocked(f"reddit refused the app's credentials: check {names['client_id']} and "
                      f"{names['client_secret']} against the app at {APPS_URL}",
                      reason="oauth-unauthorized")
    if response.status_code >= 400:
        raise HttpStatusError(f"reddit token endpoint answered {response.status_code}",
                              url=url, status=response.status_code)
    try:
        payload = response.json()
    except ValueError as exc:
        raise MarkupDrift("reddit token endpoint did not answer JSON",
                          reason="oauth-not-json") from exc
    token = payload.get("access_token") if isinstance(payload, dict) else None
    if not isinstance(token, str) or not token:
        error = payload.get("error") if isinstance(payload, dict) else None
        raise Blocked(f"reddit refused a token: {error or 'no access_token'}",
                      reason=f"oauth-{error or 'no-token'}")
    expires = payload.get("expires_in")
    lifetime = float(expires) if isinstance(expires, int | float) and not isinstance(
        expires, bool) else None
    return token, lifetime


_WORD = re.compile(r"\S+")


def matches_query(query: str, listing: RawListing) -> bool:
    """Every word of ``query`` (case-blind, anywhere in the title or the body), and none of its
    ``-words``."""
    text = f"{listing.title}\n{listing.description or ''}".lower()
    for word in _WORD.findall(query.lower()):
        if word.startswith("-") and len(word) > 1:
            if word[1:] in text:
                return False
        elif word not in text:
            return False
    return True
