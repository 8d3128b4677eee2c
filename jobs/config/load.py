"""Loading the configuration: which file, TOML in, every value checked, a frozen Config out.

Which file: ``--config``, else ``$GPUSCOUT_CONFIG``, else ``./gpuscout.toml``, else the built-in
defaults. Tables left out take the defaults of ``schema``; a bad value raises ConfigError naming
the key, the value and what is allowed, before anything is written. Relative paths in a file
(the SQLite database, ``data_dir``, ``cookies_file``) resolve against the file's folder.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from gpuscout.jobs.config.alerting import parse_alert, parse_email, parse_notify
from gpuscout.jobs.config.cron import check_cron
from gpuscout.jobs.config.interval import parse_every
from gpuscout.jobs.config.schema import (
    CONFIG_ENV,
    CONFIG_FILE,
    DATABASE_URL_ENV,
    EMAIL_CHANNEL,
    PACING,
    PREFER,
    VARIANTS,
    ClusterConfig,
    Config,
    FetchConfig,
    ScanConfig,
    ScoringConfig,
    SearchConfig,
    SourceConfig,
    WatchConfig,
)
from gpuscout.jobs.config.starter import builtin
from gpuscout.jobs.config.urls import (
    anchor_path,
    anchor_sqlite,
    check_base_url,
    check_db_url,
    check_proxy,
)
from gpuscout.jobs.config.values import Table, defaults
from gpuscout.jobs.errors import ConfigError

TOP_LEVEL = ("database", "watch", "search", "sources", "fetch", "scan", "scoring", "email",
             "notify", "alert", "catalog", "cluster")

_ISO = re.compile(r"^[A-Z]{3}$")


def _list_of_tables(data: dict[str, Any], name: str) -> list[Any]:
    value = data.get(name, [])
    if not isinstance(value, list):
        raise ConfigError(f"{name}: must be an array of tables ([[{name}]])")
    return value


# --------------------------------------------------------------------------- the catalogue

def _catalog_entries(raw: list[Any]) -> tuple[dict[str, Any], ...]:
    """``[[catalog]]`` entries, each checked as a model the judge can compile."""
    from gpuscout.models.judge.catalog import CatalogError, shipped_data, user_model

    out = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise ConfigError(f"catalog[{i}]: expected a table, got {entry!r}")
        try:
            out.append(user_model(entry, shipped_data()))
        except CatalogError as exc:
            raise ConfigError(f"catalog[{i}].{exc}") from exc
    return tuple(out)


def _known_models(catalog: tuple[dict[str, Any], ...]) -> frozenset[str]:
    from gpuscout.models.judge.catalog import model_names, shipped_data

    return model_names(shipped_data()) | model_names({"model": list(catalog)})


def _check_model(key: str, model: str, known: frozenset[str]) -> None:
    """A watch's model must be one identification can give, or nothing would ever fit it."""
    if model in known:
        return
    import difflib

    hint = ""
    words = model.split()
    for tail, variant in ((("fe",), "fe"), (("founders", "edition"), "fe"), (("founders",), "fe")):
        head = " ".join(words[:-len(tail)])
        if tuple(words[-len(tail):]) == tail and head in known:
            hint = f"; did you mean model = {head!r} with variant = {variant!r}?"
            break
    if not hint:
        close = difflib.get_close_matches(model, sorted(known), n=3, cutoff=0.75)
        if close:
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?"
    raise ConfigError(f"{key} = {model!r}: not a model in the catalogue{hint} "
                      "(add one with a [[catalog]] entry)")


# --------------------------------------------------------------------------- tables

def _parse_watch(i: int, raw: Any, known: frozenset[str]) -> WatchConfig:
    r = Table(raw, f"watch[{i}]", defaults(WatchConfig))
    currency = r.string("currency")
    if not _ISO.match(currency):
        raise ConfigError(f"watch[{i}].currency = {currency!r}: must be an ISO 4217 code like USD")
    model = " ".join(r.string("model").lower().split())
    _check_model(f"watch[{i}].model", model, known)
    w = WatchConfig(
        name=r.string("name", single_line=True),
        model=model,
        variant=r.string("variant", choices=VARIANTS),
        price_low=r.money("price_low") or Decimal(0),
        price_high=r.money("price_high") or Decimal(0),
        currency=currency,
        prefer=r.string("prefer", choices=PREFER),
        reference_min_count=r.number("reference_min_count", minimum=1, integer=True),
        reference_window_days=r.number("reference_window_days", minimum=1, integer=True),
    )
    r.done()
    if w.price_high <= w.price_low:
        raise ConfigError(
            f"watch[{i}].price_high = {w.price_high}: must be greater than price_low ({w.price_low})"
        )
    return w


