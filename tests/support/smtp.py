"""A real SMTP server on loopback for tests: aiosmtpd on an ephemeral port, recording envelopes."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        msg = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class Recorder:
    """The handler: keeps every accepted envelope; ``reject_rcpt`` answers RCPT TO with 550;
    ``drop_after_data`` takes the whole message, then drops the connection instead of replying
    (the moment a client cannot know whether the message was delivered)."""

    received: list[Received] = field(default_factory=list)
    reject_rcpt: bool = False
    drop_after_data: bool = False

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if self.reject_rcpt:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), data))
        if self.drop_after_data:
            assert isinstance(server.transport, asyncio.Transport)
            server.transport.abort()  # the message is kept; the client never hears so
        return "250 Message accepted for delivery"


class _Controller(Controller):
    """aiosmtpd binds port 0 fine but then needs the real port to check it is up."""

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


@dataclass
class SmtpServer:
    host: str
    port: int
    recorder: Recorder

    @property
    def received(self) -> list[Received]:
        return self.recorder.received

    def messages(self) -> list[EmailMessage]:
        return [r.message for r in self.recorder.received]


def _authenticator(users: dict[str, str]) -> Any:
    def check(server: SMTP, session: Session, envelope: Envelope, mechanism: str,
              auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword)
              and users.get(auth_data.login.decode()) == auth_data.password.decode())
        return AuthResult(success=ok, handled=False)

    return check


@contextmanager
def smtp_server(users: dict[str, str] | None = None) -> Iterator[SmtpServer]:
    """Run a recording SMTP server on 127.0.0.1; with ``users``, it offers AUTH LOGIN/PLAIN
    (without TLS, as a local test may)."""
    recorder = Recorder()
    kwargs: dict[str, Any] = {}
    if users is not None:
        kwargs = {"authenticator": _authenticator(users), "auth_require_tls": False}
    controller = _Controller(recorder, hostname="127.0.0.1", port=0, **kwargs)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", controller.port, recorder)
    finally:
        controller.stop()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port
