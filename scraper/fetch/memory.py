"""What fetching remembers between scans of one process: robots.txt rules, API tokens, quotas.

A Fetcher lives for one scan; `gpuscout run` scans every minute or so, and fetching robots.txt
or a new OAuth token each time would double the requests a site sees. One ``FetchMemory`` handed
to every Fetcher of a process keeps

* robots.txt rules per origin and user agent for up to 24 hours (RFC 9309 section 2.4),
* access tokens per token endpoint and client until shortly before they expire,
* the earliest moment the next request may go to a host whose API announced its quota
  (``X-Ratelimit-Remaining`` / ``X-Ratelimit-Reset``).

Times are the Fetcher's monotonic clock, passed in, so that tests run on a fake clock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from gpuscout.scraper.fetch.robots import RobotsRules

#: RFC 9309 section 2.4: a cached robots.txt may be used for up to 24 hours
ROBOTS_TTL = 24 * 3600.0
#: a token is renewed this long before the expiry its endpoint announced
TOKEN_MARGIN = 120.0
#: when an endpoint announces no lifetime, a token is kept this long
TOKEN_DEFAULT_TTL = 3600.0


@dataclass(frozen=True, slots=True)
class CachedToken:
    value: str
    expires_at: float


@dataclass
class FetchMemory:
    """Shared by the Fetchers of one process; safe to use from several threads."""

    robots_ttl: float = ROBOTS_TTL
    _robots: dict[tuple[str, str], tuple[RobotsRules, float]] = field(default_factory=dict)
    _tokens: dict[tuple[str, ...], CachedToken] = field(default_factory=dict)
    _not_before: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # -- robots.txt ---------------------------------------------------------------------------

    def robots(self, origin: str, agent: str, *, now: float) -> RobotsRules | None:
        with self._lock:
            found = self._robots.get((origin, agent))
        if found is None or now - found[1] >= self.robots_ttl:
            return None
        return found[0]

    def remember_robots(self, origin: str, agent: str, rules: RobotsRules, *, now: float) -> None:
        """Keep ``rules`` for ``robots_ttl``; an unreachable robots.txt (429 or 5xx: everything
        disallowed for now) is not kept, so the next scan asks again."""
        if rules.origin == "unreachable":
            return
        with self._lock:
            self._robots[(origin, agent)] = (rules, now)

    # -- tokens -------------------------------------------------------------------------------

    def token(self, key: tuple[str, ...], *, now: float) -> str | None:
        """A cached token for ``key`` (endpoint, client, grant) still valid at ``now``."""
        with self._lock:
            found = self._tokens.get(key)
        return found.value if found is not None and now < found.expires_at else None

    def remember_token(self, key: tuple[str, ...], value: str, expires_in: float | None, *,
                       now: float) -> None:
        """Keep ``value`` until ``TOKEN_MARGIN`` seconds before it expires (at least half its
        lifetime, for short-lived tokens)."""
        life = TOKEN_DEFAULT_TTL if expires_in is None or expires_in <= 0 else float(expires_in)
        keep = max(life - TOKEN_MARGIN, life / 2)
        with self._lock:
            self._tokens[key] = CachedToken(value, now + keep)

    def forget_token(self, key: tuple[str, ...]) -> None:
        """Drop a token the API refused (revoked or expired early): the next use fetches one."""
        with self._lock:
            self._tokens.pop(key, None)

    # -- quotas -------------------------------------------------------------------------------

    def not_before(self, host: str) -> float | None:
        with self._lock:
            return self._not_before.get(host)

    def hold(self, host: str, until: float) -> None:
        """No request to ``host`` before ``until`` (a later hold wins)."""
        with self._lock:
            self._not_before[host] = max(until, self._not_before.get(host, until))


class TokenCache:
    """The token part of a FetchMemory on one clock: what a source's ``prepare`` is handed."""

    def __init__(self, memory: FetchMemory, clock: Callable[[], float]) -> None:
        self.memory = memory
        self.clock = clock

    def get(self, key: tuple[str, ...]) -> str | None:
        return self.memory.token(key, now=self.clock())

    def put(self, key: tuple[str, ...], value: str, expires_in: float | None) -> None:
        self.memory.remember_token(key, value, expires_in, now=self.clock())

    def forget(self, key: tuple[str, ...]) -> None:
        self.memory.forget_token(key)
