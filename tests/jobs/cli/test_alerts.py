"""`gpuscout alerts send | digest | test | list` against a real loopback SMTP server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gpuscout.jobs.alerts.dispatch import record_events
from gpuscout.jobs.scoring import ListingEvent
from gpuscout.models.storage.db import make_engine, session_factory, transaction
from gpuscout.models.storage.migrate import upgrade
from tests.support.alerts import add_listing, make_cfg
from tests.support.smtp import SmtpServer, closed_port, smtp_server

PASSWORD = "app-password"


def write_config(tmp_path: Path, port: int, *, username: str | None = None,
                 mode: str = "instant") -> str:
    login = f'username = "{username}"\n' if username else ""
    text = f"""
[[watch]]
name = "3090-fe"
model = "rtx 3090"
variant = "fe"
price_low = 650
price_high = 800

[email]
smtp_host = "127.0.0.1"
smtp_port = {port}
security = "none"
sender = "gpuscout@example.com"
recipients = ["me@example.com"]
timezone = "America/New_York"
timeout = 5
{login}
[[alert]]
name = "deals"
watch = "3090-fe"
min_score = 70
mode = "{mode}"
"""
    path = tmp_path / "gpuscout.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def seed(db_url: str, port: int, *, mode: str = "instant") -> int:
    """One qualifying listing with its alert recorded (not sent) a few minutes ago."""
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        sessions = session_factory(engine)
        earlier = datetime.now(UTC) - timedelta(minutes=5)
        lid: int = add_listing(sessions, "123", now=earlier)
        with transaction(sessions) as s:
            record_events(make_cfg(port, mode=mode), s, [ListingEvent(lid, "new")], now=earlier)
        return lid
    finally:
        engine.dispose()


def test_help_texts(run_cli: Any) -> None:
    result = run_cli("alerts", "--help")
    assert result.exit_code == 0 and "outbox" in result.output
    for name in ("send", "digest", "test", "list"):
        assert f"  {name} " in result.output
        sub = run_cli("alerts", name, "--help")
        assert sub.exit_code == 0 and len(sub.output.splitlines()) > 4
    assert "--force" in run_cli("alerts", "digest", "--help").output
    assert "DNS" in run_cli("alerts", "test", "--help").output


def test_alerts_test_sends_one_message(run_cli: Any, server: SmtpServer, tmp_path: Path,
                                       db_url: str) -> None:
    cfg = write_config(tmp_path, server.port)
    result = run_cli("alerts", "test", config=cfg, db_url=db_url)
    assert result.exit_code == 0, result.output
    assert f"sending a test message via 127.0.0.1:{server.port} (security none) to me@example.com" \
        in result.output
    (env,) = server.received
    assert env.message["Subject"] == "[gpuscout] test message"
    assert f"sent: the server accepted message {env.message['Message-ID']}" in result.output


def test_alerts_test_says_connection_refused(run_cli: Any, tmp_path: Path) -> None:
    port = closed_port()
    result = run_cli("alerts", "test", config=write_config(tmp_path, port))
    assert result.exit_code == 1
    assert (f"FAILED (refused): connection refused by 127.0.0.1:{port}: check email.smtp_host and "
            "email.smtp_port, and that the mail server is running") in result.output


def test_alerts_test_says_login_failed(run_cli: Any, tmp_path: Path) -> None:
    with smtp_server(users={"me@example.com": PASSWORD}) as server:
        cfg = write_config(tmp_path, server.port, username="me@example.com")
        bad = run_cli("alerts", "test", config=cfg, env={"GPUSCOUT_SMTP_PASSWORD": "wrong"})
        assert bad.exit_code == 1
        assert "FAILED (auth): " in bad.output and "refused the login for 'me@example.com'" \
            in bad.output and "check email.username and GPUSCOUT_SMTP_PASSWORD" in bad.output
        unset = run_cli("alerts", "test", config=cfg)
        assert unset.exit_code == 1
        assert "FAILED (auth): email.username is set but GPUSCOUT_SMTP_PASSWORD is not" in unset.output
        good = run_cli("alerts", "test", config=cfg, env={"GPUSCOUT_SMTP_PASSWORD": PASSWORD})
        assert good.exit_code == 0 and len(server.received) == 1


def test_send_then_list(run_cli: Any, server: SmtpServer, tmp_path: Path, db_url: str) -> None:
    lid = seed(db_url, server.port)
    cfg = write_config(tmp_path, server.port)
    queued = run_cli("alerts", "list", "--format", "json", config=cfg, db_url=db_url)
    (row,) = [json.loads(line) for line in queued.output.splitlines()]
    assert (row["state"], row["listing_id"], row["rule"], row["event"]) == ("queued", lid, "deals", "new")
    assert (row["price"], row["currency"], row["score"], row["attempts"]) == ("699.00", "USD", 86, 0)
    assert row["title"] == "NVIDIA GeForce RTX 3090 Founders Edition 24GB"

    sent = run_cli("alerts", "send", config=cfg, db_url=db_url)
    assert sent.exit_code == 0
    assert sent.output.startswith("1 sent, 0 waiting to be retried, 0 failed, 0 deferred")
    assert len(server.received) == 1
    again = run_cli("alerts", "send", config=cfg, db_url=db_url)
    assert again.output.startswith("0 sent") and len(server.received) == 1

    table = run_cli("alerts", "list", "--state", "sent", config=cfg, db_url=db_url)
    assert table.exit_code == 0
    line = next(ln for ln in table.output.splitlines() if "deals" in ln)
    assert [c.strip() for c in line.strip("│ ").split("│")][:8] == [
        "1", "sent", "email", "deals", "new", str(lid), "699.00", "1"]
    csv_out = run_cli("alerts", "list", "--format", "csv", config=cfg, db_url=db_url).output
    assert csv_out.splitlines()[0].startswith(
        "id,state,channel,rule,event,mode,listing_id,title,price")


def test_send_with_the_server_down_exits_1(run_cli: Any, tmp_path: Path, db_url: str) -> None:
    port = closed_port()
    seed(db_url, port)
    result = run_cli("alerts", "send", config=write_config(tmp_path, port), db_url=db_url)
    assert result.exit_code == 1
    assert result.output.startswith("0 sent, 1 waiting to be retried, 0 failed, 0 deferred")
    assert "delivery problem: refused: connection refused" in result.output


def test_digest_once(run_cli: Any, server: SmtpServer, tmp_path: Path, db_url: str) -> None:
    seed(db_url, server.port, mode="digest")
    cfg = write_config(tmp_path, server.port, mode="digest")
    first = run_cli("alerts", "digest", config=cfg, db_url=db_url)
    assert first.exit_code == 0 and first.output == "deals: digest sent\n"
    second = run_cli("alerts", "digest", "--rule", "deals", config=cfg, db_url=db_url)
    assert "deals: nothing to send" in second.output
    assert len(server.received) == 1
    assert server.messages()[0]["Subject"].startswith("[gpuscout] Digest deals: 1 new deal")
    instant = run_cli("alerts", "digest", config=write_config(tmp_path, server.port), db_url=db_url)
    assert instant.exit_code == 2 and 'no rule has mode = "digest"' in instant.output


def test_without_email_section_is_a_config_error(run_cli: Any, db_url: str) -> None:
    result = run_cli("alerts", "send", db_url=db_url)
    assert result.exit_code == 2
    assert ("configuration error: alerts: neither [email] nor a [[notify]] push target is "
            "configured") in result.output


def test_alerts_test_reaches_every_channel_and_says_which_failed(
        run_cli: Any, server: SmtpServer, tmp_path: Path) -> None:
    from tests.support.push import push_server

    with push_server() as push:
        path = Path(write_config(tmp_path, server.port))
        path.write_text(path.read_text() + '\n[[notify]]\nname = "phone"\n'
                        'url_env = "GPUSCOUT_NOTIFY_PHONE"\n')
        unset = run_cli("alerts", "test", config=str(path))
        assert unset.exit_code == 1
        assert "email: sent: the server accepted message" in unset.stdout
        assert ("phone: FAILED (auth): [[notify]] 'phone': GPUSCOUT_NOTIFY_PHONE is not set"
                in unset.stderr)
        ok = run_cli("alerts", "test", "--target", "phone", config=str(path),
                     env={"GPUSCOUT_NOTIFY_PHONE": push.ntfy_url("my-deals")})
        assert ok.exit_code == 0, ok.output
        assert ok.stdout.splitlines() == [
            "phone: sending a test notification to the Apprise URL in $GPUSCOUT_NOTIFY_PHONE",
            "phone: sent: the service accepted it"]
        assert [(p.topic, p.title) for p in push.received] == [
            ("my-deals", "gpuscout test notification")]
        assert len(server.received) == 1
        wrong = run_cli("alerts", "test", "--target", "pager", config=str(path))
        assert wrong.exit_code == 2 and "no [[notify]] target named 'pager'" in wrong.output


FORMULA_TITLE = "=HYPERLINK(\"https://evil.example\",\"RTX 3090 FE\") \x1b[2J\x1b]8;;https://x\x07y"


@pytest.mark.parametrize("command", [("alerts", "list", "--format", "csv"),
                                     ("deals", "--format", "csv"), ("export", "--format", "csv")])
def test_csv_of_a_formula_title_is_text_in_every_command(run_cli: Any, tmp_path: Path,
                                                         command: tuple[str, ...]) -> None:
    """A title that is a spreadsheet formula comes out as text (a leading ') in every CSV,
    the outbox's included, with no escape sequence."""
    import csv
    import io

    db_url = f"sqlite:///{tmp_path / 'f.db'}"
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        sessions = session_factory(engine)
        earlier = datetime.now(UTC) - timedelta(minutes=5)
        lid = add_listing(sessions, "321", title=FORMULA_TITLE, now=earlier)
        with transaction(sessions) as s:
            record_events(make_cfg(closed_port()), s, [ListingEvent(lid, "new")], now=earlier)
    finally:
        engine.dispose()
    result = run_cli(*command, db_url=db_url)
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    (row,) = list(csv.DictReader(io.StringIO(result.output)))
    assert row["title"].startswith("'=HYPERLINK(")
