"""Configuration: one source of defaults, checked values, catalogue models, paths, masking."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gpuscout.jobs.config import load_config, mask_url, parse_config
from gpuscout.jobs.config.schema import FetchConfig, SourceConfig
from gpuscout.jobs.config.starter import starter_toml
from gpuscout.jobs.errors import ConfigError
from gpuscout.scraper.sources.registry import SOURCES

WATCH = {"name": "w", "model": "rtx 3090", "variant": "fe", "price_low": 650, "price_high": 800}


def test_starter_file_is_the_built_in_defaults() -> None:
    """The starter file, the schema's defaults and the built-in configuration agree."""
    assert parse_config(tomllib.loads(starter_toml())) == parse_config({})


def test_starter_file_shows_schema_and_registry_defaults() -> None:
    text = starter_toml()
    assert f"timeout = {FetchConfig.timeout}" in text
    assert f"max_bytes = {FetchConfig.max_bytes}" in text
    for source in SOURCES:
        assert f"[sources.{source.name}]" in text
        assert f'base_url = "{source.base_url}"' in text
        for variable in source.credentials.values():
            assert variable in text


def test_sources_take_registry_defaults_with_or_without_their_table() -> None:
    bare = parse_config({})
    with_table = parse_config({"sources": {"reddit": {"max_pages": 2}}})
    for cfg in (bare, with_table):
        assert cfg.sources["reddit"].min_interval == 3.0
        assert cfg.sources["reddit"].base_url == "https://www.reddit.com"
        assert cfg.sources["ebay"].min_interval == SourceConfig.min_interval
    assert with_table.sources["reddit"].max_pages == 2


def test_scoring_rates_default_with_or_without_the_table() -> None:
    assert parse_config({}).scoring.rates["EUR"] == Decimal("1.08")
    assert parse_config({"scoring": {}}).scoring.rates["CAD"] == Decimal("0.73")
    assert parse_config({"scoring": {"rates": {"EUR": 1.1}}}).scoring.rates == {"EUR": Decimal("1.1")}


@pytest.mark.parametrize(("model", "hint"), [
    ("rtx 3099", "did you mean 'rtx 3090'"),
    ("rtx 3090 fe", "did you mean model = 'rtx 3090' with variant = 'fe'"),
    ("RTX 3090 Founders Edition", "did you mean model = 'rtx 3090' with variant = 'fe'"),
    ("geforce banana", "not a model in the catalogue"),
])
def test_watch_model_must_be_in_the_catalogue(model: str, hint: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"watch": [{**WATCH, "model": model}]})
    message = str(caught.value)
    assert message.startswith("watch[0].model = ")
    assert hint in message and "[[catalog]]" in message


@pytest.mark.parametrize("model", ["rtx 3090", "RTX  3090 Ti", "tesla v100 32gb", "rtx 3080 laptop",
                                   "rx 7900 xtx"])
def test_catalogue_models_are_accepted(model: str) -> None:
    cfg = parse_config({"watch": [{**WATCH, "model": model}]})
    assert cfg.watches[0].model == " ".join(model.lower().split())


def test_catalog_entries_add_models_with_derived_or_given_patterns() -> None:
    from gpuscout.jobs.scoring import catalog_of, identify_raw_fields

    cfg = parse_config({
        "catalog": [{"name": "RTX 5070 Ti Super"},
                    {"name": "radeon pro w7900", "patterns": [r"(?:radeon\s*)?pro\s*w\s*7900"]}],
        "watch": [{**WATCH, "model": "rtx 5070 ti super", "variant": "any"},
                  {**WATCH, "name": "w2", "model": "radeon pro w7900", "variant": "any"}],
    })
    assert [w.model for w in cfg.watches] == ["rtx 5070 ti super", "radeon pro w7900"]
    catalog = catalog_of(cfg)
    assert catalog_of(cfg) is catalog  # built once
    one = identify_raw_fields("MSI GeForce RTX 5070Ti SUPER 16GB Gaming Trio", None, None, "active",
                              catalog=catalog)
    two = identify_raw_fields("AMD Radeon Pro W7900 48GB workstation card", None, None, "active",
                              catalog=catalog)
    assert (one.model, one.kind) == ("rtx 5070 ti super", "card")
    assert (two.model, two.kind) == ("radeon pro w7900", "card")
    # the shipped catalogue alone does not know them
    assert identify_raw_fields("AMD Radeon Pro W7900 48GB workstation card", None, None,
                               "active").model != "radeon pro w7900"


@pytest.mark.parametrize(("entry", "message"), [
    ({"patterns": ["x"]}, "catalog[0].name: a model name"),
    ({"name": "foo bar"}, "catalog[0].name = 'foo bar': no pattern can be derived"),
    ({"name": "rtx 9999 ultra"}, "unknown suffix 'ultra'"),
    ({"name": "x", "patterns": ["("]}, "bad pattern"),
    ({"name": "x", "patterns": ["x"], "colour": "red"}, "catalog[0].colour: unknown key"),
])
def test_bad_catalog_entries_name_the_key(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=r"^catalog\[0\]") as caught:
        parse_config({"catalog": [entry]})
    assert message in str(caught.value)


