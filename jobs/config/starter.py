"""The commented starter file (`gpuscout config init`), whose watch and searches are also the
built-in ones used when no file exists. Every other value in it is rendered from the schema's
defaults and the source registry, so the file and the defaults cannot disagree."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from functools import cache
from string import Template
from typing import Any

from gpuscout.jobs.config.schema import (
    DEFAULT_DATABASE_URL,
    SMTP_PASSWORD_ENV,
    SOLD_SCHEDULE,
    AlertRule,
    ClusterConfig,
    FetchConfig,
    ScanConfig,
    ScoringConfig,
    SourceConfig,
    WatchConfig,
)
from gpuscout.jobs.config.values import defaults

_TEMPLATE = Template('''\
# gpuscout configuration. Every key is optional; what is left out takes the default shown.
# Relative paths (the SQLite file, data_dir, cookies files) are relative to this file's folder.
# Secrets never go here; they are read from the environment:
$secrets

[database]
url = "$database_url"          # or "postgresql://user@host/dbname"

# What you want to buy. Prices are per unit, shipping included (see `prefer`).
# `model` is a catalogue name (`gpuscout evaluate --help`); add models with [[catalog]] below.
[[watch]]
name = "3090-fe"
model = "rtx 3090"
variant = "fe"                         # fe | partner | oem | any
price_low = 650
price_high = 800
currency = "$watch_currency"
prefer = "$watch_prefer"                     # shipped | local: which price counts if both are given
# The market reference (what such a card sells for) is estimated from the sales and asks seen
# in the last reference_window_days days; until they add up, the band's midpoint stands in for
# it, weighing as much as reference_min_count sales. Price points rate a listing against the
# market; the band is your budget: what costs more is never ranked nor alerted.
reference_min_count = $watch_reference_min_count
reference_window_days = $watch_reference_window_days

# Where to look. One job per search, run `every` so long ("60s", "10m", "1h"; each marketplace
# has its own default, shown) or on a cron `schedule` instead ("*/30 * * * *": minute hour day
# month weekday). Results are asked newest first, and a scan stops at the first page it has
# seen before, so a short interval costs one request. Reddit and eBay are reached through
# their APIs when their keys are set (see the variables above, and the README).
[[search]]
name = "ebay-3090-fe"
source = "ebay"
query = "rtx 3090 founders edition"
every = "$every_ebay"

# What such cards sold for: eBay's sold listings, a few times a day (the market reference
# is sold-first; see `gpuscout market`).
[[search]]
name = "ebay-3090-fe-sold"
source = "ebay"
query = "rtx 3090 founders edition"
schedule = "$sold_schedule"
options = { sold = "true" }

[[search]]
name = "hws-3090"
source = "reddit"
query = "3090"                         # matched against each new post of the subreddit
every = "$every_reddit"
options = { subreddit = "hardwareswap" }

[[search]]
name = "craigslist-3090"
source = "craigslist"
query = "rtx 3090"
every = "$every_craigslist"
options = { site = "sfbay" }

# Per-source settings: base_url, min_interval (seconds between requests to one host),
# jitter ($source_jitter = up to 30 % more), max_pages ($source_max_pages), obey_robots, user_agent, proxy,
# cookies_file, options. Every source takes its base URL from here.
$sources
[fetch]
timeout = $fetch_timeout              # seconds one read may wait for a server
request_deadline = $fetch_request_deadline    # seconds one request may take in all
scan_deadline = $fetch_scan_deadline      # seconds a scan may fetch for; then it stores what it read
max_retries = $fetch_max_retries
max_bytes = $fetch_max_bytes    # larger responses are refused
pacing = "$fetch_pacing"               # local | shared: every worker of a cluster keeps each host's interval

# Scaling out over several machines (README: "Scaling out"): `gpuscout run --distributed`
# schedules, `gpuscout worker` scans. Needs PostgreSQL ([database] url) and Redis; the URLs
# are read from the variables named here.
[cluster]
broker_url_env = "$cluster_broker_url_env"    # export GPUSCOUT_BROKER_URL=redis://host:6379/0
redis_url_env = "$cluster_redis_url_env"      # the shared politeness limit (unset: the broker)
queue = "$cluster_queue"
visibility_timeout = $cluster_visibility_timeout    # seconds: longer than the longest scan
restore_interval = $cluster_restore_interval        # seconds between sweeps for a lost worker's tasks
heartbeat = $cluster_heartbeat                # seconds: a standby scheduler takes over within this
proxy_env = "$cluster_proxy_env"   # a worker's own egress proxy, set on its machine

[scan]
gone_after = $scan_gone_after          # successful scans a listing may be missing before it is gone
data_dir = "$scan_data_dir"        # blocked and changed pages are saved here for inspection
incremental = $scan_incremental       # stop paging at the first page that holds nothing new
full_scan_every = $scan_full_scan_every      # ...but read every page each Nth scan where pages state no times

[scoring]
rates_url = "$scoring_rates_url"   # daily rates (""= off): fetched at most every rates_max_age_hours
rates_max_age_hours = $scoring_rates_max_age_hours
rates = $scoring_rates   # into the watch currency, when the source is off or lacks a currency

# Another GPU model for watches, beyond the shipped catalogue. `patterns` (regexes over
# lowercased text) may be left out for names like "rtx 5090" or "rx 9070 xt".
# [[catalog]]
# name = "rtx 5070 ti super"
# patterns = ['5070\\s*ti\\s*super']

# Alerts go to email, to push targets, or both. A push target is an Apprise URL: ntfy
# ("ntfy://ntfy.sh/<your-topic>", or "ntfys://" for your own server), Telegram
# ("tgram://<bot token>/<chat id>"), Discord, Pushover, Slack and the rest
# (https://github.com/caronc/apprise/wiki). A URL with a token or password in it goes in an
# environment variable, named with url_env; `gpuscout alerts test` sends a test message.
# [[notify]]
# name = "phone"
# url_env = "GPUSCOUT_NOTIFY_PHONE"    # export GPUSCOUT_NOTIFY_PHONE='ntfy://ntfy.sh/<topic>'
#
# Email alerts (password: $smtp_password_env)
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
# min_score = $alert_min_score
# events = ["new", "price_drop"]       # also "back_in_stock"
# mode = "$alert_mode"                     # or "digest" (daily, at digest_time)
# drop_percent = $alert_drop_percent
# notify = ["email", "phone"]          # which channels (default: every one configured)
# # quiet_hours = "23:00-07:00"        # none by default: a deal at 2 am is sent at 2 am
# auction_hours = 6                    # alert on auctions ending within 6 h (unset: never)
#
# The first scan of a search sends one digest of what already qualifies, not one message each.
#
# [[alert]]                            # the market itself moved
# name = "3090-market"
# watch = "3090-fe"
# events = ["market_move"]
# move_percent = $alert_move_percent   # when the reference moved this many percent or more...
# move_days = $alert_move_days            # ...within this many days (each move alerts once)
''')


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return repr(value)


def _sources() -> str:
    from gpuscout.scraper.sources.registry import SOURCES

    lines: list[str] = []
    for s in SOURCES:
        note = "   # experimental" if s.experimental else ""
        lines += [f"[sources.{s.name}]{note}", f'base_url = "{s.base_url}"',
                  f"min_interval = {s.min_interval}", ""]
    return "\n".join(lines)


@cache
def starter_toml() -> str:
    """The starter file's text."""
    from gpuscout.scraper.sources.registry import SOURCES

    values: dict[str, Any] = {"database_url": DEFAULT_DATABASE_URL,
                              "sold_schedule": SOLD_SCHEDULE,
                              "smtp_password_env": SMTP_PASSWORD_ENV, "sources": _sources()}
    values.update({f"every_{s.name}": s.every for s in SOURCES})
    secrets = [SMTP_PASSWORD_ENV, *(v for s in SOURCES for v in s.credentials.values())]
    values["secrets"] = "\n".join(f"#   {name}" for name in secrets)
    for prefix, cls in (("watch", WatchConfig), ("source", SourceConfig), ("fetch", FetchConfig),
                        ("scan", ScanConfig), ("scoring", ScoringConfig), ("alert", AlertRule),
                        ("cluster", ClusterConfig)):
        for key, value in defaults(cls).items():
            values[f"{prefix}_{key}"] = value if isinstance(value, str) else _toml(value)
    return _TEMPLATE.substitute(values)


@cache
def builtin() -> dict[str, Any]:
    """The starter file as data: where the built-in watch and searches come from."""
    return tomllib.loads(starter_toml())