def _parse_search(i: int, raw: Any) -> SearchConfig:
    from gpuscout.scraper.sources.registry import NAMES, info

    r = Table(raw, f"search[{i}]", defaults(SearchConfig))
    source = r.string("source", choices=NAMES)
    schedule = r.string("schedule")
    every_raw = r.raw("every")
    if schedule is not None and every_raw is not None:
        raise ConfigError(f"search[{i}]: give schedule (cron) or every (an interval), not both")
    if schedule is not None:
        check_cron(f"search[{i}].schedule", schedule)
        every = None
    else:
        # NOTE: without either, the marketplace's own default interval (the source registry)
        every = parse_every(f"search[{i}].every",
                            info(source).every if every_raw is None else every_raw)
    s = SearchConfig(
        name=r.string("name", single_line=True),
        source=source,
        query=r.string("query"),
        schedule=schedule,
        every=every,
        max_pages=r.number("max_pages", minimum=1, integer=True, maximum=50),
        min_price=r.number("min_price", minimum=0, integer=True),
        max_price=r.number("max_price", minimum=0, integer=True),
        options=r.str_table("options"),
    )
    r.done()
    return s


def _parse_source(name: str, raw: Any, folder: Path | None) -> SourceConfig:
    from gpuscout.scraper.sources.registry import info

    registered = info(name)
    base = {**defaults(SourceConfig), "base_url": registered.base_url,
            "min_interval": registered.min_interval}
    r = Table(raw, f"sources.{name}", base)
    base_url = r.string("base_url")
    check_base_url(f"sources.{name}.base_url", base_url)
    proxy = r.string("proxy")
    if proxy is not None:
        check_proxy(f"sources.{name}.proxy", proxy)
    cookies = r.string("cookies_file")
    s = SourceConfig(
        base_url=base_url.rstrip("/"),
        min_interval=float(r.number("min_interval", minimum=0)),
        jitter=float(r.number("jitter", minimum=0, maximum=1)),
        max_pages=r.number("max_pages", minimum=1, integer=True, maximum=50),
        obey_robots=r.flag("obey_robots"),
        user_agent=r.string("user_agent", single_line=True),
        proxy=proxy,
        cookies_file=anchor_path(cookies, folder) if cookies else None,
        options=r.str_table("options"),
    )
    r.done()
    return s


def _parse_scoring(raw: Any) -> ScoringConfig:
    r = Table(raw, "scoring", defaults(ScoringConfig))
    rates = _parse_rates(r.raw("rates", None))
    url = r.raw("rates_url")
    if not isinstance(url, str) or (url and not re.match(r"^https?://\S+$", url)):
        raise ConfigError(f"scoring.rates_url = {url!r}: must be an http(s) URL, or \"\" to "
                          "use the rates table alone")
    scoring = ScoringConfig(rates=rates, rates_url=url.rstrip("/"),
                            rates_max_age_hours=float(r.number("rates_max_age_hours",
                                                               minimum=1, maximum=24 * 30)))
    r.done()
    return scoring


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _parse_cluster(raw: Any, fetch: FetchConfig) -> ClusterConfig:
    r = Table(raw, "cluster", defaults(ClusterConfig))
    names = {}
    for key in ("broker_url_env", "redis_url_env", "proxy_env"):
        name = r.string(key)
        if not _ENV_NAME.match(name):
            raise ConfigError(f"cluster.{key} = {name!r}: must name an environment variable "
                              "(the URL itself goes in the environment)")
        names[key] = name
    queue = r.string("queue", single_line=True)
    if not re.match(r"^[\w.:-]+$", queue):
        raise ConfigError(f"cluster.queue = {queue!r}: letters, digits and . _ : - only")
    cluster = ClusterConfig(
        **names, queue=queue,
        visibility_timeout=float(r.number("visibility_timeout", minimum=1)),
        restore_interval=float(r.number("restore_interval", minimum=0.1)),
        heartbeat=float(r.number("heartbeat", minimum=0.1, maximum=300)),
    )
    r.done()
    if cluster.visibility_timeout <= fetch.scan_deadline:
        raise ConfigError(f"cluster.visibility_timeout = {cluster.visibility_timeout:g}: must be "
                          f"longer than the longest scan ([fetch] scan_deadline = "
                          f"{fetch.scan_deadline:g}), or a running scan is handed to a second "
                          "worker")
    return cluster


def _parse_rates(rates_raw: Any) -> dict[str, Decimal]:
    if rates_raw is None:
        return dict(defaults(ScoringConfig)["rates"])
    if not isinstance(rates_raw, dict):
        raise ConfigError(f"scoring.rates = {rates_raw!r}: must be a table like {{ EUR = 1.08 }}")
    rates: dict[str, Decimal] = {}
    table = Table(rates_raw, "scoring.rates")
    for code in rates_raw:
        if not _ISO.match(code):
            raise ConfigError(f"scoring.rates.{code}: must be keyed by an ISO code like EUR")
        value = table.number(code)
        if value <= 0:
            raise ConfigError(f"scoring.rates.{code} = {value!r}: must be a positive number")
        rates[code] = Decimal(str(value))
    return rates


