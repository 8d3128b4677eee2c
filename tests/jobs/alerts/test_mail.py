"""SMTP delivery and message building: failure kinds against a real loopback server, safe headers."""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from typing import Any

import pytest

from gpuscout.jobs.alerts.mail import (
    SmtpMailer,
    alert_context,
    build_message,
    check_message,
    money,
    render_message,
    safe_url,
)
from gpuscout.jobs.config import SMTP_PASSWORD_ENV, EmailConfig
from gpuscout.jobs.errors import DeliveryError
from gpuscout.jobs.text import clean_text
from gpuscout.models.storage.tables.listings import Listing, PriceObservation, Score
from tests.support.smtp import SmtpServer, closed_port, smtp_server

NOW = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
HOSTILE = ("<script>alert(1)</script> RTX 3090\r\nBcc: victim@evil.example\n\x1b[31m\u202e"
           "=?utf-8?b?DQpCY2M6IGV2aWxAeC5jb20=?=\u2028tail " + "A" * 5000)


def email(port: int, **kw: Any) -> EmailConfig:
    values: dict[str, Any] = {"smtp_host": "127.0.0.1", "smtp_port": port, "security": "none",
                              "sender": "gpuscout@example.com", "recipients": ("me@example.com",),
                              "timeout": 5.0}
    values.update(kw)
    return EmailConfig(**values)


@pytest.fixture
def auth_server() -> Iterator[SmtpServer]:
    with smtp_server(users={"me@example.com": "app-password"}) as s:
        yield s


# --------------------------------------------------------------------------- text and headers


def test_clean_text_neutralises_hostile_titles() -> None:
    out = clean_text(HOSTILE)
    assert len(out) == 120 and out.endswith("…")
    assert out.startswith("<script>alert(1)</script> RTX 3090 Bcc: victim@evil.example "
                          "= ?utf-8?b?DQpCY2M6IGV2aWxAeC5jb20= ?= tail AAAA")
    assert not any(ch in out for ch in "\r\n\x1b\u202e\u2028")
    assert clean_text("  RTX\t3090  FE ") == "RTX 3090 FE" and clean_text(None) == ""


def test_safe_url_allows_only_http() -> None:
    assert safe_url("https://i.ebayimg.com/a.jpg") == "https://i.ebayimg.com/a.jpg"
    assert safe_url("javascript:alert(1)") is None and safe_url("data:image/png;base64,xx") is None
    assert safe_url("https://x.example/a b") is None and safe_url(None) is None


def test_money_formats() -> None:
    assert money(69900, "USD") == "$699" and money(129950, "USD") == "$1,299.50"
    assert money(65000, "CHF") == "650 CHF" and money(None, "USD") == "?"
    assert money(98000, "JPY") == "¥98,000"


def test_hostile_title_cannot_inject_headers_and_is_escaped_in_html() -> None:
    listing = Listing(id=7, source="ebay", title=HOSTILE, url="javascript:alert(1)",
                      image_url="https://i.ebayimg.com/x.jpg\"onerror=\"alert(1)", price=69900,
                      currency="USD", model="rtx 3090", variant="fe", quantity=1, status="active",
                      location="<b>Austin</b>", seller=None, condition=None)
    score = Score(total=86, fits=True, unit_price=69900, currency="USD",
                  components={"price": {"name": "price", "points": 50, "max": 60,
                                          "reasons": ["<i>cheap</i>"]}},
                  reasons=["<img src=x onerror=alert(1)>"])
    history = [PriceObservation(observed_at=NOW, price=69900, shipping=None, currency="USD")]
    ctx = alert_context(listing, score, history, event="new", rule="deals", watch="3090-fe")
    assert ctx["url"] is None and ctx["image_url"] is None
    cfg = email(25)
    msg = render_message(cfg, template="alert", subject="[gpuscout] RTX 3090 FE $699 — score 86: "
                         + HOSTILE, context=ctx, message_id="<a.b@example.com>", now=NOW)
    raw = msg.as_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    names = [line.split(":", 1)[0] for line in head.split("\r\n") if not line.startswith(" ")]
    assert names == ["Subject", "From", "To", "Date", "Message-ID", "Auto-Submitted",
                     "MIME-Version", "Content-Type"]
    parsed = message_from_bytes(raw, policy=policy.default)
    assert " ".join(str(parsed["Subject"]).split()) == clean_text(
        "[gpuscout] RTX 3090 FE $699 — score 86: " + HOSTILE, 250)
    html = parsed.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    plain = parsed.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "&lt;b&gt;Austin&lt;/b&gt;" in html
    assert "javascript:" not in html and "onerror=\"alert" not in html and "<img" not in html
    assert "&lt;i&gt;cheap&lt;/i&gt;" in html
    assert "<script>alert(1)</script> RTX 3090 Bcc: victim@evil.example" in plain
    assert "\x1b" not in plain and "A" * 600 not in plain  # body title capped at 500 characters


def test_build_message_refuses_a_header_line_break() -> None:
    with pytest.raises(DeliveryError, match=r"line ?feed") as err:
        build_message(email(25, sender="a@example.com\r\nBcc: x@evil.example"), subject="s",
                      text="t", html=None, message_id="<x@example.com>", now=NOW)
    assert err.value.permanent


# --------------------------------------------------------------------------- delivery


