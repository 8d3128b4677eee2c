"""Commands for email alerts: `alerts send | digest | test | list`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from gpuscout.jobs.app import App
from gpuscout.jobs.cli.common import pass_app
from gpuscout.jobs.cli.output import emit, format_option
from gpuscout.models.storage.records import DELIVERY_STATES

LIST_COLUMNS = ("id", "state", "rule", "event", "mode", "listing_id", "title", "price", "currency",
                "score", "attempts", "created_at", "due_at", "sent_at", "last_error",
                "message_id", "dedupe_key")
#: what fits a terminal; --format json/csv carry every column
TABLE_COLUMNS = ("id", "state", "rule", "event", "listing_id", "price", "attempts", "when",
                 "last_error")


def _now() -> datetime:
    return datetime.now(UTC)


def _summary(report: Any) -> str:
    text = (f"{report.sent} sent, {report.queued} waiting to be retried, {report.failed} failed, "
            f"{report.deferred} deferred (quiet hours or digest)")
    if report.uncertain:
        text += (f", {report.uncertain} uncertain (the server took the message without confirming "
                 "it; see `gpuscout alerts list --state uncertain`)")
    return text + (f"\nmail server problem: {report.error}" if report.error else "")


@click.group("alerts")
def alerts_group() -> None:
    """Email alerts: send what is queued, send digests, check the settings, see the outbox.

    \b
    Alerts are written to an outbox in the database first, then sent, then marked sent, so
    each (listing, rule, event, price) is emailed once, or, when the server took it without
    confirming, at most twice. If the mail server is down they stay queued and go out with the
    next scan or `gpuscout alerts send`.
    """


@alerts_group.command("send")
@pass_app
def send_cmd(app: App) -> None:
    """Send the queued alerts that are due now.

    Alerts held back by quiet hours wait until the quiet period ends; alerts an earlier run
    could not deliver (mail server down) are retried. Exits 1 when the mail server could not
    be used.
    """
    from gpuscout.jobs.alerts.dispatch import send_queued

    report = send_queued(app.config, app.sessions(), now=_now())
    click.echo(_summary(report))
    if report.error:
        raise click.exceptions.Exit(1)


@alerts_group.command("digest")
@click.option("--rule", "rule", metavar="NAME", help="Only this digest rule (default: every "
              "rule with mode = \"digest\").")
@click.option("--force", is_flag=True, help="Send another digest now even if today's was sent.")
@pass_app
def digest_cmd(app: App, rule: str | None, force: bool) -> None:
    """Send today's digest of each digest rule: the best new deals since the last digest.

    A digest is sent once per rule and day (in email.timezone), so this is safe to run from
    cron at the digest time; `gpuscout run` does it by itself. Rules with nothing new send
    nothing.
    """
    from gpuscout.jobs.alerts.dispatch import alert_rule, email_config, send_digest
    from gpuscout.jobs.errors import ConfigError

    cfg = app.config
    email_config(cfg)
    rules = [alert_rule(cfg, rule)] if rule else [r for r in cfg.alerts if r.mode == "digest"]
    if not rules:
        raise ConfigError('alert: no rule has mode = "digest"')
    failed = False
    for r in rules:
        report = send_digest(cfg, app.sessions(), rule=r.name, now=_now(), force=force)
        if report.sent:
            click.echo(f"{r.name}: digest sent")
        elif report.error:
            failed = True
            click.echo(f"{r.name}: digest not sent: {report.error}")
        else:
            click.echo(f"{r.name}: nothing to send (already sent today, or no new deals)")
    if failed:
        raise click.exceptions.Exit(1)


@alerts_group.command("test")
@pass_app
def test_cmd(app: App) -> None:
    """Send one test message to check the [email] settings.

    On failure it says which step failed and what to check: DNS (the host name), refused (host,
    port, is the server running), timeout (firewall), TLS (email.security), auth (email.username
    and GPUSCOUT_SMTP_PASSWORD), rejected (sender or recipients).
    """
    from gpuscout.jobs.alerts.dispatch import email_config, send_test
    from gpuscout.jobs.errors import DeliveryError

    email = email_config(app.config)
    click.echo(f"sending a test message via {email.smtp_host}:{email.smtp_port} "
               f"(security {email.security}) to {', '.join(email.recipients) or '(nobody)'}")
    try:
        message_id = send_test(app.config, now=_now())
    except DeliveryError as exc:
        click.echo(f"FAILED ({exc.kind}): {exc}", err=True)
        raise click.exceptions.Exit(1) from exc
    click.echo(f"sent: the server accepted message {message_id}")


@alerts_group.command("list")
@click.option("--state", type=click.Choice(DELIVERY_STATES),
              help="Only alerts in this state.")
@click.option("--rule", "rule", metavar="NAME", help="Only alerts of this rule.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000),
              help="How many, newest first.")
@format_option()
@pass_app
def list_cmd(app: App, state: str | None, rule: str | None, limit: int, fmt: str) -> None:
    """The outbox: every alert with its state, listing, rule, event, price and last error.

    \b
    States: queued (waiting: due now, after quiet hours, or for the digest), sending (being
    sent, or interrupted: it may have gone out, so it counts as uncertain), sent, failed
    (rejected by the server or too many attempts; it never went out), uncertain (the server
    took the whole message but never confirmed it: it may have arrived; it is sent once more,
    never a third time), skipped (a digest candidate that did not make the digest).
    """
    from gpuscout.jobs.text import clean_text
    from gpuscout.models.storage.db import transaction
    from gpuscout.models.storage.outbox import deliveries
    from gpuscout.models.storage.records import from_minor

    with transaction(app.sessions()) as session:
        rows = deliveries(session, state=state, rule=rule, limit=limit)
    out = [{"id": d.id, "state": d.state, "rule": d.rule, "event": d.event, "mode": d.mode,
            "listing_id": d.listing_id, "title": clean_text(title, 80) if title else None,
            "price": from_minor(d.price, d.currency), "currency": d.currency, "score": d.score,
            "attempts": d.attempts, "created_at": d.created_at, "due_at": d.due_at,
            "sent_at": d.sent_at, "when": d.sent_at or d.due_at,
            "last_error": clean_text(d.last_error, 300) if d.last_error else None, "message_id": d.message_id,
            "dedupe_key": d.dedupe_key} for d, title in rows]
    if fmt == "table" and not out:
        click.echo("no alerts recorded yet")
        return
    emit(out, fmt, LIST_COLUMNS, title="alert outbox", table_columns=TABLE_COLUMNS)


COMMANDS = [alerts_group]
