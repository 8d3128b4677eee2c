"""Configuration: one TOML file (--config, $GPUSCOUT_CONFIG, ./gpuscout.toml, else built-in defaults).

Secrets never live in the file: SMTP password and API credentials come from environment variables.
Every value is checked on load; a bad one raises ConfigError naming the key, the value and what
is allowed.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from gpuscout.jobs.errors import ConfigError

SOURCES = ("ebay", "reddit", "craigslist", "facebook")
VARIANTS = ("fe", "partner", "oem", "any")
SECURITY = ("none", "starttls", "tls")
EVENTS = ("new", "price_drop", "back_in_stock")
MODES = ("instant", "digest")
PREFER = ("shipped", "local")
DEFAULT_SCHEDULE = "*/30 * * * *"

DEFAULT_BASE_URLS = {
    "ebay": "https://www.ebay.com",
    "reddit": "https://www.reddit.com",
    "craigslist": "https://{site}.craigslist.org",
    "facebook": "https://www.facebook.com",
}
#: environment variables holding each source's secrets (never read from the file)
CREDENTIAL_ENV = {
    "ebay": {"client_id": "GPUSCOUT_EBAY_CLIENT_ID", "client_secret": "GPUSCOUT_EBAY_CLIENT_SECRET"},
    "reddit": {
        "client_id": "GPUSCOUT_REDDIT_CLIENT_ID",
        "client_secret": "GPUSCOUT_REDDIT_CLIENT_SECRET",
        "username": "GPUSCOUT_REDDIT_USERNAME",
        "password": "GPUSCOUT_REDDIT_PASSWORD",
    },
}
SMTP_PASSWORD_ENV = "GPUSCOUT_SMTP_PASSWORD"


@dataclass(frozen=True)
class Watch:
    """A watch as configured: the scorer's ``gpuscout.models.judge.score.Watch`` (built by
    ``gpuscout.jobs.scoring.score_watch``) plus how its market reference is drawn.

    NOTE: a separate class, not the scorer's, because importing ``models.judge.score`` reads the model
    catalogue, which commands that only read the configuration (``--help``, ``deals``) skip.
    """

    name: str
    model: str
    variant: str
    price_low: Decimal
    price_high: Decimal
    currency: str = "USD"
    prefer: str = "shipped"
    reference_min_count: int = 10
    reference_window_days: int = 30


@dataclass(frozen=True)
class SearchConfig:
    name: str
    source: str
    query: str
    schedule: str = DEFAULT_SCHEDULE
    max_pages: int | None = None
    min_price: int | None = None
    max_price: int | None = None
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceConfig:
    base_url: str
    min_interval: float = 5.0
    jitter: float = 0.3
    max_pages: int = 3
    obey_robots: bool = True
    user_agent: str | None = None
    proxy: str | None = None
    cookies_file: str | None = None
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FetchConfig:
    user_agent: str = "gpuscout/0.1 (used-GPU price watcher; +https://github.com/gpuscout/gpuscout)"
    timeout: float = 20.0
    max_retries: int = 3
    max_bytes: int = 10 * 1024 * 1024


@dataclass(frozen=True)
class ScanConfig:
    gone_after: int = 3
    data_dir: str = "data"


@dataclass(frozen=True)
class ScoringConfig:
    #: currency -> rate into a watch's currency, e.g. {"EUR": 1.08} (1 EUR = 1.08 USD)
    rates: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Config:
    database_url: str
    watches: tuple[Watch, ...]
    searches: tuple[SearchConfig, ...]
    sources: Mapping[str, SourceConfig]
    fetch: FetchConfig = FetchConfig()
    scan: ScanConfig = ScanConfig()
    scoring: ScoringConfig = ScoringConfig()
    email: EmailConfig | None = None
    alerts: tuple[AlertRule, ...] = ()
    path: str | None = None

    def watch(self, name: str | None) -> Watch:
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

    def credentials(self, source: str) -> dict[str, str]:
        """Secrets for ``source`` from the environment only."""
        env = CREDENTIAL_ENV.get(source, {})
        return {key: os.environ[var] for key, var in env.items() if os.environ.get(var)}


DEFAULT_TOML = """\
# gpuscout configuration. Every key is optional; what is left out takes the default shown.
# Secrets never go here: set GPUSCOUT_SMTP_PASSWORD, GPUSCOUT_EBAY_CLIENT_ID/SECRET,
# GPUSCOUT_REDDIT_CLIENT_ID/SECRET in the environment instead.

