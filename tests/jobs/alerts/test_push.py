"""Push notifications through Apprise to a local ntfy-compatible endpoint, beside email: each alert
once per channel, a channel that is down holds back only its own alerts, the first scan's one
digest, and what the message says."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from gpuscout.jobs.alerts.dispatch import (
    MAX_ATTEMPTS,
    process_events,
    send_digest,
    send_queued,
    send_test_push,
)
from gpuscout.jobs.config import parse_config
from gpuscout.jobs.errors import ConfigError, DeliveryError
from gpuscout.jobs.scoring import ListingEvent
from tests.support.alerts import BAND_REFERENCE, T0, add_listing, deliveries, make_cfg
from tests.support.push import PushServer, push_server
from tests.support.smtp import SmtpServer


@pytest.fixture
def push() -> Iterator[PushServer]:
    with push_server() as p:
        yield p


def phone(url: str) -> list[dict[str, Any]]:
    return [{"name": "phone", "url": url}]


def test_a_deal_reaches_email_and_the_phone_once_each(sessions: Any, server: SmtpServer,
                                                       push: PushServer) -> None:
    cfg = make_cfg(server.port, targets=phone(push.ntfy_url("deals")))
    lid = add_listing(sessions, "111", price=70000, reference=BAND_REFERENCE)
    report = process_events(cfg, sessions, [ListingEvent(lid, "new")], now=T0)
    assert (report.sent, report.recorded, report.queued) == (2, 2, 0)
    assert len(server.received) == 1
    (note,) = push.received
    assert note.topic == "deals"
    assert note.title == "RTX 3090 FE $700 — score 86"
    # the listing, its unit price against the market, why it scored, and its link
    assert note.message.splitlines() == [
        "NVIDIA GeForce RTX 3090 Founders Edition 24GB",
        "$700 per card, 3 % below the market ($725: the middle of the watch's price band)",
        "Why: price 50/60, condition 20/20; used; tested",
        "ebay · Austin, TX",
        "https://www.ebay.com/itm/111",
    ]
    plain = server.received[0].message.get_body(preferencelist=("plain",))
    assert plain is not None
    assert ("$700 per card, 3 % below the market ($725: the middle of the watch's price band)"
            in plain.get_content())
    by_channel = {row.channel: row for row in deliveries(sessions)}
    assert by_channel["email"].dedupe_key == f"{lid}:deals:new:70000"
    assert by_channel["phone"].dedupe_key == f"{lid}:deals:new:70000@phone"
    assert {row.state for row in by_channel.values()} == {"sent"}
    again = process_events(cfg, sessions, [ListingEvent(lid, "new")], now=T0 + timedelta(hours=1))
    assert again.sent == 0 and len(push.received) == 1 and len(server.received) == 1


def test_json_urls_work_as_well(sessions: Any, push: PushServer) -> None:
    cfg = make_cfg(None, targets=phone(push.json_url()))
    lid = add_listing(sessions, "112", reference=BAND_REFERENCE)
    assert process_events(cfg, sessions, [ListingEvent(lid, "new")], now=T0).sent == 1
    (note,) = push.received
    assert note.topic == "json" and note.title.startswith("RTX 3090 FE $699")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_push_target_that_is_down_holds_back_only_its_own_alerts(
        sessions: Any, server: SmtpServer) -> None:
    port = _closed_port()
    cfg = make_cfg(server.port, targets=phone(f"ntfy://127.0.0.1:{port}/deals"))
    first, second = add_listing(sessions, "121"), add_listing(sessions, "122")
    report = process_events(cfg, sessions, [ListingEvent(first, "new"),
                                            ListingEvent(second, "new")], now=T0)
    assert report.sent == 2 and len(server.received) == 2  # email went out
    assert report.error is not None and "is the push service reachable?" in report.error
    waiting = [row for row in deliveries(sessions) if row.channel == "phone"]
    # the unreachable target costs no attempts: both wait for it, the second untried
    assert [(row.state, row.attempts) for row in waiting] == [("queued", 0), ("queued", 0)]
    with push_server() as back:
        later = make_cfg(server.port, targets=phone(back.ntfy_url("deals")))
        assert send_queued(later, sessions, now=T0 + timedelta(minutes=5)).sent == 2
        assert len(back.received) == 2
        assert send_queued(later, sessions, now=T0 + timedelta(minutes=6)).sent == 0
    assert {row.state for row in deliveries(sessions)} == {"sent"}


def test_a_target_that_keeps_refusing_fails_after_the_attempts(sessions: Any,
                                                               push: PushServer) -> None:
    cfg = make_cfg(None, targets=phone(push.ntfy_url()))
    lid = add_listing(sessions, "131")
    push.status = 500
    for minute in range(MAX_ATTEMPTS):
        process_events(cfg, sessions, [ListingEvent(lid, "new")], now=T0 + timedelta(minutes=minute))
    (row,) = deliveries(sessions)
    assert (row.state, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert row.last_error is not None and "error=500" in row.last_error


def test_a_url_from_an_unset_variable_waits_and_says_which(sessions: Any, push: PushServer,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GPUSCOUT_NOTIFY_PHONE", raising=False)
    cfg = make_cfg(None, targets=[{"name": "phone", "url_env": "GPUSCOUT_NOTIFY_PHONE"}])
    lid = add_listing(sessions, "141")
    report = process_events(cfg, sessions, [ListingEvent(lid, "new")], now=T0)
    assert report.sent == 0 and report.error is not None
    assert "GPUSCOUT_NOTIFY_PHONE is not set" in report.error
    monkeypatch.setenv("GPUSCOUT_NOTIFY_PHONE", push.ntfy_url("secret-topic"))
    assert send_queued(cfg, sessions, now=T0 + timedelta(minutes=1)).sent == 1
    assert [p.topic for p in push.received] == ["secret-topic"]


def test_a_rule_may_name_its_channels(sessions: Any, server: SmtpServer, push: PushServer) -> None:
    cfg = make_cfg(server.port, targets=phone(push.ntfy_url()), notify=["phone"])
    lid = add_listing(sessions, "151")
    assert process_events(cfg, sessions, [ListingEvent(lid, "new")], now=T0).sent == 1
    assert len(push.received) == 1 and server.received == []
    assert [row.channel for row in deliveries(sessions)] == ["phone"]


def test_the_first_scan_sends_one_digest_per_channel_not_one_message_each(
        sessions: Any, server: SmtpServer, push: PushServer) -> None:
    cfg = make_cfg(server.port, targets=phone(push.ntfy_url()))
    ids = [add_listing(sessions, str(200 + n), price=68000 + 500 * n, total=90 - n,
                       reference=BAND_REFERENCE) for n in range(4)]
    backlog = [ListingEvent(i, "new") for i in ids]
    report = process_events(cfg, sessions, [], now=T0, backlog=backlog)
    assert report.sent == 2
    assert len(server.received) == 1 and len(push.received) == 1
    email = server.received[0].message
    assert str(email["Subject"]).startswith("[gpuscout] First scan deals: 4 new deals")
    (note,) = push.received
    assert note.title == "gpuscout first scan for 3090-fe: 4 deals already listed"
    lines = note.message.splitlines()
    assert lines[0] == ("1. RTX 3090 FE $680 — score 90: NVIDIA GeForce RTX 3090 Founders "
                        "Edition 24GB")
    assert lines[1] == ("   $680 per card, 6 % below the market ($725: the middle of the watch's "
                        "price band)")
    assert lines[2] == "   https://www.ebay.com/itm/200"
    assert sum(line[:2] in ("1.", "2.", "3.", "4.") for line in lines) == 4
    # every listing is in the outbox, sent with its digest: none alerts again later
    items = [row for row in deliveries(sessions) if row.event == "new"]
    assert len(items) == 8 and {row.state for row in items} == {"sent"}
    assert process_events(cfg, sessions, backlog, now=T0 + timedelta(hours=1)).sent == 0
    # a listing that is new after the first scan gets its own alert
    fresh = add_listing(sessions, "299", reference=BAND_REFERENCE)
    assert process_events(cfg, sessions, [ListingEvent(fresh, "new")],
                          now=T0 + timedelta(hours=2)).sent == 2
    assert len(push.received) == 2 and push.received[1].title.startswith("RTX 3090 FE $699")


def test_a_first_scan_digest_waits_for_a_target_that_is_down(sessions: Any) -> None:
    port = _closed_port()
    cfg = make_cfg(None, targets=phone(f"ntfy://127.0.0.1:{port}/deals"))
    ids = [add_listing(sessions, str(300 + n)) for n in range(2)]
    report = process_events(cfg, sessions, [], now=T0, backlog=[ListingEvent(i, "new") for i in ids])
    assert report.sent == 0
    with push_server() as back:
        later = make_cfg(None, targets=phone(back.ntfy_url()))
        assert send_queued(later, sessions, now=T0 + timedelta(minutes=1)).sent == 1
        (note,) = back.received
        assert note.title == "gpuscout first scan for 3090-fe: 2 deals already listed"


def test_digest_rules_send_their_digest_to_push_targets_too(sessions: Any, server: SmtpServer,
                                                            push: PushServer) -> None:
    cfg = make_cfg(server.port, targets=phone(push.ntfy_url()), mode="digest",
                   digest_time="08:00")
    lid = add_listing(sessions, "401", reference=BAND_REFERENCE)
    process_events(cfg, sessions, [ListingEvent(lid, "new")], now=T0)
    assert push.received == [] and server.received == []
    report = send_digest(cfg, sessions, rule="deals", now=T0 + timedelta(days=1))
    assert report.sent == 2
    (note,) = push.received
    assert note.title.startswith("gpuscout digest deals, 2026-11-21: 1 deal")
    assert "https://www.ebay.com/itm/401" in note.message
    assert send_digest(cfg, sessions, rule="deals", now=T0 + timedelta(days=1)).sent == 0


def test_send_test_push(push: PushServer) -> None:
    cfg = make_cfg(None, targets=phone(push.ntfy_url("t")))
    send_test_push(cfg, "phone", now=T0)
    assert [p.title for p in push.received] == ["gpuscout test notification"]
    bad = make_cfg(None, targets=phone("bogus://nowhere"))
    with pytest.raises(DeliveryError, match="Apprise cannot use this URL") as info:
        send_test_push(bad, "phone", now=T0)
    assert info.value.permanent


@pytest.mark.parametrize(("notify", "message"), [
    ([{"name": "email", "url": "ntfy://ntfy.sh/x"}], "that name is the [email] section's"),
    ([{"name": "p"}], "give url (an Apprise URL without secrets) or url_env"),
    ([{"name": "p", "url": "ntfy://a/b", "url_env": "X"}], "not both or neither"),
    ([{"name": "p", "url": "pover://user:token@host"}], "holds a password or token"),
    ([{"name": "p", "url": "not a url"}], "must be an Apprise URL"),
    ([{"name": "p", "url_env": "1BAD"}], "must be an environment variable name"),
    ([{"name": "p", "url": "ntfy://a/b"}, {"name": "p", "url": "ntfy://a/c"}],
     "names must be unique"),
])
def test_notify_targets_are_checked(notify: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")
                       .replace(")", r"\)")):
        make_cfg(None, targets=notify)


def test_alert_channels_are_checked_and_default_to_every_one() -> None:
    cfg = make_cfg(2525, targets=phone("ntfy://ntfy.sh/x"))
    assert cfg.channels(cfg.alerts[0]) == ("email", "phone")
    with pytest.raises(ConfigError, match=r"alert\[0\]\.notify: 'pager' is not a configured "
                                          r"channel \(configured: email, phone\)"):
        make_cfg(2525, targets=phone("ntfy://ntfy.sh/x"), notify=["pager"])
    with pytest.raises(ConfigError, match="neither \\[email\\] nor a \\[\\[notify\\]\\] target"):
        parse_config({"alert": [{"watch": "3090-fe"}]})


def test_a_long_digest_push_shows_the_best_ten_and_says_how_many_more(
        sessions: Any, push: PushServer) -> None:
    cfg = make_cfg(None, targets=phone(push.ntfy_url("deals")))
    ids = [add_listing(sessions, str(500 + n), price=66000 + 100 * n, total=95 - n // 2,
                       reference=BAND_REFERENCE) for n in range(25)]
    report = process_events(cfg, sessions, [], now=T0,
                            backlog=[ListingEvent(i, "new") for i in ids])
    assert report.sent == 1
    (note,) = push.received
    lines = note.message.splitlines()
    assert sum(1 for line in lines if re.match(r"\d+\. ", line)) == 10
    assert lines[-1] == "…and 15 more: `gpuscout deals` lists them"
    assert len(note.message.encode()) < 4096  # ntfy's limit for a message (longer: a file)
    assert {row.state for row in deliveries(sessions)} == {"sent"}


@pytest.mark.parametrize(("reference", "said"), [
    ({"median": "725.00", "source": "band", "currency": "USD"},
     "$700 per card, 3 % below the market ($725: the middle of the watch's price band)"),
    ({"median": "760.00", "source": "market", "currency": "USD", "window_days": 30,
      "sold_count": 12, "ask_count": 1},
     "$700 per card, 8 % below the market ($760: 12 sales and 1 ask seen over 30 days)"),
    ({"median": "690.00", "source": "market", "currency": "USD", "window_days": 30,
      "sold_count": 1, "ask_count": 0},
     "$700 per card, 1 % above the market ($690: 1 sale seen over 30 days)"),
    ({"median": "690.00", "source": "market", "currency": "EUR"}, None),
])
def test_the_market_note_says_what_the_reference_rests_on(reference: dict[str, Any],
                                                         said: str | None) -> None:
    from types import SimpleNamespace

    from gpuscout.jobs.alerts.mail import money
    from gpuscout.jobs.alerts.price_note import market_note

    score = SimpleNamespace(unit_price=70000, currency="USD", reference=reference)
    assert market_note(score, money) == said
