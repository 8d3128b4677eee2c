"""The configuration's shape: one frozen dataclass per table, whose field defaults are the only
defaults (the loader and the starter file read them from here; per-source defaults come from the
source registry)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from gpuscout.jobs.errors import ConfigError

VARIANTS = ("fe", "partner", "oem", "any")
SECURITY = ("none", "starttls", "tls")
EVENTS = ("new", "price_drop", "back_in_stock", "market_move")
MODES = ("instant", "digest")
PREFER = ("shipped", "local")
#: how requests are paced per host: in this process, or shared through Redis (a cluster)
PACING = ("local", "shared")

CONFIG_ENV = "GPUSCOUT_CONFIG"
DATABASE_URL_ENV = "GPUSCOUT_DATABASE_URL"
SMTP_PASSWORD_ENV = "GPUSCOUT_SMTP_PASSWORD"
CONFIG_FILE = "gpuscout.toml"
DEFAULT_DATABASE_URL = "sqlite:///gpuscout.db"
#: eBay's sold listings change slowly: a sold search runs every six hours
SOLD_SCHEDULE = "15 */6 * * *"
#: into USD, for listings priced in other currencies (see [scoring] rates)
DEFAULT_RATES: Mapping[str, Decimal] = {"EUR": Decimal("1.08"), "GBP": Decimal("1.27"),
                                        "CAD": Decimal("0.73")}
#: a public source of daily reference rates (the European Central Bank's, and others)
DEFAULT_RATES_URL = "https://api.frankfurter.dev/v1"


@dataclass(frozen=True, kw_only=True)
class WatchConfig:
    """What to buy: a catalogue model, a variant and the price band per unit (the judge's own
    ``Watch`` is built from it by ``gpuscout.jobs.scoring.score_watch``)."""

    name: str
    model: str
    variant: str = "any"
    price_low: Decimal
    price_high: Decimal
    currency: str = "USD"
    prefer: str = "shipped"
    #: the band midpoint weighs as much as this many sales in the market reference
    reference_min_count: int = 3
    reference_window_days: int = 30


@dataclass(frozen=True, kw_only=True)
class SearchConfig:
    """Where to look: one scheduled job on one marketplace. It runs on its cron ``schedule``, or
    ``every`` so many seconds (the source's default interval, from the registry, when neither
    is given)."""

    name: str
    source: str
    query: str
    schedule: str | None = None
    every: float | None = None
    max_pages: int | None = None
    min_price: int | None = None
    max_price: int | None = None
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class SourceConfig:
    """How to reach one marketplace. ``base_url`` and ``min_interval`` default per source from
    the registry (``gpuscout.scraper.sources.registry``)."""

    base_url: str
    min_interval: float = 5.0
    jitter: float = 0.3
    max_pages: int = 3
    obey_robots: bool = True
    user_agent: str | None = None
    proxy: str | None = None
    cookies_file: str | None = None
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class FetchConfig:
    user_agent: str = "gpuscout/0.1 (used-GPU price watcher; +https://github.com/gpuscout/gpuscout)"
    #: seconds one read from a server may take
    timeout: float = 20.0
    #: seconds one request may take as a whole (a server sending a byte a second is cut off)
    request_deadline: float = 60.0
    #: seconds a whole scan may fetch for; then it stops and stores what it read
    scan_deadline: float = 900.0
    max_retries: int = 3
    max_bytes: int = 10 * 1024 * 1024
    #: "local": each process paces its own requests per host; "shared": every worker of a
    #: cluster together keeps each host's interval, through the Redis of [cluster]
    pacing: str = "local"


@dataclass(frozen=True, kw_only=True)
class ClusterConfig:
    """Scaling out (`gpuscout run --distributed`, `gpuscout worker`): the broker, the shared
    politeness limit and the task queue. URLs come from the environment (they may hold
    passwords)."""

    #: the Celery broker (Redis), e.g. redis://cache.lan:6379/0
    broker_url_env: str = "GPUSCOUT_BROKER_URL"
    #: the Redis of the shared politeness limit (unset: the broker's)
    redis_url_env: str = "GPUSCOUT_REDIS_URL"
    queue: str = "gpuscout"
    #: seconds a task may go unacknowledged before another worker gets it: longer than the
    #: longest scan ([fetch] scan_deadline and the storing after it)
    visibility_timeout: float = 1200.0
    #: seconds between a worker's sweeps for tasks whose worker was lost
    restore_interval: float = 10.0
    #: seconds between heartbeats; a standby scheduler tries to take over this often
    heartbeat: float = 5.0
    #: a worker's own egress proxy (each worker machine sets its own)
    proxy_env: str = "GPUSCOUT_WORKER_PROXY"

    @property
    def broker_url(self) -> str | None:
        return os.environ.get(self.broker_url_env) or None

    @property
    def redis_url(self) -> str | None:
        return os.environ.get(self.redis_url_env) or self.broker_url

    @property
    def proxy(self) -> str | None:
        return os.environ.get(self.proxy_env) or None


@dataclass(frozen=True, kw_only=True)
class ScanConfig:
    gone_after: int = 3
    data_dir: str = "data"
    #: stop paging at the first page that holds nothing new (results are asked newest first)
    incremental: bool = True
    #: on marketplaces whose pages state no posting times, every Nth scan of a search reads all
    #: its pages anyway, so that listings gone from later pages can still be marked gone
    full_scan_every: int = 6


@dataclass(frozen=True, kw_only=True)
class ScoringConfig:
    #: currency -> rate into a watch's currency, e.g. {"EUR": 1.08} (1 EUR = 1.08 USD): the
    #: fallback for what the rates source does not give
    rates: Mapping[str, Decimal] = field(default_factory=lambda: dict(DEFAULT_RATES))
    #: where daily rates come from (``<rates_url>/latest?base=USD``); "" turns it off
    rates_url: str = DEFAULT_RATES_URL
    #: fetched rates are used and kept this long before a scan asks again
    rates_max_age_hours: float = 24.0


@dataclass(frozen=True, kw_only=True)
class EmailConfig:
    smtp_host: str = "localhost"
    smtp_port: int = 25
    security: str = "none"
    sender: str = "gpuscout@localhost"
    recipients: tuple[str, ...] = ()
    username: str | None = None
    timeout: float = 30.0
    timezone: str = "UTC"

    @property
    def password(self) -> str | None:
        return os.environ.get(SMTP_PASSWORD_ENV)


@dataclass(frozen=True, kw_only=True)
class NotifyConfig:
    """A push target (``[[notify]]``): an Apprise URL (ntfy, Telegram, Discord, Pushover, Slack,
    …) written in the file (``url``, for one without secrets) or read from the environment
    variable ``url_env`` (for one with a token or password in it)."""

    name: str
    url: str | None = None
    url_env: str | None = None

    @property
    def resolved_url(self) -> str | None:
        """The URL to send to: from the file, else from its variable (None when unset)."""
        if self.url:
            return self.url
        return os.environ.get(self.url_env or "") or None


#: the channel name of the [email] section in an alert rule's ``notify`` list
EMAIL_CHANNEL = "email"


@dataclass(frozen=True, kw_only=True)
class AlertRule:
    name: str
    watch: str
    min_score: int = 70
    max_price: Decimal | None = None
    events: tuple[str, ...] = ("new", "price_drop")
    mode: str = "instant"
    drop_percent: Decimal = Decimal("5")
    drop_amount: Decimal | None = None
    digest_time: str = "08:00"
    digest_top: int = 10
    quiet_hours: str | None = None
    #: alert on an auction only as it ends within this many hours (None: auctions never alert)
    auction_hours: float | None = None
    #: event "market_move": alert when the watch's market reference moved by this many percent
    #: or more within ``move_days`` days
    move_percent: Decimal = Decimal("10")
    move_days: int = 14
    #: where it goes: "email" and [[notify]] target names; empty: every configured channel
    notify: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Config:
    database_url: str
    watches: tuple[WatchConfig, ...]
    searches: tuple[SearchConfig, ...]
    sources: Mapping[str, SourceConfig]
    fetch: FetchConfig = FetchConfig()
    scan: ScanConfig = ScanConfig()
    scoring: ScoringConfig = ScoringConfig()
    email: EmailConfig | None = None
    notify: tuple[NotifyConfig, ...] = ()
    alerts: tuple[AlertRule, ...] = ()
    cluster: ClusterConfig = ClusterConfig()
    #: ``[[catalog]]`` entries: models added to the shipped catalogue (catalogue model tables)
    catalog: tuple[Mapping[str, Any], ...] = ()
    #: the file this came from (None: built-in defaults)
    path: str | None = None

    @property
    def folder(self) -> Path:
        """Where relative paths in the file resolve: the file's folder, else the current one."""
        return Path(self.path).resolve().parent if self.path else Path.cwd()

    def watch(self, name: str | None) -> WatchConfig:
        if name is None:
            return self.watches[0]
        for w in self.watches:
            if w.name == name:
                return w
        raise ConfigError(f"no watch named {name!r}; configured: {', '.join(self.watch_names())}")

    def watch_names(self) -> list[str]:
        return [w.name for w in self.watches]

    def search(self, name: str) -> SearchConfig:
        for s in self.searches:
            if s.name == name:
                return s
        known = ", ".join(s.name for s in self.searches)
        raise ConfigError(f"no search named {name!r}; configured: {known}")

    def channels(self, rule: AlertRule) -> tuple[str, ...]:
        """The channels ``rule`` sends to: its ``notify`` list, or every configured one."""
        if rule.notify:
            return rule.notify
        own = (EMAIL_CHANNEL,) if self.email is not None else ()
        return (*own, *(target.name for target in self.notify))

    def target(self, name: str) -> NotifyConfig:
        for target in self.notify:
            if target.name == name:
                return target
        raise ConfigError(f"no [[notify]] target named {name!r}")

    def credentials(self, source: str) -> dict[str, str]:
        """Secrets for ``source`` from the environment only."""
        from gpuscout.scraper.sources.registry import BY_NAME

        env = BY_NAME[source].credentials if source in BY_NAME else {}
        return {key: os.environ[var] for key, var in env.items() if os.environ.get(var)}