[database]
url = "sqlite:///gpuscout.db"          # or "postgresql://user@host/dbname"

# What you want to buy. Prices are per unit, shipping included (see `prefer`).
[[watch]]
name = "3090-fe"
model = "rtx 3090"                     # canonical model name, see `gpuscout evaluate --help`
variant = "fe"                         # fe | partner | oem | any
price_low = 650
price_high = 800
currency = "USD"
prefer = "shipped"                     # shipped | local: which price counts when both are given
reference_min_count = 10               # blend the band with observed asks once this many exist...
reference_window_days = 30             # ...within this many days

# Where to look. One job per search; `schedule` is cron syntax (minute hour day month weekday).
[[search]]
name = "ebay-3090-fe"
source = "ebay"                        # ebay | reddit | craigslist | facebook
query = "rtx 3090 founders edition"
schedule = "*/30 * * * *"

[[search]]
name = "hws-3090"
source = "reddit"
query = "3090"
schedule = "*/20 * * * *"
options = { subreddit = "hardwareswap" }

[[search]]
name = "craigslist-3090"
source = "craigslist"
query = "rtx 3090"
schedule = "0 * * * *"
options = { site = "sfbay" }

# Per-source settings. Every source takes its base URL from here.
[sources.ebay]
base_url = "https://www.ebay.com"
min_interval = 5.0                     # seconds between requests to one host (plus jitter)
max_pages = 3

[sources.reddit]
base_url = "https://www.reddit.com"
min_interval = 3.0

[sources.craigslist]
base_url = "https://{site}.craigslist.org"

[sources.facebook]                     # experimental; needs a logged-in cookies file
base_url = "https://www.facebook.com"
# cookies_file = "~/.config/gpuscout/facebook-cookies.txt"

[fetch]
timeout = 20.0
max_retries = 3

[scan]
gone_after = 3                         # successful scans a listing may be missing before it is gone
data_dir = "data"                      # blocked and changed pages are saved here for inspection

[scoring]
rates = { EUR = 1.08, GBP = 1.27, CAD = 0.73 }   # into the watch currency; others stay unscored

