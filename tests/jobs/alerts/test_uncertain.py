"""Deliveries whose outcome is unknown: a real SMTP server that takes the whole message and drops
the connection before replying, and runs killed mid-send. Each alert goes out at most twice, is
never marked failed while it may have arrived, and is shown as "uncertain"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gpuscout.jobs.alerts.dispatch import process_events, record_events, send_digest, send_queued
from gpuscout.jobs.alerts.mail import SmtpMailer, check_message
from gpuscout.jobs.alerts.uncertain import RESENT_NOTE
from gpuscout.jobs.errors import DeliveryError
from gpuscout.jobs.scoring import ListingEvent
from gpuscout.models.storage.db import transaction
from tests.support.alerts import T0, CrashAfterSend, add_listing, deliveries, make_cfg
from tests.support.smtp import SmtpServer, closed_port

LEASE = timedelta(seconds=70)  # twice the 5 s SMTP timeout of make_cfg, plus a minute


def test_the_mailer_says_uncertain_only_after_the_whole_message_went(server: SmtpServer) -> None:
    cfg = make_cfg(server.port)
    assert cfg.email is not None
    msg = check_message(cfg.email, now=T0, message_id="<t@example.com>")
    server.recorder.drop_after_data = True
    with pytest.raises(DeliveryError) as caught:
        SmtpMailer(cfg.email).send(msg)
    assert caught.value.kind == "uncertain" and not caught.value.permanent
    assert "received the whole message" in str(caught.value) and len(server.received) == 1
    server.recorder.drop_after_data, server.recorder.reject_rcpt = False, True
    with pytest.raises(DeliveryError) as refused:
        SmtpMailer(cfg.email).send(msg)
    assert refused.value.kind == "rejected"  # refused before DATA: certain, not uncertain


def test_a_server_that_drops_after_data_gets_each_alert_at_most_twice(
        sessions: Any, server: SmtpServer) -> None:
    """The attack: every DATA is taken, then the connection dropped. Before, each alert went out
    five times and was then marked failed."""
    server.recorder.drop_after_data = True
    cfg = make_cfg(server.port)
    lid = add_listing(sessions, "1001")
    first = process_events(cfg, sessions, [ListingEvent(lid, "new")], now=T0)
    assert (first.sent, first.failed, first.uncertain) == (0, 0, 1)
    (row,) = deliveries(sessions)
    assert (row.state, row.resends, row.due_at) == ("uncertain", 0, T0 + LEASE)
    assert row.last_error is not None and row.last_error.startswith("uncertain: ")
    # within the lease nothing is sent again
    assert send_queued(cfg, sessions, now=T0 + LEASE - timedelta(seconds=1)).uncertain == 0
    assert len(server.received) == 1
    for hour in range(1, 10):  # every later run, for hours
        send_queued(cfg, sessions, now=T0 + timedelta(hours=hour))
    assert len(server.received) == 2
    a, b = server.messages()
    assert a["Message-ID"] == b["Message-ID"]
    (row,) = deliveries(sessions)
    assert (row.state, row.resends, row.attempts) == ("uncertain", 1, 2)
    assert row.last_error is not None and "not sent again (it may have arrived twice)" in row.last_error


def test_a_resend_that_gets_through_marks_the_alert_sent(sessions: Any, server: SmtpServer) -> None:
    server.recorder.drop_after_data = True
    cfg = make_cfg(server.port)
    lid = add_listing(sessions, "1002")
    process_events(cfg, sessions, [ListingEvent(lid, "new")], now=T0)
    server.recorder.drop_after_data = False
    report = send_queued(cfg, sessions, now=T0 + LEASE)
    assert (report.sent, report.uncertain) == (1, 0)
    (row,) = deliveries(sessions)
    assert (row.state, row.resends, row.last_error) == ("sent", 1, RESENT_NOTE)
    assert send_queued(cfg, sessions, now=T0 + timedelta(days=1)).sent == 0
    assert len(server.received) == 2


def test_a_resend_that_never_reached_the_server_is_tried_again(sessions: Any,
                                                              server: SmtpServer) -> None:
    """The resend found the server down: nothing went out by it, so the one resend is still due;
    the row stays uncertain (never queued as if unsent, never failed)."""
    server.recorder.drop_after_data = True
    up = make_cfg(server.port)
    lid = add_listing(sessions, "1003")
    process_events(up, sessions, [ListingEvent(lid, "new")], now=T0)
    down = make_cfg(closed_port())
    for minutes in (2, 3, 4):
        report = send_queued(down, sessions, now=T0 + timedelta(minutes=minutes))
        assert report.error is not None and report.uncertain == 0
        (row,) = deliveries(sessions)
        assert (row.state, row.resends) == ("uncertain", 0)
    server.recorder.drop_after_data = False
    assert send_queued(up, sessions, now=T0 + timedelta(minutes=5)).sent == 1
    assert len(server.received) == 2


def test_a_resend_refused_for_good_is_uncertain_not_failed(sessions: Any,
                                                           server: SmtpServer) -> None:
    server.recorder.drop_after_data = True
    cfg = make_cfg(server.port)
    lid = add_listing(sessions, "1004")
    process_events(cfg, sessions, [ListingEvent(lid, "new")], now=T0)
    server.recorder.drop_after_data, server.recorder.reject_rcpt = False, True
    report = send_queued(cfg, sessions, now=T0 + LEASE)
    assert (report.failed, report.uncertain) == (0, 1)
    (row,) = deliveries(sessions)
    assert (row.state, row.resends) == ("uncertain", 1)
    assert row.last_error is not None and "refused" in row.last_error
    server.recorder.reject_rcpt = False
    send_queued(cfg, sessions, now=T0 + timedelta(days=1))
    assert len(server.received) == 1  # the first copy; never a second after the refusal


def test_a_run_killed_while_sending_twice_sends_no_third_copy(sessions: Any,
                                                              server: SmtpServer) -> None:
    cfg = make_cfg(server.port)
    assert cfg.email is not None
    crash = CrashAfterSend(SmtpMailer(cfg.email))
    lid = add_listing(sessions, "1005")
    with transaction(sessions) as s:
        record_events(cfg, s, [ListingEvent(lid, "new")], now=T0)
    with pytest.raises(RuntimeError):
        send_queued(cfg, sessions, now=T0, mailer=crash)
    with pytest.raises(RuntimeError):  # its resend, after the lease, is killed too
        send_queued(cfg, sessions, now=T0 + LEASE, mailer=crash)
    (row,) = deliveries(sessions)
    assert (row.state, row.resends) == ("sending", 1)
    report = send_queued(cfg, sessions, now=T0 + 2 * LEASE)
    assert (report.sent, report.failed, report.uncertain) == (0, 0, 1)
    for hour in range(1, 5):
        send_queued(cfg, sessions, now=T0 + timedelta(hours=hour))
    assert len(server.received) == 2
    (row,) = deliveries(sessions)
    assert (row.state, row.resends) == ("uncertain", 1)
    assert row.last_error is not None and "interrupted while sending it once more" in row.last_error


def test_an_uncertain_digest_is_resent_once_with_its_listings(sessions: Any,
                                                              server: SmtpServer) -> None:
    cfg = make_cfg(server.port, mode="digest", digest_time="08:00")
    ids = [add_listing(sessions, f"110{i}") for i in range(2)]
    process_events(cfg, sessions, [ListingEvent(i, "new") for i in ids], now=T0)
    server.recorder.drop_after_data = True
    morning = datetime(2026, 11, 21, 13, 0, tzinfo=UTC)
    first = send_digest(cfg, sessions, rule="deals", now=morning)
    assert (first.sent, first.failed, first.uncertain) == (0, 0, 1)
    head = next(r for r in deliveries(sessions) if r.event == "digest")
    assert (head.state, head.resends) == ("uncertain", 0)
    for day in (1, 2, 3):  # the next digest times: the uncertain one is resent once, then never
        send_digest(cfg, sessions, rule="deals", now=morning + timedelta(days=day))
    assert len(server.received) == 2
    states = {r.event: (r.state, r.resends) for r in deliveries(sessions)}
    assert states["digest"] == ("uncertain", 1)
    items = [r for r in deliveries(sessions) if r.event != "digest"]
    assert {r.message_id for r in items} == {head.message_id}  # never offered to another digest
    assert {r.state for r in items} == {"queued"}


def test_alerts_list_shows_uncertain(run_cli: Any, server: SmtpServer, tmp_path: Any) -> None:
    import json

    from gpuscout.models.storage.db import make_engine, session_factory
    from gpuscout.models.storage.migrate import upgrade

    db_url = f"sqlite:///{tmp_path / 'u.db'}"
    engine = make_engine(db_url)
    upgrade(engine)
    sessions = session_factory(engine)
    server.recorder.drop_after_data = True
    cfg = make_cfg(server.port)
    process_events(cfg, sessions, [ListingEvent(add_listing(sessions, "1201"), "new")], now=T0)
    engine.dispose()
    conf = tmp_path / "gpuscout.toml"
    conf.write_text(f'[email]\nsmtp_host = "127.0.0.1"\nsmtp_port = {server.port}\n'
                    'recipients = ["me@example.com"]\n[[alert]]\nname = "deals"\n'
                    'watch = "3090-fe"\n')
    table = run_cli("alerts", "list", db_url=db_url, config=str(conf))
    assert table.exit_code == 0 and "uncertain" in table.output
    only = run_cli("alerts", "list", "--state", "uncertain", "--format", "json", db_url=db_url,
                   config=str(conf))
    (row,) = [json.loads(line) for line in only.output.splitlines()]
    assert row["state"] == "uncertain" and row["last_error"].startswith("uncertain: ")
    assert "--state [queued|sending|sent|failed|uncertain" in run_cli(
        "alerts", "list", "--help").output.replace("\n", " ").replace("  ", " ")
