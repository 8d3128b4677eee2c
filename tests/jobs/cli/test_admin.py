"""The CLI skeleton: help everywhere, config init/show, clear config errors, db upgrade, deals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest

from gpuscout.jobs.cli.main import cli


def _all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for name, cmd in group.commands.items():
        out.append((*prefix, name))
        if isinstance(cmd, click.Group):
            out.extend(_all_commands(cmd, (*prefix, name)))
    return out


@pytest.mark.parametrize("path", _all_commands(cli), ids=lambda p: " ".join(p))
def test_every_command_has_help(run_cli: Any, path: tuple[str, ...]) -> None:
    result = run_cli(*path, "--help")
    assert result.exit_code == 0
    assert "Usage: gpuscout" in result.output
    # a real description, not just the usage line
    assert len(result.output.splitlines()) > 3


def test_top_level_help_lists_commands(run_cli: Any) -> None:
    result = run_cli("--help")
    for name in ("config", "db", "deals"):
        assert name in result.output


def test_config_init_writes_loadable_file(run_cli: Any, tmp_path: Path) -> None:
    result = run_cli("config", "init")
    assert result.exit_code == 0
    text = (tmp_path / "gpuscout.toml").read_text()
    assert 'variant = "fe"' in text and "price_low = 650" in text
    again = run_cli("config", "init")
    assert again.exit_code != 0 and "exists" in again.output
    shown = run_cli("config", "show", "--format", "json")
    data = json.loads(shown.output)
    assert data["config_file"] == "gpuscout.toml"
    assert data["watch"][0]["model"] == "rtx 3090"


def test_config_show_defaults_and_masks_secrets(run_cli: Any) -> None:
    result = run_cli("config", "show", env={"GPUSCOUT_SMTP_PASSWORD": "hunter2",
                                            "GPUSCOUT_EBAY_CLIENT_SECRET": "s3cret"})
    assert result.exit_code == 0
    assert "hunter2" not in result.output and "s3cret" not in result.output
    assert 'GPUSCOUT_SMTP_PASSWORD = "****"' in result.output
    assert 'GPUSCOUT_EBAY_CLIENT_SECRET = "****"' in result.output
    assert 'GPUSCOUT_REDDIT_PASSWORD = "(not set)"' in result.output
    assert "(built-in defaults)" in result.output
    assert 'source = "ebay"' in result.output and 'source = "reddit"' in result.output
    assert 'source = "craigslist"' in result.output


def test_config_show_masks_database_password(run_cli: Any) -> None:
    result = run_cli("config", "show", env={"GPUSCOUT_DATABASE_URL":
                                            "postgresql://bob:pw123@db.example/gpu"})
    assert "pw123" not in result.output
    assert "postgresql://bob:****@db.example/gpu" in result.output


@pytest.mark.parametrize(("snippet", "message"), [
    ('[[watch]]\nname="w"\nmodel="rtx 3090"\nvariant="founders"\nprice_low=1\nprice_high=2\n',
     "watch[0].variant = 'founders': must be one of fe, partner, oem, any"),
    ('[[watch]]\nname="w"\nmodel="rtx 3090"\nprice_low=800\nprice_high=650\n',
     "watch[0].price_high = 650: must be greater than price_low (800)"),
    ('[[search]]\nname="s"\nsource="myspace"\nquery="x"\n',
     "search[0].source = 'myspace': must be one of ebay, reddit, craigslist, facebook"),
    ('[[search]]\nname="s"\nsource="ebay"\nquery="x"\nschedule="every 5 minutes"\n',
     "search[0].schedule = 'every 5 minutes': must be a 5-field cron expression"),
    ('[sources.ebay]\nbase_url="ftp://x"\n', "sources.ebay.base_url = 'ftp://x'"),
    ('[email]\npassword="x"\n', "email.password: not allowed in the file"),
    ('[database]\nurl="mysql://x"\n', "database.url = 'mysql://x'"),
    ('[fetch]\ntimout=3\n', "fetch.timout: unknown key"),
    ("this is = = not toml", "not valid TOML"),
])
def test_bad_config_exits_2_with_clear_message_and_writes_nothing(
        run_cli: Any, tmp_path: Path, snippet: str, message: str) -> None:
    (tmp_path / "bad.toml").write_text(snippet)
    result = run_cli("deals", config="bad.toml")
    assert result.exit_code == 2
    assert message in result.output
    assert result.output.startswith("gpuscout: configuration error:")
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "gpuscout.db").exists()


@pytest.mark.parametrize(("snippet", "message"), [
    ('[sources.ebay]\nbase_url="http://"\n',
     "sources.ebay.base_url = 'http://': must name a host"),
    ('[sources.ebay]\nbase_url="https://www.ebay .com"\n',
     "sources.ebay.base_url = 'https://www.ebay .com': must not contain spaces"),
    ('[sources.reddit]\nbase_url="https://www.reddit.com "\n',
     "sources.reddit.base_url = 'https://www.reddit.com ': must not contain spaces"),
    ('[sources.craigslist]\nproxy="proxy.example:3128"\n',
     "sources.craigslist.proxy = 'proxy.example:3128': must start with http://"),
    ('[sources.ebay]\nproxy="http://bob:s3cret@"\n',
     "sources.ebay.proxy = 'http://bob:****@': must name a host"),
    ('[sources.ebay]\nproxy="http://proxy.example:99999"\n',
     "sources.ebay.proxy = 'http://proxy.example:99999': not a valid URL"),
    ('[email]\nsmtp_host="smtp.example.com:587"\n',
     "email.smtp_host = 'smtp.example.com:587': must be a host name or an address"),
])
def test_bad_urls_stop_a_scan_before_anything_is_written(
        run_cli: Any, tmp_path: Path, snippet: str, message: str) -> None:
    (tmp_path / "bad.toml").write_text(snippet + '[scan]\ndata_dir = "data"\n')
    result = run_cli("scan", config="bad.toml")
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1, result.output
    assert lines[0].startswith(f"gpuscout: configuration error: {message}")
    assert "s3cret" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_missing_config_file_is_a_config_error(run_cli: Any) -> None:
    result = run_cli("deals", config="nope.toml")
    assert result.exit_code == 2
    assert "cannot read config file nope.toml" in result.output


def test_db_upgrade_then_again(run_cli: Any, db_url: str) -> None:
    from gpuscout.models.storage.migrate import head_revision

    head = head_revision()
    first = run_cli("db", "upgrade", db_url=db_url)
    assert first.exit_code == 0, first.output
    assert f"upgraded empty database -> {head}" in first.output
    second = run_cli("db", "upgrade", db_url=db_url)
    assert f"already at revision {head}" in second.output


def test_db_copy_moves_the_listings_and_deals_to_another_database(
        run_cli: Any, db_url: str, tmp_path: Path) -> None:
    from gpuscout.models.storage.db import make_engine, session_factory
    from gpuscout.models.storage.migrate import upgrade
    from tests.support.alerts import add_listing

    one = f"sqlite:///{tmp_path / 'one.db'}"
    engine = make_engine(one)
    upgrade(engine)
    for n, price in enumerate((69900, 74900)):
        add_listing(session_factory(engine), f"55{n}", price=price, total=86 - n)
    engine.dispose()
    before = run_cli("deals", "--format", "json", db_url=one)
    result = run_cli("db", "copy", db_url, "--format", "json", db_url=one)
    assert result.exit_code == 0, result.output
    rows = {r["table"]: r["rows"] for r in map(json.loads, result.stdout.splitlines())}
    assert (rows["listings"], rows["scores"]) == (2, 2)
    assert "listings: 2 rows" in result.stderr
    assert "to use the copy" in result.stderr
    after = run_cli("deals", "--format", "json", db_url=db_url)
    assert [json.loads(x)["title"] for x in after.stdout.splitlines()] == [
        json.loads(x)["title"] for x in before.stdout.splitlines()]
    assert after.stdout == before.stdout
    again = run_cli("db", "copy", db_url, db_url=one)
    assert again.exit_code == 1
    assert again.stderr.strip().splitlines()[-1].startswith(
        "gpuscout: the target database already holds data")
    assert "Traceback" not in again.output


def test_deals_on_empty_database_says_how_to_start(run_cli: Any, tmp_path: Path) -> None:
    result = run_cli("deals")
    assert result.exit_code == 0
    assert "gpuscout scan" in result.output
    # the default database was created and migrated by itself
    assert (tmp_path / "gpuscout.db").exists()
    assert run_cli("deals", "--format", "json").output == ""


def test_deals_upgrades_an_outdated_database_first(run_cli: Any, db_url: str) -> None:
    """A database a release behind is upgraded by `deals` (not read as is by the fast path)."""
    from gpuscout.models.storage.db import make_engine
    from gpuscout.models.storage.migrate import current_revision, head_revision, upgrade

    eng = make_engine(db_url)
    try:
        upgrade(eng, "0001")
        result = run_cli("deals", "--format", "json", db_url=db_url)
        assert result.exit_code == 0, result.output
        assert current_revision(eng) == head_revision()
    finally:
        eng.dispose()


@pytest.mark.parametrize("how", ["option", "environment", "path"])
def test_config_init_writes_where_asked_and_makes_folders(run_cli: Any, tmp_path: Path,
                                                          how: str) -> None:
    target = tmp_path / "a" / "b" / "x.toml"
    if how == "option":
        result = run_cli("--config", str(target), "config", "init")
    elif how == "environment":
        result = run_cli("config", "init", env={"GPUSCOUT_CONFIG": str(target)})
    else:
        result = run_cli("config", "init", "--path", str(target))
    assert result.exit_code == 0, result.output
    assert target.is_file() and 'model = "rtx 3090"' in target.read_text()
    assert not (tmp_path / "gpuscout.toml").exists()
    assert f"wrote {target}" in result.output


def test_config_init_into_an_unwritable_place_is_one_line(run_cli: Any, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run_cli("config", "init", "--path", str(blocker / "x.toml"))
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: cannot write {blocker / 'x.toml'}")
    assert "Traceback" not in result.output


def test_config_show_masks_proxy_and_database_passwords(run_cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[database]\nurl = "postgresql://gpu:p@ss@db/x?password=qq"\n'
                    '[sources.ebay]\nproxy = "http://me:pr0xy@proxy:3128"\n')
    result = run_cli("--config", str(path), "config", "show")
    assert result.exit_code == 0
    for secret in ("p@ss", "qq", "pr0xy"):
        assert secret not in result.output
    assert 'proxy = "http://me:****@proxy:3128"' in result.output
    assert 'url = "postgresql://gpu:****@db/x?password=****"' in result.output


def test_unknown_watch_model_is_a_one_line_config_error(run_cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[[watch]]\nname = "w"\nmodel = "rtx 3099"\nprice_low = 1\nprice_high = 2\n')
    result = run_cli("--config", str(path), "deals")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "gpuscout: configuration error: watch[0].model = 'rtx 3099': not a model in the catalogue; "
        "did you mean 'rtx 3090' or 'rtx 5090' or 'rtx 4090'? (add one with a [[catalog]] entry)"]


def _stored_hostile(db_url: str, title: str, seller: str) -> None:
    from datetime import UTC, datetime

    from gpuscout.models.storage.db import make_engine, session_factory, transaction
    from gpuscout.models.storage.migrate import upgrade
    from gpuscout.models.storage.records import ListingRecord, ScoreRecord
    from gpuscout.models.storage.store import save_scores, upsert_listings

    engine = make_engine(db_url)
    upgrade(engine)
    now = datetime.now(UTC)
    with transaction(session_factory(engine)) as s:
        ids = upsert_listings(s, [ListingRecord(
            source="ebay", external_id="1", url="https://www.ebay.com/itm/1", title=title,
            price=70000, shipping=0, currency="USD", seller=seller, model="rtx 3090", variant="fe",
            kind="card")], now=now)
        save_scores(s, [ScoreRecord(
            listing_id=ids.ids[("ebay", "1")], watch="3090-fe", version=1, total=88, fits=True,
            unfit_reason=None, unit_price=70000, currency="USD", price_points=50,
            condition_points=20, risk_points=18, components={}, flags=[],
            reasons=["[bold]why[/bold]"], reference=None, computed_at=now)])
    engine.dispose()


HOSTILE_TITLE = "[/bold][link=https://evil.example]RTX 3090 FE[/link] \x1b[2J\x1b]8;;https://x\x07y"


@pytest.mark.parametrize("command", [("deals",), ("deals", "--format", "csv"), ("history", "1"),
                                     ("show", "1"), ("export", "--format", "csv")])
def test_hostile_titles_print_as_plain_text(run_cli: Any, tmp_path: Path,
                                            command: tuple[str, ...]) -> None:
    db_url = f"sqlite:///{tmp_path / 'h.db'}"
    _stored_hostile(db_url, HOSTILE_TITLE, "=cmd|' /C calc'!A0")
    result = run_cli(*command, db_url=db_url)
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    if "csv" in command and command[0] == "export":
        assert ",'=cmd|' /C calc'!A0," in result.output
    if command == ("deals",) or command[0] == "history":
        # the markup is shown as text, not interpreted
        assert "[/bold][link=https://evil.example]RTX 3090 FE[/link]" in result.output


def test_tables_are_not_wrapped_when_piped(run_cli: Any, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'w.db'}"
    long_title = "NVIDIA GeForce RTX 3090 Founders Edition " + "very long words " * 12
    _stored_hostile(db_url, long_title.strip(), "seller")
    result = run_cli("deals", db_url=db_url)
    lines = [line for line in result.output.splitlines() if "Founders Edition" in line]
    assert len(lines) == 1 and long_title.strip() in lines[0]


@pytest.mark.parametrize(("command", "formats"), [
    (("deals",), "table for reading, json (one object per line) or csv"),
    (("export",), "json (one object per line) or csv"),
    (("show", "1"), "table for reading or json (one object per line)"),
    (("parse", "x"), "json (one object per line) or table for reading"),
])
def test_format_help_names_only_accepted_formats(run_cli: Any, command: tuple[str, ...],
                                                 formats: str) -> None:
    result = run_cli(command[0], "--help")
    assert f"Output: {formats}." in " ".join(result.output.split())


def test_help_imports_no_heavy_library() -> None:
    """`gpuscout --help` and config loading stay fast: no database, HTTP, HTML or table library."""
    import subprocess
    import sys

    code = ("import sys; from gpuscout.jobs.cli.main import cli; from gpuscout.jobs.config import "
            "load_config; load_config(); heavy = ('sqlalchemy', 'httpx', 'selectolax', 'rich', "
            "'apscheduler', 'alembic'); print(sorted({m.split('.')[0] for m in sys.modules "
            "if m.split('.')[0] in heavy}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_config_show_lists_push_targets_without_their_secret_urls(run_cli: Any,
                                                                  tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[[notify]]\nname = "phone"\nurl_env = "GPUSCOUT_NOTIFY_PHONE"\n'
                    '[[notify]]\nname = "hook"\nurl = "json://127.0.0.1:8080/hook"\n'
                    '[[alert]]\nwatch = "3090-fe"\nnotify = ["phone"]\n')
    result = run_cli("--config", str(path), "config", "show", "--format", "json",
                     env={"GPUSCOUT_NOTIFY_PHONE": "tgram://123456:SECRETTOKEN/987"})
    assert result.exit_code == 0, result.output
    assert "SECRETTOKEN" not in result.output
    data = json.loads(result.output)
    assert data["notify"] == [{"name": "phone", "url_env": "GPUSCOUT_NOTIFY_PHONE"},
                              {"name": "hook", "url": "json://127.0.0.1:8080/hook"}]
    assert data["secrets"]["GPUSCOUT_NOTIFY_PHONE"] == "****"
    assert data["alert"][0]["notify"] == ["phone"]