def test_send_to_a_real_server(server: SmtpServer) -> None:
    cfg = email(server.port, recipients=("me@example.com", "you@example.com"))
    msg = check_message(cfg, now=NOW, message_id="<gpuscout.test@example.com>")
    assert SmtpMailer(cfg).send(msg) == "<gpuscout.test@example.com>"
    (env,) = server.received
    assert env.mail_from == "gpuscout@example.com"
    assert env.rcpt_tos == ["me@example.com", "you@example.com"]
    got = env.message
    assert got["Subject"] == "[gpuscout] test message"
    assert got["Message-ID"] == "<gpuscout.test@example.com>"
    assert f"Server: 127.0.0.1:{server.port} (no encryption)" in got.get_content()


def test_login_succeeds_with_the_password_from_the_environment(
        auth_server: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SMTP_PASSWORD_ENV, "app-password")
    cfg = email(auth_server.port, username="me@example.com")
    SmtpMailer(cfg).send(check_message(cfg, now=NOW, message_id="<t@example.com>"))
    assert len(auth_server.received) == 1


def test_bad_password_is_an_auth_error(auth_server: SmtpServer) -> None:
    cfg = email(auth_server.port, username="me@example.com")
    with pytest.raises(DeliveryError) as err:
        SmtpMailer(cfg, password="wrong").check()
    assert err.value.kind == "auth" and not err.value.permanent
    assert str(err.value) == (f"127.0.0.1:{auth_server.port} refused the login for "
                              "'me@example.com' (535 5.7.8 Authentication credentials invalid): "
                              f"check email.username and {SMTP_PASSWORD_ENV}")


def test_username_without_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SMTP_PASSWORD_ENV, raising=False)
    with pytest.raises(DeliveryError) as err:
        SmtpMailer(email(25, username="me@example.com")).check()
    assert err.value.kind == "auth" and SMTP_PASSWORD_ENV in str(err.value)


def test_closed_port_is_refused() -> None:
    port = closed_port()
    with pytest.raises(DeliveryError) as err:
        SmtpMailer(email(port)).check()
    assert err.value.kind == "refused"
    assert str(err.value) == (f"connection refused by 127.0.0.1:{port}: check email.smtp_host "
                              "and email.smtp_port, and that the mail server is running")


def test_starttls_not_offered_is_a_tls_error(server: SmtpServer) -> None:
    with pytest.raises(DeliveryError) as err:
        SmtpMailer(email(server.port, security="starttls")).check()
    assert err.value.kind == "tls" and "does not offer STARTTLS" in str(err.value)


def test_implicit_tls_to_a_plain_server_is_a_tls_error(server: SmtpServer) -> None:
    with pytest.raises(DeliveryError) as err:
        SmtpMailer(email(server.port, security="tls")).check()
    assert err.value.kind == "tls" and "check email.security" in str(err.value)


def test_rejected_recipients_are_permanent(server: SmtpServer) -> None:
    server.recorder.reject_rcpt = True
    cfg = email(server.port)
    with pytest.raises(DeliveryError) as err:
        SmtpMailer(cfg).send(check_message(cfg, now=NOW, message_id="<t@example.com>"))
    assert err.value.kind == "rejected" and err.value.permanent
    assert "me@example.com: 550 5.1.1 mailbox unavailable" in str(err.value)


class FakeSMTP:
    """Stands in for smtplib.SMTP and fails the way it is told to."""

    fail_connect: BaseException | None = None
    fail_send: BaseException | None = None

    def __init__(self, host: str, port: int, timeout: float = 0) -> None:
        if self.fail_connect is not None:
            raise self.fail_connect

    def ehlo(self) -> None: ...

    def send_message(self, msg: Any, from_addr: str, to_addrs: list[str]) -> dict[str, Any]:
        if self.fail_send is not None:
            raise self.fail_send
        return {}

    def quit(self) -> None: ...

    def close(self) -> None: ...


@pytest.mark.parametrize(("connect", "send", "kind", "permanent", "says"), [
    (socket.gaierror(-2, "Name or service not known"), None, "dns", False,
     "cannot resolve the mail server name 'smtp.example.com'"),
    (TimeoutError("timed out"), None, "timeout", False, "no answer from smtp.example.com:587 within 5 s"),
    (OSError(101, "Network is unreachable"), None, "error", False, "failed during connect"),
    (None, smtplib.SMTPSenderRefused(553, b"5.7.1 not your address", "gpuscout@example.com"),
     "rejected", True, "refused the sender 'gpuscout@example.com' (553 5.7.1 not your address)"),
    (None, smtplib.SMTPDataError(451, b"4.3.0 try later"), "error", False, "answered 451"),
    (None, smtplib.SMTPDataError(554, b"5.7.1 spam"), "rejected", True, "answered 554"),
    (None, smtplib.SMTPServerDisconnected("gone"), "error", False, "closed the connection"),
])
def test_error_mapping(connect: BaseException | None, send: BaseException | None, kind: str,
                       permanent: bool, says: str) -> None:
    fake = type("Fake", (FakeSMTP,), {"fail_connect": connect, "fail_send": send})
    cfg = email(587, smtp_host="smtp.example.com")
    mailer = SmtpMailer(cfg, smtp_class=fake)
    with pytest.raises(DeliveryError) as err:
        mailer.send(check_message(cfg, now=NOW, message_id="<t@example.com>"))
    assert (err.value.kind, err.value.permanent) == (kind, permanent)
    assert says in str(err.value)