# Email alerts (password: GPUSCOUT_SMTP_PASSWORD)
# [email]
# smtp_host = "smtp.example.com"
# smtp_port = 587
# security = "starttls"                # none | starttls | tls
# username = "me@example.com"
# sender = "gpuscout@example.com"
# recipients = ["me@example.com"]
# timezone = "America/New_York"        # for digest times and quiet hours
#
# [[alert]]
# watch = "3090-fe"
# min_score = 70
# events = ["new", "price_drop"]       # also "back_in_stock"
# mode = "instant"                     # or "digest"
# drop_percent = 5
# quiet_hours = "23:00-07:00"
# auction_hours = 6                    # alert on auctions ending within 6 h (unset: never)
"""


def _builtin() -> dict[str, Any]:
    return tomllib.loads(DEFAULT_TOML)


# --------------------------------------------------------------------------- value readers

class _Reader:
    """Reads one table, naming ``prefix.key`` in every error."""

    def __init__(self, data: Any, prefix: str) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"{prefix}: expected a table, got {data!r}")
        self.data = data
        self.prefix = prefix
        self.seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def _get(self, name: str, default: Any) -> Any:
        self.seen.add(name)
        return self.data.get(name, default)

    def string(self, name: str, default: Any = ..., *, choices: tuple[str, ...] | None = None) -> Any:
        value = self._get(name, default)
        if value is ...:
            raise ConfigError(f"{self.key(name)} is missing: a string is required")
        if value is None and default is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{self.key(name)} = {value!r}: must be a non-empty string")
        if choices and value not in choices:
            raise ConfigError(f"{self.key(name)} = {value!r}: must be one of {', '.join(choices)}")
        return value

    def num(self, name: str, default: Any = ..., *, minimum: float | None = None,
            integer: bool = False, maximum: float | None = None) -> Any:
        value = self._get(name, default)
        if value is ...:
            raise ConfigError(f"{self.key(name)} is missing: a number is required")
        if value is None and default is None:
            return None
        kind = "a whole number" if integer else "a number"
        ok = isinstance(value, int) if integer else isinstance(value, int | float)
        if isinstance(value, bool) or not ok:
            raise ConfigError(f"{self.key(name)} = {value!r}: must be {kind}")
        if minimum is not None and value < minimum:
            raise ConfigError(f"{self.key(name)} = {value!r}: must be {kind} ≥ {minimum}")
        if maximum is not None and value > maximum:
            raise ConfigError(f"{self.key(name)} = {value!r}: must be {kind} ≤ {maximum}")
        return value

    def money(self, name: str, default: Any = ...) -> Decimal | None:
        value = self.num(name, default, minimum=0)
        return None if value is None else Decimal(str(value))

    def flag(self, name: str, default: bool) -> bool:
        value = self._get(name, default)
        if not isinstance(value, bool):
            raise ConfigError(f"{self.key(name)} = {value!r}: must be true or false")
        return value

    def str_table(self, name: str) -> dict[str, str]:
        value = self._get(name, {})
        if not isinstance(value, dict):
            raise ConfigError(f"{self.key(name)} = {value!r}: must be a table of strings")
        out = {}
        for k, v in value.items():
            if not isinstance(v, str | int | float | bool):
                raise ConfigError(f"{self.key(name)}.{k} = {v!r}: must be a string")
            out[str(k)] = str(v).lower() if isinstance(v, bool) else str(v)
        return out

    def done(self, allowed_extra: tuple[str, ...] = ()) -> None:
        unknown = set(self.data) - self.seen - set(allowed_extra)
        if unknown:
            name = sorted(unknown)[0]
            raise ConfigError(f"{self.key(name)}: unknown key (misspelt?)")


_CRON_FIELD = re.compile(r"^[\d*/,\-A-Za-z?]+$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_ISO = re.compile(r"^[A-Z]{3}$")


def _check_cron(key: str, expr: str) -> None:
    parts = expr.split()
    if len(parts) != 5 or not all(_CRON_FIELD.match(p) for p in parts):
        raise ConfigError(f"{key} = {expr!r}: must be a 5-field cron expression like '*/30 * * * *'")
    try:
        from apscheduler.triggers.cron import CronTrigger

        CronTrigger.from_crontab(expr)
    except ValueError as exc:
        raise ConfigError(f"{key} = {expr!r}: invalid cron expression ({exc})") from exc


def _list_of_tables(data: dict[str, Any], name: str) -> list[Any]:
    value = data.get(name, [])
    if not isinstance(value, list):
        raise ConfigError(f"{name}: must be an array of tables ([[{name}]])")
    return value


def _parse_watch(i: int, raw: Any) -> Watch:
    r = _Reader(raw, f"watch[{i}]")
    currency = r.string("currency", "USD")
    if not _ISO.match(currency):
        raise ConfigError(f"watch[{i}].currency = {currency!r}: must be an ISO 4217 code like USD")
    w = Watch(
        name=r.string("name"),
        model=r.string("model").strip().lower(),
        variant=r.string("variant", "any", choices=VARIANTS),
        price_low=r.money("price_low") or Decimal(0),
        price_high=r.money("price_high") or Decimal(0),
        currency=currency,
        prefer=r.string("prefer", "shipped", choices=PREFER),
        reference_min_count=r.num("reference_min_count", 10, minimum=1, integer=True),
        reference_window_days=r.num("reference_window_days", 30, minimum=1, integer=True),
    )
    r.done()
    if w.price_high <= w.price_low:
        raise ConfigError(
            f"watch[{i}].price_high = {w.price_high}: must be greater than price_low ({w.price_low})"
        )
    return w


def _parse_search(i: int, raw: Any) -> SearchConfig:
    r = _Reader(raw, f"search[{i}]")
    s = SearchConfig(
        name=r.string("name"),
        source=r.string("source", choices=SOURCES),
        query=r.string("query"),
        schedule=r.string("schedule", DEFAULT_SCHEDULE),
        max_pages=r.num("max_pages", None, minimum=1, integer=True, maximum=50),
        min_price=r.num("min_price", None, minimum=0, integer=True),
        max_price=r.num("max_price", None, minimum=0, integer=True),
        options=r.str_table("options"),
    )
    r.done()
    _check_cron(f"search[{i}].schedule", s.schedule)
    return s


def _parse_source(name: str, raw: Any) -> SourceConfig:
    r = _Reader(raw, f"sources.{name}")
    base_url = r.string("base_url", DEFAULT_BASE_URLS[name])
    if not re.match(r"^https?://", base_url):
        raise ConfigError(f"sources.{name}.base_url = {base_url!r}: must start with http:// or https://")
    s = SourceConfig(
        base_url=base_url.rstrip("/"),
        min_interval=float(r.num("min_interval", 5.0, minimum=0)),
        jitter=float(r.num("jitter", 0.3, minimum=0, maximum=1)),
        max_pages=r.num("max_pages", 3, minimum=1, integer=True, maximum=50),
        obey_robots=r.flag("obey_robots", True),
        user_agent=r.string("user_agent", None),
        proxy=r.string("proxy", None),
        cookies_file=r.string("cookies_file", None),
        options=r.str_table("options"),
    )
    r.done()
    return s


def _parse_email(raw: Any) -> EmailConfig:
    r = _Reader(raw, "email")
    recipients = r._get("recipients", [])
    if isinstance(recipients, str):
        recipients = [recipients]
    if not isinstance(recipients, list) or not all(
        isinstance(x, str) and "@" in x for x in recipients
    ):
        raise ConfigError(f"email.recipients = {recipients!r}: must be a list of email addresses")
    if "password" in r.data:
        raise ConfigError(f"email.password: not allowed in the file; set {SMTP_PASSWORD_ENV} instead")
    e = EmailConfig(
        smtp_host=r.string("smtp_host", "localhost"),
        smtp_port=r.num("smtp_port", 25, minimum=1, maximum=65535, integer=True),
        security=r.string("security", "none", choices=SECURITY),
        sender=r.string("sender", "gpuscout@localhost"),
        recipients=tuple(recipients),
        username=r.string("username", None),
        timeout=float(r.num("timeout", 30.0, minimum=1)),
        timezone=r.string("timezone", "UTC"),
    )
    r.done()
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(e.timezone)
    except Exception as exc:
        raise ConfigError(f"email.timezone = {e.timezone!r}: must be an IANA zone like "
                          "'America/New_York'") from exc
    return e


def _parse_alert(i: int, raw: Any, watches: set[str]) -> AlertRule:
    r = _Reader(raw, f"alert[{i}]")
    watch = r.string("watch")
    if watch not in watches:
        raise ConfigError(f"alert[{i}].watch = {watch!r}: must name a watch ({', '.join(sorted(watches))})")
    events = r._get("events", ["new", "price_drop"])
    if not isinstance(events, list) or not events or any(e not in EVENTS for e in events):
        raise ConfigError(f"alert[{i}].events = {events!r}: must be a list of {', '.join(EVENTS)}")
    quiet = r.string("quiet_hours", None)
    if quiet is not None:
        start, _, end = quiet.partition("-")
        if not (_HHMM.match(start) and _HHMM.match(end)):
            raise ConfigError(f"alert[{i}].quiet_hours = {quiet!r}: must look like '23:00-07:00'")
    digest_time = r.string("digest_time", "08:00")
    if not _HHMM.match(digest_time):
        raise ConfigError(f"alert[{i}].digest_time = {digest_time!r}: must be HH:MM (24-hour)")
    a = AlertRule(
        name=r.string("name", f"{watch}-{i}"),
        watch=watch,
        min_score=r.num("min_score", 70, minimum=0, maximum=100, integer=True),
        max_price=r.money("max_price", None),
        events=tuple(events),
        mode=r.string("mode", "instant", choices=MODES),
        drop_percent=r.money("drop_percent", 5) or Decimal(0),
        drop_amount=r.money("drop_amount", None),
        digest_time=digest_time,
        digest_top=r.num("digest_top", 10, minimum=1, integer=True),
        quiet_hours=quiet,
        auction_hours=r.num("auction_hours", None, minimum=0.25, maximum=720),
    )
    r.done()
    return a


def parse_config(data: dict[str, Any], path: str | None = None) -> Config:
    """Validate a parsed TOML document; sections left out take the built-in defaults."""
    builtin = _builtin()
    top = _Reader(data, "")
    db = _Reader(data.get("database", builtin["database"]), "database")
    url = db.string("url", "sqlite:///gpuscout.db")
    db.done()
    if not re.match(r"^(sqlite|postgres(ql)?)(\+\w+)?://", url):
        raise ConfigError(f"database.url = {url!r}: must be a sqlite:/// or postgresql:// URL")

    raw_watches = _list_of_tables(data, "watch") or builtin["watch"]
    watches = tuple(_parse_watch(i, w) for i, w in enumerate(raw_watches))
    raw_searches = _list_of_tables(data, "search") or builtin["search"]
    searches = tuple(_parse_search(i, s) for i, s in enumerate(raw_searches))
    for label, names in (("watch", [w.name for w in watches]), ("search", [s.name for s in searches])):
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ConfigError(f"{label}.name = {sorted(dupes)[0]!r}: names must be unique")

    raw_sources = data.get("sources", {})
    if not isinstance(raw_sources, dict):
        raise ConfigError("sources: must be a table of [sources.<name>] tables")
    for name in raw_sources:
        if name not in SOURCES:
            raise ConfigError(f"sources.{name}: unknown source; must be one of {', '.join(SOURCES)}")
    sources = {name: _parse_source(name, raw_sources.get(name, builtin["sources"].get(name, {})))
               for name in SOURCES}

    f = _Reader(data.get("fetch", {}), "fetch")
    fetch = FetchConfig(
        user_agent=f.string("user_agent", FetchConfig.user_agent),
        timeout=float(f.num("timeout", 20.0, minimum=0.1)),
        max_retries=f.num("max_retries", 3, minimum=0, maximum=10, integer=True),
        max_bytes=f.num("max_bytes", 10 * 1024 * 1024, minimum=1024, integer=True),
    )
    f.done()
    sc = _Reader(data.get("scan", {}), "scan")
    scan = ScanConfig(gone_after=sc.num("gone_after", 3, minimum=1, integer=True),
                      data_dir=sc.string("data_dir", "data"))
    sc.done()
    sg = _Reader(data.get("scoring", builtin["scoring"]), "scoring")
    rates_raw = sg._get("rates", {})
    if not isinstance(rates_raw, dict):
        raise ConfigError(f"scoring.rates = {rates_raw!r}: must be a table like {{ EUR = 1.08 }}")
    rates: dict[str, Decimal] = {}
    for code, rate in rates_raw.items():
        if not _ISO.match(code) or isinstance(rate, bool) or not isinstance(rate, int | float) or rate <= 0:
            raise ConfigError(f"scoring.rates.{code} = {rate!r}: must be a positive number keyed "
                              "by an ISO code")
        try:
            rates[code] = Decimal(str(rate))
        except InvalidOperation as exc:  # pragma: no cover - float repr is always valid
            raise ConfigError(f"scoring.rates.{code} = {rate!r}: not a number") from exc
    sg.done()

    email = _parse_email(data["email"]) if "email" in data else None
    alerts = tuple(_parse_alert(i, a, {w.name for w in watches})
                   for i, a in enumerate(_list_of_tables(data, "alert")))
    if alerts and email is None:
        raise ConfigError("alert: alerts are configured but [email] is missing")
    if email is not None and alerts and not email.recipients:
        raise ConfigError("email.recipients = []: at least one address is needed for alerts")

    top.seen.update({"database", "watch", "search", "sources", "fetch", "scan", "scoring",
                     "email", "alert"})
    top.done()
    return Config(database_url=url, watches=watches, searches=searches, sources=sources,
                  fetch=fetch, scan=scan, scoring=ScoringConfig(rates=rates), email=email,
                  alerts=alerts, path=path)


def config_path(explicit: str | None) -> Path | None:
    """Which file to read: --config, then $GPUSCOUT_CONFIG, then ./gpuscout.toml, else none."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("GPUSCOUT_CONFIG")
    if env:
        return Path(env)
    local = Path("gpuscout.toml")
    return local if local.is_file() else None


def load_config(explicit: str | None = None) -> Config:
    path = config_path(explicit)
    if path is None:
        cfg = parse_config({})
        url = os.environ.get("GPUSCOUT_DATABASE_URL")
        return cfg if not url else _with_url(cfg, url)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    cfg = parse_config(data, str(path))
    url = os.environ.get("GPUSCOUT_DATABASE_URL")
    return cfg if not url else _with_url(cfg, url)


def _with_url(cfg: Config, url: str) -> Config:
    from dataclasses import replace

    if not re.match(r"^(sqlite|postgres(ql)?)(\+\w+)?://", url):
        raise ConfigError(f"GPUSCOUT_DATABASE_URL = {url!r}: must be a sqlite:/// or postgresql:// URL")
    return replace(cfg, database_url=url)


def mask_url(url: str) -> str:
    return re.sub(r"(://[^:/@]+:)[^@]+@", r"\1****@", url)