def _unique(label: str, names: list[str]) -> None:
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"{label}.name = {dupes[0]!r}: names must be unique")


# --------------------------------------------------------------------------- the document

def parse_config(data: dict[str, Any], path: str | None = None) -> Config:
    """Validate a parsed TOML document; tables left out take the built-in defaults. ``path`` is
    the file it came from: relative paths in it resolve against the file's folder."""
    folder = Path(path).resolve().parent if path else None
    start = builtin()
    top = Table(data, "")
    db = Table(data.get("database", {}), "database", {"url": start["database"]["url"]})
    url = db.string("url")
    db.done()
    check_db_url("database.url", url)

    catalog = _catalog_entries(_list_of_tables(data, "catalog"))
    known = _known_models(catalog)
    raw_watches = _list_of_tables(data, "watch") or start["watch"]
    watches = tuple(_parse_watch(i, w, known) for i, w in enumerate(raw_watches))
    raw_searches = _list_of_tables(data, "search") or start["search"]
    searches = tuple(_parse_search(i, s) for i, s in enumerate(raw_searches))
    _unique("watch", [w.name for w in watches])
    _unique("search", [s.name for s in searches])

    from gpuscout.scraper.sources.registry import NAMES

    raw_sources = data.get("sources", {})
    if not isinstance(raw_sources, dict):
        raise ConfigError("sources: must be a table of [sources.<name>] tables")
    for name in raw_sources:
        if name not in NAMES:
            raise ConfigError(f"sources.{name}: unknown source; must be one of {', '.join(NAMES)}")
    sources = {name: _parse_source(name, raw_sources.get(name, {}), folder) for name in NAMES}

    f = Table(data.get("fetch", {}), "fetch", defaults(FetchConfig))
    fetch = FetchConfig(
        user_agent=f.string("user_agent", single_line=True),
        timeout=float(f.number("timeout", minimum=0.1)),
        request_deadline=float(f.number("request_deadline", minimum=0.1)),
        scan_deadline=float(f.number("scan_deadline", minimum=0.1)),
        max_retries=f.number("max_retries", minimum=0, maximum=10, integer=True),
        max_bytes=f.number("max_bytes", minimum=1024, integer=True),
        pacing=f.string("pacing", choices=PACING),
    )
    f.done()
    cluster = _parse_cluster(data.get("cluster", {}), fetch)
    sc = Table(data.get("scan", {}), "scan", defaults(ScanConfig))
    scan = ScanConfig(gone_after=sc.number("gone_after", minimum=1, integer=True),
                      data_dir=anchor_path(sc.string("data_dir"), folder),
                      incremental=sc.flag("incremental"),
                      full_scan_every=sc.number("full_scan_every", minimum=1, integer=True))
    sc.done()
    scoring = _parse_scoring(data.get("scoring", {}))

    email = parse_email(data["email"]) if "email" in data else None
    notify = tuple(parse_notify(i, n) for i, n in enumerate(_list_of_tables(data, "notify")))
    _unique("notify", [n.name for n in notify])
    alerts = tuple(parse_alert(i, a, {w.name for w in watches})
                   for i, a in enumerate(_list_of_tables(data, "alert")))
    _unique("alert", [a.name for a in alerts])
    if alerts and email is None and not notify:
        raise ConfigError("alert: alerts are configured but there is neither [email] nor a "
                          "[[notify]] target to send them to")
    channels = {n.name for n in notify} | ({EMAIL_CHANNEL} if email is not None else set())
    for i, a in enumerate(alerts):
        for channel in a.notify:
            if channel not in channels:
                named = ", ".join(sorted(channels)) or "none"
                raise ConfigError(f"alert[{i}].notify: {channel!r} is not a configured channel "
                                  f"(configured: {named})")
    sends_email = any(EMAIL_CHANNEL in (a.notify or channels) for a in alerts)
    if email is not None and sends_email and not email.recipients:
        raise ConfigError("email.recipients = []: at least one address is needed for alerts")

    top.seen.update(TOP_LEVEL)
    top.done()
    return Config(database_url=anchor_sqlite(url, folder), watches=watches, searches=searches,
                  sources=sources, fetch=fetch, scan=scan, scoring=scoring,
                  email=email, notify=notify, alerts=alerts, catalog=catalog, cluster=cluster,
                  path=path)


def config_path(explicit: str | None) -> Path | None:
    """Which file to read: --config, then $GPUSCOUT_CONFIG, then ./gpuscout.toml, else none."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    local = Path(CONFIG_FILE)
    return local if local.is_file() else None


def load_config(explicit: str | None = None) -> Config:
    path = config_path(explicit)
    if path is None:
        cfg = parse_config({})
    else:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from exc
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        cfg = parse_config(data, str(path))
    url = os.environ.get(DATABASE_URL_ENV)
    if not url:
        return cfg
    check_db_url(DATABASE_URL_ENV, url)
    return replace(cfg, database_url=anchor_sqlite(url, Path.cwd()))