@pytest.mark.parametrize(("data", "key"), [
    ({"sources": {"ebay": {"min_interval": float("nan")}}}, "sources.ebay.min_interval = nan"),
    ({"sources": {"ebay": {"jitter": float("inf")}}}, "sources.ebay.jitter = inf"),
    ({"fetch": {"timeout": float("nan")}}, "fetch.timeout = nan"),
    ({"watch": [{**WATCH, "price_low": float("nan")}]}, "watch[0].price_low = nan"),
    ({"scoring": {"rates": {"EUR": float("inf")}}}, "scoring.rates.EUR = inf"),
    ({"scoring": {"rates": {"EUR": 0}}}, "scoring.rates.EUR = 0"),
])
def test_non_finite_and_bad_numbers_are_refused(data: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    assert str(caught.value).startswith(key)


def test_duplicate_alert_names_are_refused() -> None:
    email = {"smtp_host": "localhost", "recipients": ["me@example.com"]}
    alert = {"name": "deals", "watch": "3090-fe"}
    with pytest.raises(ConfigError, match=r"alert\.name = 'deals': names must be unique"):
        parse_config({"email": email, "alert": [alert, alert]})


def test_sender_must_be_one_line() -> None:
    with pytest.raises(ConfigError, match=r"^email\.sender = .*one line"):
        parse_config({"email": {"sender": "a@example.com\r\nBcc: x@example.com"}})


def test_relative_paths_resolve_against_the_config_file(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    path = folder / "gpuscout.toml"
    path.write_text('[database]\nurl = "sqlite:///state/gpuscout.db"\n[scan]\ndata_dir = "pages"\n'
                    '[sources.facebook]\ncookies_file = "fb.txt"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv("GPUSCOUT_DATABASE_URL", raising=False)
    cfg = load_config(str(path))
    assert cfg.database_url == f"sqlite:///{folder / 'state' / 'gpuscout.db'}"
    assert cfg.scan.data_dir == str(folder / "pages")
    assert cfg.sources["facebook"].cookies_file == str(folder / "fb.txt")
    # the same file read from its own folder names the same database
    monkeypatch.chdir(folder)
    assert load_config("gpuscout.toml").database_url == cfg.database_url


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "sqlite:////abs/x.db",
                                 "postgresql://u@h/db", "sqlite:///file:x.db?mode=ro&uri=true"])
def test_urls_that_are_not_relative_files_stay_as_written(url: str, tmp_path: Path) -> None:
    cfg = parse_config({"database": {"url": url}}, str(tmp_path / "gpuscout.toml"))
    assert cfg.database_url == url


def test_relative_database_url_from_the_environment_is_the_working_folders(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GPUSCOUT_DATABASE_URL", "sqlite:///env.db")
    monkeypatch.delenv("GPUSCOUT_CONFIG", raising=False)
    assert load_config().database_url == f"sqlite:///{tmp_path / 'env.db'}"


@pytest.mark.parametrize(("url", "masked"), [
    ("postgresql://gpu:hunter2@db.example.com/gpuscout", "postgresql://gpu:****@db.example.com/gpuscout"),
    ("postgresql://gpu:p@ss@w0rd@db/gpuscout", "postgresql://gpu:****@db/gpuscout"),
    ("postgresql://db/gpuscout?password=hunter2&sslmode=require",
     "postgresql://db/gpuscout?password=****&sslmode=require"),
    ("http://user:secret@proxy.example.com:3128", "http://user:****@proxy.example.com:3128"),
    ("http://proxy.example.com:3128", "http://proxy.example.com:3128"),
    ("sqlite:///gpuscout.db", "sqlite:///gpuscout.db"),
])
def test_mask_url_hides_every_password(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_configs_are_frozen() -> None:
    cfg = parse_config({})
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.database_url = "x"  # type: ignore[misc]


@pytest.mark.parametrize("schedule", ["*/30 * * * *", "0 8 * * mon-fri", "15,45 */2 1-15 jan,jul *",
                                      "0 0 29 2 *", "5/15 * * * *", "0 12 last * *"])
def test_cron_schedules_that_fire_are_accepted(schedule: str) -> None:
    search = {"name": "s", "source": "ebay", "query": "q", "schedule": schedule}
    assert parse_config({"search": [search]}).searches[0].schedule == schedule


@pytest.mark.parametrize(("schedule", "why"), [
    ("* * 31 2 *", "never fires"),
    ("0 0 30,31 2 *", "never fires"),
    ("*/30 * * *", "must be a 5-field cron expression"),
    ("61 * * * *", "minute 61 is outside 0-59"),
    ("0 0 * 13 *", "month 13 is outside 1-12"),
    ("0 0 * * 7", "day of week 7 is outside 0-6"),
    ("10-5 * * * *", "runs backwards"),
    ("0 0 * * funday", "invalid cron expression"),
])
def test_bad_cron_schedules_name_the_key(schedule: str, why: str) -> None:
    search = {"name": "s", "source": "ebay", "query": "q", "schedule": schedule}
    with pytest.raises(ConfigError, match=r"^search\[0\]\.schedule = ") as caught:
        parse_config({"search": [search]})
    assert why in str(caught.value)


def test_the_starter_alert_example_uncommented_alerts_at_once_by_email_and_push(
        monkeypatch: pytest.MonkeyPatch) -> None:
    text = starter_toml()
    block = text[text.index("# [[notify]]"):]
    # what a newcomer does: drop the leading "# " of each example line (tables and keys)
    example = re.compile(r"^# (\[|[a-z_]+ = )")
    enabled = "\n".join(line[2:] if example.match(line) else line for line in block.splitlines())
    cfg = parse_config(tomllib.loads(text[:text.index("# [[notify]]")] + enabled))
    rule, market_rule = cfg.alerts
    assert rule.mode == "instant" and rule.quiet_hours is None
    assert (market_rule.events, market_rule.move_percent, market_rule.move_days) == (
        ("market_move",), Decimal(10), 14)
    assert cfg.channels(rule) == ("email", "phone")
    assert cfg.notify[0].url_env == "GPUSCOUT_NOTIFY_PHONE"
    monkeypatch.setenv("GPUSCOUT_NOTIFY_PHONE", "ntfy://ntfy.sh/example-topic")
    assert cfg.notify[0].resolved_url == "ntfy://ntfy.sh/example-topic"


@pytest.mark.parametrize("source", [
    {"base_url": "http://127.0.0.1:8080"}, {"base_url": "http://[::1]:8080/"},
    {"base_url": "https://www.ebay.co.uk"}, {"base_url": "https://mirror.example/ebay"},
    {"proxy": "http://proxy.example:3128"}, {"proxy": "https://bob:p%40ss@proxy.example"},
    {"proxy": "http://10.0.0.1:3128/"},
])
def test_good_base_urls_and_proxies_are_accepted(source: dict[str, str]) -> None:
    parse_config({"sources": {"ebay": source}})
    parse_config({"sources": {"craigslist": {"base_url": "https://{site}.craigslist.org",
                                             **{k: v for k, v in source.items() if k == "proxy"}}}})


@pytest.mark.parametrize(("source", "message"), [
    ({"base_url": "http://"}, "must name a host"),
    ({"base_url": "http:/www.ebay.com"}, "must start with http:// or https://"),
    ({"base_url": "https://www.ebay.com/sch?x=1"}, "without ? or #"),
    ({"base_url": "https://www.ebay.com\t"}, "must not contain spaces or control characters"),
    ({"base_url": "https://ebay.com:0"}, "port 0"),
    ({"proxy": "socks4://proxy.example:1080"}, "must start with http://, https://, socks5://"),
    ({"proxy": "http://proxy.example:3128/tunnel"}, "(no path)"),
    ({"proxy": "http://bob:hunter2@:3128"}, "must name a host"),
])
def test_bad_base_urls_and_proxies_name_the_key(source: dict[str, str], message: str) -> None:
    key = next(iter(source))
    with pytest.raises(ConfigError, match=rf"^sources\.ebay\.{key} = ") as caught:
        parse_config({"sources": {"ebay": source}})
    assert message in str(caught.value) and "hunter2" not in str(caught.value)


def test_cluster_settings_are_checked_and_urls_come_from_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from gpuscout.jobs.errors import ConfigError

    cfg = parse_config({"cluster": {"queue": "scans", "visibility_timeout": 1000},
                        "fetch": {"pacing": "shared"}})
    assert (cfg.cluster.queue, cfg.cluster.visibility_timeout, cfg.fetch.pacing) == (
        "scans", 1000.0, "shared")
    monkeypatch.setenv("GPUSCOUT_BROKER_URL", "redis://:secret@db1:6379/0")
    monkeypatch.delenv("GPUSCOUT_REDIS_URL", raising=False)
    assert cfg.cluster.broker_url == cfg.cluster.redis_url == "redis://:secret@db1:6379/0"
    with pytest.raises(ConfigError, match="longer than the longest scan"):
        parse_config({"cluster": {"visibility_timeout": 600}})
    with pytest.raises(ConfigError, match="must name an environment variable"):
        parse_config({"cluster": {"broker_url_env": "redis://db1:6379/0"}})
    with pytest.raises(ConfigError, match="pacing"):
        parse_config({"fetch": {"pacing": "global"}})


def test_config_show_masks_the_cluster_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    from gpuscout.jobs.config.show import effective

    monkeypatch.setenv("GPUSCOUT_BROKER_URL", "redis://:secret@db1:6379/0")
    shown = effective(parse_config({}))
    assert shown["cluster"]["queue"] == "gpuscout"
    assert shown["secrets"]["GPUSCOUT_BROKER_URL"] != "(not set)"
    assert "secret@" not in str(shown)
