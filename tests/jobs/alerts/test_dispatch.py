"""Alerts end to end: rules → outbox → a real SMTP server on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import select

from gpuscout.jobs.alerts.dispatch import AlertReport, process_events, record_events, send_digest, send_queued
from gpuscout.jobs.alerts.mail import SmtpMailer
from gpuscout.jobs.alerts.rules import (
    ScoreFacts,
    dedupe_key,
    drop_qualifies,
    message_id_for,
    next_digest_at,
    quiet_end,
)
from gpuscout.jobs.config import AlertRule
from gpuscout.jobs.scoring import ListingEvent
from gpuscout.models.storage.db import transaction
from gpuscout.models.storage.tables.alerts import AlertDelivery
from tests.support.alerts import SENDER, T0, TO, CrashAfterSend, add_listing, deliveries, make_cfg
from tests.support.smtp import SmtpServer, closed_port, smtp_server


def subject(msg: EmailMessage) -> str:
    """The subject as a reader sees it (the stdlib folder may leave a double space at a fold)."""
    return " ".join(str(msg["Subject"]).split())


def text_of(msg: EmailMessage) -> tuple[str, str]:
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    return plain.get_content(), html.get_content()


# --------------------------------------------------------------------------- instant alerts


def test_one_email_per_new_deal_and_none_on_rerun(sessions: Any, server: SmtpServer) -> None:
    cfg = make_cfg(server.port)
    lid = add_listing(sessions, "111")
    report = process_events(cfg, sessions, [ListingEvent(lid, "new")], now=T0)
    assert report == AlertReport(queued=0, sent=1, failed=0, deferred=0, recorded=1)

    assert len(server.received) == 1
    env = server.received[0]
    assert env.mail_from == SENDER and env.rcpt_tos == [TO]
    msg = env.message
    assert subject(msg) == ("[gpuscout] RTX 3090 FE $699 — score 86: "
                              "NVIDIA GeForce RTX 3090 Founders Edition 24GB")
    assert msg["From"] == SENDER and msg["To"] == TO
    assert msg["Message-ID"] == message_id_for(f"{lid}:deals:new:69900", SENDER)
    assert msg.get_content_type() == "multipart/alternative"
    plain, html = text_of(msg)
    assert "New listing: RTX 3090 FE $699 — score 86/100" in plain
    assert "https://www.ebay.com/itm/111" in plain
    assert "  - price 12 % under the fair middle of $650–$800" in plain
    assert "  price: 50/60 (12 % under the fair middle)" in plain
    assert "  condition: 20/20 (used; tested)" in plain
    assert "<tr><td>condition</td><td align=\"right\">20/20</td><td>used; tested</td></tr>" in html
    assert "$699" in plain and "Price history:" in plain
    assert '<a href="https://www.ebay.com/itm/111">NVIDIA GeForce RTX 3090 Founders Edition 24GB</a>' in html
    assert '<img src="https://i.ebayimg.com/images/111.jpg"' in html
    assert "<li>seller 99.8 % positive</li>" in html

    (row,) = deliveries(sessions)
    assert (row.state, row.attempts, row.event, row.price, row.score) == ("sent", 1, "new", 69900, 86)
    assert row.message_id == msg["Message-ID"] and row.sent_at == T0

    again = process_events(cfg, sessions, [ListingEvent(lid, "new")], now=T0 + timedelta(hours=1))
    assert again == AlertReport()
    assert len(server.received) == 1 and len(deliveries(sessions)) == 1


def test_price_drop_above_threshold_alerts_once_below_does_not(sessions: Any,
                                                               server: SmtpServer) -> None:
    cfg = make_cfg(server.port, events=["price_drop"], drop_percent=5)
    lid = add_listing(sessions, "222", price=74900)
    # 749 -> 739 is 1.3 %: below the threshold
    add_listing(sessions, "222", price=73900, now=T0 + timedelta(minutes=30))
    small = process_events(cfg, sessions, [ListingEvent(lid, "price_drop", 74900, 73900)],
                           now=T0 + timedelta(minutes=30))
    assert small.recorded == 0 and server.received == []
    # 739 -> 689 is 6.8 %
    add_listing(sessions, "222", price=68900, now=T0 + timedelta(hours=1))
    big = process_events(cfg, sessions, [ListingEvent(lid, "price_drop", 73900, 68900)],
                         now=T0 + timedelta(hours=1))
    assert (big.sent, big.recorded) == (1, 1)
    msg = server.messages()[0]
    assert subject(msg) == ("[gpuscout] Price drop: RTX 3090 FE $689 (was $739) — score 86: "
                              "NVIDIA GeForce RTX 3090 Founders Edition 24GB")
    plain, html = text_of(msg)
    assert "Was $739, now $689 (−6.8 %)" in plain and "Was $739, now $689 (−6.8 %)" in html
    assert plain.count("2026-11-20") == 3  # three observations in the history
    # the same drop reported again (a re-run) sends nothing
    process_events(cfg, sessions, [ListingEvent(lid, "price_drop", 73900, 68900)],
                   now=T0 + timedelta(hours=2))
    assert len(server.received) == 1


def test_drop_amount_or_percent() -> None:
    facts = ScoreFacts("active", True, 80, 70000, "USD")
    rule = AlertRule(name="r", watch="w", drop_percent=Decimal(10), drop_amount=Decimal(25))
    assert drop_qualifies(rule, 72500, 70000, facts)  # $25, 3.4 %
    assert not drop_qualifies(rule, 72400, 70000, facts)  # $24
    assert drop_qualifies(replace_rule(rule, drop_amount=None), 80000, 72000, facts)  # 10 %
    assert not drop_qualifies(replace_rule(rule, drop_amount=None), 80000, 72100, facts)
    assert not drop_qualifies(rule, 70000, 70000, facts) and not drop_qualifies(rule, None, 1, facts)


def replace_rule(rule: AlertRule, **kw: Any) -> AlertRule:
    from dataclasses import replace

    return replace(rule, **kw)


def test_no_alert_for_unfit_low_score_too_dear_or_sold(sessions: Any, server: SmtpServer) -> None:
    cfg = make_cfg(server.port, max_price=720)
    unfit = add_listing(sessions, "301", fits=False, total=90)
    low = add_listing(sessions, "302", total=69)
    dear = add_listing(sessions, "303", price=72100)
    sold = add_listing(sessions, "304", status="sold")
    ok = add_listing(sessions, "305", price=72000, total=70)
    events = [ListingEvent(i, "new") for i in (unfit, low, dear, sold, ok)]
    events.append(ListingEvent(ok, "back_in_stock"))  # not in the rule's events
    report = process_events(cfg, sessions, events, now=T0)
    assert (report.sent, report.recorded) == (1, 1)
    assert [r.listing_id for r in deliveries(sessions)] == [ok]
    assert subject(server.messages()[0]).startswith("[gpuscout] RTX 3090 FE $720 — score 70: ")


def test_server_down_keeps_alerts_queued_until_the_next_run(sessions: Any) -> None:
    port = closed_port()
    cfg = make_cfg(port)
    a, b = add_listing(sessions, "401"), add_listing(sessions, "402", total=90)
    report = process_events(cfg, sessions, [ListingEvent(a, "new"), ListingEvent(b, "new")],
                            now=T0)
    assert (report.sent, report.queued, report.failed, report.recorded) == (0, 2, 0, 2)
    assert report.error is not None and report.error.startswith("refused: connection refused by")
    assert [(r.state, r.attempts) for r in deliveries(sessions)] == [("queued", 0), ("queued", 0)]
    assert all(f"127.0.0.1:{port}" in (r.last_error or "") for r in deliveries(sessions))

    with smtp_server() as server:
        up = make_cfg(server.port)
        later = send_queued(up, sessions, now=T0 + timedelta(minutes=30))
        assert (later.sent, later.queued, later.error) == (2, 0, None)
        assert sorted(subject(m)[:39] for m in server.messages()) == [
            "[gpuscout] RTX 3090 FE $699 — score 86:", "[gpuscout] RTX 3090 FE $699 — score 90:"]
        assert send_queued(up, sessions, now=T0 + timedelta(hours=1)).sent == 0
    assert [r.state for r in deliveries(sessions)] == ["sent", "sent"]


def test_quiet_hours_defer_then_send(sessions: Any, server: SmtpServer) -> None:
    cfg = make_cfg(server.port, quiet_hours="23:00-07:00")
    lid = add_listing(sessions, "501")
    night = datetime(2026, 11, 21, 4, 30, tzinfo=UTC)  # 23:30 in New York
    report = process_events(cfg, sessions, [ListingEvent(lid, "new")], now=night)
    assert (report.sent, report.deferred, report.queued) == (0, 1, 0)
    (row,) = deliveries(sessions)
    assert row.due_at == datetime(2026, 11, 21, 12, 0, tzinfo=UTC)  # 07:00 local
    assert send_queued(cfg, sessions, now=datetime(2026, 11, 21, 11, 59, tzinfo=UTC)).sent == 0
    assert server.received == []
    morning = send_queued(cfg, sessions, now=datetime(2026, 11, 21, 12, 0, tzinfo=UTC))
    assert (morning.sent, morning.deferred) == (1, 0)
    assert len(server.received) == 1


def test_quiet_end_ranges() -> None:
    ny = "America/New_York"

    def at(hour: int, minute: int = 0) -> datetime:  # 12:00 UTC is 07:00 in New York
        return datetime(2026, 11, 20, hour, minute, tzinfo=UTC)

    assert quiet_end(at(4), "23:00-07:00", ny) == at(12)  # 23:00 local: over midnight
    assert quiet_end(at(11, 59), "23:00-07:00", ny) == at(12)
    assert quiet_end(at(12), "23:00-07:00", ny) is None
    assert quiet_end(at(17), "12:00-13:00", ny) == at(18)  # a day range
    assert quiet_end(at(18), "12:00-13:00", ny) is None
    assert quiet_end(at(17), None, ny) is None and quiet_end(at(17), "08:00-08:00", ny) is None
    # across the DST change (2026-03-08, 02:00 EST -> 03:00 EDT): 07:00 EDT is 11:00 UTC
    assert quiet_end(datetime(2026, 3, 8, 5, 0, tzinfo=UTC), "23:00-07:00", ny) == datetime(
        2026, 3, 8, 11, 0, tzinfo=UTC)
    assert next_digest_at(at(12), "08:00", ny) == at(13)
    assert next_digest_at(at(13), "08:00", ny) == datetime(2026, 11, 21, 13, 0, tzinfo=UTC)


def test_crash_after_smtp_accepted_resends_after_the_lease_with_same_message_id(
        sessions: Any, server: SmtpServer) -> None:
    cfg = make_cfg(server.port)
    assert cfg.email is not None
    lid = add_listing(sessions, "601")
    with transaction(sessions) as s:
        assert len(record_events(cfg, s, [ListingEvent(lid, "new")], now=T0)) == 1
    with pytest.raises(RuntimeError):
        send_queued(cfg, sessions, now=T0, mailer=CrashAfterSend(SmtpMailer(cfg.email)))
    (row,) = deliveries(sessions)
    assert (row.state, row.attempts) == ("sending", 1)
    # a run within the lease (another run may still be sending) leaves it alone
    assert send_queued(cfg, sessions, now=T0 + timedelta(seconds=60)).sent == 0
    report = send_queued(cfg, sessions, now=T0 + timedelta(seconds=71))
    assert report.sent == 1
    first, second = server.messages()
    assert first["Message-ID"] == second["Message-ID"] == message_id_for(
        dedupe_key(lid, "deals", "new", 69900), SENDER)
    assert [(r.state, r.attempts) for r in deliveries(sessions)] == [("sent", 2)]


def test_permanent_rejection_fails_the_alert(sessions: Any, server: SmtpServer) -> None:
    server.recorder.reject_rcpt = True
    cfg = make_cfg(server.port)
    lid = add_listing(sessions, "701")
    report = process_events(cfg, sessions, [ListingEvent(lid, "new")], now=T0)
    assert (report.sent, report.failed, report.queued) == (0, 1, 0)
    (row,) = deliveries(sessions)
    assert row.state == "failed"
    assert row.last_error is not None and row.last_error.startswith("rejected: ")
    assert "550" in row.last_error and "check email.recipients" in row.last_error


def test_hostile_title_end_to_end(sessions: Any, server: SmtpServer) -> None:
    cfg = make_cfg(server.port)
    hostile = ("<script>alert(1)</script> RTX 3090 FE\r\nBcc: victim@evil.example\r\n"
               "=?utf-8?b?DQpCY2M6IGV2aWxAeC5jb20=?= " + "A" * 5000)[:500]
    lid = add_listing(sessions, "801", title=hostile)
    process_events(cfg, sessions, [ListingEvent(lid, "new")], now=T0)
    (env,) = server.received
    assert env.rcpt_tos == [TO]
    head = env.data.split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert "\nBcc" not in head.replace("\r\n ", " ") and "evil@x.com" not in head
    msg = env.message
    assert msg["Bcc"] is None and msg.get_all("Subject") is not None
    seen = subject(msg)
    assert seen.startswith("[gpuscout] RTX 3090 FE $699 — score 86: <script>alert(1)</script> "
                              "RTX 3090 FE Bcc: victim@evil.example = ?utf-8?b?")
    assert seen.endswith("…") and "\n" not in msg["Subject"] and "\r" not in msg["Subject"]
    plain, html = text_of(msg)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script> RTX 3090 FE Bcc: victim@evil.example = ?utf-8?b?" in plain


# --------------------------------------------------------------------------- digests


def test_digest_sent_once_per_day_with_the_top_listings(sessions: Any, server: SmtpServer) -> None:
    cfg = make_cfg(server.port, mode="digest", digest_time="08:00", digest_top=2)
    ids = [add_listing(sessions, f"90{i}", total=t, price=p)
           for i, (t, p) in enumerate([(80, 72000), (95, 66000), (88, 70000)])]
    report = process_events(cfg, sessions, [ListingEvent(i, "new") for i in ids], now=T0)
    assert (report.sent, report.deferred, report.recorded) == (0, 3, 3)
    assert server.received == []

    morning = datetime(2026, 11, 21, 13, 0, tzinfo=UTC)  # 08:00 local
    assert send_digest(cfg, sessions, rule="deals", now=morning).sent == 1
    assert send_digest(cfg, sessions, rule="deals", now=morning + timedelta(hours=3)).sent == 0
    (msg,) = server.messages()
    assert subject(msg) == "[gpuscout] Digest deals: 2 new deals, best RTX 3090 FE $660 — score 95"
    assert msg["Message-ID"] == message_id_for("digest:deals:2026-11-21", SENDER)
    plain, html = text_of(msg)
    assert plain.index("1. RTX 3090 FE $660 — score 95/100") < plain.index(
        "2. RTX 3090 FE $700 — score 88/100")
    assert "$720" not in plain and html.count("<tr style=") == 2
    states = {r.listing_id: r.state for r in deliveries(sessions) if r.listing_id}
    assert states == {ids[0]: "skipped", ids[1]: "sent", ids[2]: "sent"}

    # the next day: only what is new since
    fresh = add_listing(sessions, "910", total=75, now=morning)
    process_events(cfg, sessions, [ListingEvent(fresh, "new")], now=morning + timedelta(hours=1))
    nextday = morning + timedelta(days=1)
    assert send_digest(cfg, sessions, rule="deals", now=nextday).sent == 1
    assert subject(server.messages()[1]).startswith("[gpuscout] Digest deals: 1 new deal, best")
    assert send_digest(cfg, sessions, rule="deals", now=nextday + timedelta(days=1)).sent == 0


def test_digest_retried_after_outage(sessions: Any) -> None:
    cfg = make_cfg(closed_port(), mode="digest")
    lid = add_listing(sessions, "950")
    process_events(cfg, sessions, [ListingEvent(lid, "new")], now=T0)
    morning = datetime(2026, 11, 21, 13, 0, tzinfo=UTC)
    down = send_digest(cfg, sessions, rule="deals", now=morning)
    assert (down.sent, down.queued, down.failed) == (0, 1, 0) and down.error
    with smtp_server() as server:
        up = make_cfg(server.port, mode="digest")
        assert send_digest(up, sessions, rule="deals", now=morning + timedelta(minutes=5)).sent == 1
        assert send_digest(up, sessions, rule="deals", now=morning + timedelta(minutes=9)).sent == 0
        assert len(server.received) == 1
    assert {r.state for r in deliveries(sessions)} == {"sent"}


def test_an_alert_left_sending_is_sent_once_more_and_never_failed(sessions: Any,
                                                                 server: SmtpServer) -> None:
    """Left "sending" (a run died mid-send, whatever its attempts before): it may have gone out,
    so it gets its one resend; it is not given up as failed (see test_uncertain for the rest)."""
    cfg = make_cfg(server.port)
    lid = add_listing(sessions, "611")
    with transaction(sessions) as s:
        record_events(cfg, s, [ListingEvent(lid, "new")], now=T0)
        row = s.scalars(select(AlertDelivery)).one()
        row.state, row.attempts = "sending", 4
    report = send_queued(cfg, sessions, now=T0 + timedelta(minutes=5))
    assert (report.sent, report.failed) == (1, 0) and len(server.received) == 1
    (row,) = deliveries(sessions)
    assert (row.state, row.resends, row.attempts) == ("sent", 1, 5)


def test_alert_for_a_deleted_listing_fails_and_the_rest_go_out(sessions: Any,
                                                               server: SmtpServer) -> None:
    from gpuscout.models.storage.tables.listings import Listing

    cfg = make_cfg(server.port)
    gone, kept = add_listing(sessions, "621"), add_listing(sessions, "622")
    with transaction(sessions) as s:
        record_events(cfg, s, [ListingEvent(gone, "new"), ListingEvent(kept, "new")], now=T0)
    with transaction(sessions) as s:
        s.delete(s.get(Listing, gone))
    report = send_queued(cfg, sessions, now=T0)
    assert (report.sent, report.failed) == (1, 1)
    assert [(r.listing_id, r.state) for r in deliveries(sessions)] == [(None, "failed"), (kept, "sent")]


# --------------------------------------------------------------------------- red flags, auctions


def test_a_red_flag_never_alerts_whatever_the_score(sessions: Any, server: SmtpServer) -> None:
    cfg = make_cfg(server.port, min_score=40)
    fault = add_listing(sessions, "401", total=45, flags=["condition_concerns", "described_fault"])
    scam = add_listing(sessions, "402", total=45, flags=["risky_payment", "scam_risk"])
    clean = add_listing(sessions, "403", total=45)
    report = process_events(cfg, sessions, [ListingEvent(i, "new") for i in (fault, scam, clean)],
                            now=T0)
    assert (report.sent, report.recorded) == (1, 1)
    assert [r.listing_id for r in deliveries(sessions)] == [clean]


def test_auctions_alert_only_as_they_end_within_the_rule_hours(sessions: Any,
                                                               server: SmtpServer) -> None:
    soon = add_listing(sessions, "501", price=72500, flags=["auction"], buying_format="auction",
                       ends_at=T0 + timedelta(hours=3))
    later = add_listing(sessions, "502", price=72500, flags=["auction"], buying_format="auction",
                        ends_at=T0 + timedelta(hours=30))
    dear = add_listing(sessions, "503", price=90000, buying_format="auction",
                       flags=["auction", "auction_above_band"], ends_at=T0 + timedelta(hours=2))
    events = [ListingEvent(i, e) for i in (soon, later, dear) for e in ("new", "ending_soon")]
    # without auction_hours an auction never alerts, however it scores
    assert process_events(make_cfg(server.port), sessions, events, now=T0).recorded == 0
    cfg = make_cfg(server.port, auction_hours=6)
    report = process_events(cfg, sessions, events, now=T0)
    assert (report.sent, report.recorded) == (1, 1)
    (row,) = deliveries(sessions)
    assert (row.listing_id, row.event, row.dedupe_key) == (soon, "ending_soon",
                                                           f"{soon}:deals:ending_soon:none")
    assert subject(server.messages()[0]).startswith(
        "[gpuscout] Auction ending soon: RTX 3090 FE $725 — score 86: ")
    # a higher bid later is the same auction ending: no second email
    add_listing(sessions, "501", price=76000, flags=["auction"], buying_format="auction",
                ends_at=T0 + timedelta(hours=3))
    later_on = T0 + timedelta(hours=1)
    assert process_events(cfg, sessions, [ListingEvent(soon, "ending_soon")],
                          now=later_on).recorded == 0
    assert len(server.messages()) == 1


def test_auction_reasons() -> None:
    from gpuscout.jobs.alerts.rules import reject_reason, score_reason

    rule = AlertRule(name="r", watch="w", auction_hours=6)
    auction = ScoreFacts("active", True, 80, 72500, "USD", flags=("auction",),
                         ends_at=T0 + timedelta(hours=8))
    assert reject_reason(rule, "new", auction, now=T0) == (
        "an auction alerts only as it nears its end (see auction_hours)")
    assert reject_reason(rule, "ending_soon", auction, now=T0) == (
        "the auction does not end within 6 hours")
    assert reject_reason(rule, "ending_soon", auction, now=T0 + timedelta(hours=3)) is None
    assert score_reason(AlertRule(name="r", watch="w"), auction, now=T0) == (
        "an auction, and the rule sets no auction_hours")
    assert reject_reason(AlertRule(name="r", watch="w"), "ending_soon", auction, now=T0) == (
        "the rule sets no auction_hours: auctions never alert")
    unknown_end = ScoreFacts("active", True, 80, 72500, "USD", flags=("auction",))
    assert score_reason(rule, unknown_end, now=T0) == "the auction's end is not known"
    fault = ScoreFacts("active", True, 95, 60000, "USD", flags=("described_fault",))
    assert score_reason(rule, fault) == "red flag (described_fault): never alerted"
    assert dedupe_key(7, "r", "ending_soon", 72500) == "7:r:ending_soon:none"


def test_concurrent_senders_deliver_each_alert_once(sessions: Any) -> None:
    """Several processes (a scan, `alerts send`, cluster workers) may send the outbox at the same
    moment: each alert's claim is a compare-and-set, so each goes out once."""
    import threading

    cfg = make_cfg(closed_port())
    ids = [add_listing(sessions, f"9{i:02d}") for i in range(8)]
    with transaction(sessions) as s:
        assert len(record_events(cfg, s, [ListingEvent(i, "new") for i in ids], now=T0)) == 8
    sent: list[str] = []
    guard = threading.Lock()

    class Counting:
        def send(self, msg: EmailMessage) -> str:
            with guard:
                sent.append(str(msg["Message-ID"]))
            return str(msg["Message-ID"])

    start = threading.Barrier(4)
    reports: list[AlertReport] = []

    def run() -> None:
        start.wait()
        reports.append(send_queued(cfg, sessions, now=T0, mailer=Counting()))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(sent) == len(set(sent)) == 8
    assert sum(r.sent for r in reports) == 8
    assert {row.state for row in deliveries(sessions)} == {"sent"}
