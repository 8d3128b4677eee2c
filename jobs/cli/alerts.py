"""Commands for alerts by email and push: `alerts send | digest | test | list`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from gpuscout.jobs.app import App
from gpuscout.jobs.cli.common import pass_app
from gpuscout.jobs.cli.output import emit, format_option
from gpuscout.models.storage.records import DELIVERY_STATES

LIST_COLUMNS = ("id", "state", "channel", "rule", "event", "mode", "listing_id", "title", "price",
                "currency",
                "score", "attempts", "created_at", "due_at", "sent_at", "last_error",
                "message_id", "dedupe_key")
#: what fits a terminal; --format json/csv carry every column
TABLE_COLUMNS = ("id", "state", "channel", "rule", "event", "listing_id", "price", "attempts",
                 "when", "last_error")


def _now() -> datetime:
    return datetime.now(UTC)


def _summary(report: Any) -> str:
    text = (f"{report.sent} sent, {report.queued} waiting to be retried, {report.failed} failed, "
            f"{report.deferred} deferred (quiet hours or digest)")
    if report.uncertain:
        text += (f", {report.uncertain} uncertain (the server took the message without confirming "
                 "it; see `gpuscout alerts list --state uncertain`)")
    return text + (f"\ndelivery problem: {report.error}" if report.error else "")


def _channels_configured(cfg: Any) -> None:
    from gpuscout.jobs.errors import ConfigError

    if cfg.email is None and not cfg.notify:
        raise ConfigError("alerts: neither [email] nor a [[notify]] push target is configured; "
                          "add one (see `gpuscout config init` and the README)")


@click.group("alerts")
def alerts_group() -> None:
    """Alerts by email and push: send what is queued, send digests, test the settings, see the
    outbox.

    \b
    Alerts are written to an outbox in the database first, then sent, then marked sent, so
    each (listing, rule, event, price) reaches each channel (email, each [[notify]] target)
    once, or, when a mail server took it without confirming, at most twice. If a channel is
    down its alerts stay queued and go out with the next scan or `gpuscout alerts send`.
    """


@alerts_group.command("send")
@pass_app
def send_cmd(app: App) -> None:
    """Send the queued alerts that are due now.

    Alerts held back by quiet hours wait until the quiet period ends; alerts an earlier run
    could not deliver (mail server or push service down) are retried. Exits 1 when a channel
    could not be used.
    """
    from gpuscout.jobs.alerts.dispatch import send_queued

    _channels_configured(app.config)
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
    from gpuscout.jobs.alerts.dispatch import send_digest
    from gpuscout.jobs.alerts.rules import alert_rule
    from gpuscout.jobs.errors import ConfigError

    cfg = app.config
    _channels_configured(cfg)
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
@click.option("--target", "target", metavar="NAME",
              help='Only this channel: "email" or a [[notify]] target name (default: every one).')
@pass_app
def test_cmd(app: App, target: str | None) -> None:
    """Send one test message to each channel ([email] and every [[notify]] target).

    On failure it says which step failed and what to check. Email: DNS (the host name),
    refused (host, port, is the server running), timeout (firewall), TLS (email.security),
    auth (email.username and GPUSCOUT_SMTP_PASSWORD), rejected (sender or recipients). Push:
    the URL's variable is unset, Apprise cannot use the URL, the service is unreachable, or it
    refused the message (a wrong token). Exits 1 when any test failed.
    """
    from gpuscout.jobs.alerts.dispatch import send_test, send_test_push
    from gpuscout.jobs.alerts.rules import email_config
    from gpuscout.jobs.errors import ConfigError, DeliveryError

    cfg = app.config
    _channels_configured(cfg)
    names = [target] if target else [*(["email"] if cfg.email is not None else []),
                                     *(t.name for t in cfg.notify)]
    failed = False
    for name in names:
        try:
            if name == "email":
                email = email_config(cfg)
                click.echo(f"email: sending a test message via {email.smtp_host}:"
                           f"{email.smtp_port} (security {email.security}) to "
                           f"{', '.join(email.recipients) or '(nobody)'}")
                message_id = send_test(cfg, now=_now())
                click.echo(f"email: sent: the server accepted message {message_id}")
            else:
                where = cfg.target(name)
                source = f"${where.url_env}" if where.url_env else "the url in the file"
                click.echo(f"{name}: sending a test notification to the Apprise URL in {source}")
                send_test_push(cfg, name, now=_now())
                click.echo(f"{name}: sent: the service accepted it")
        except DeliveryError as exc:
            failed = True
            click.echo(f"{name}: FAILED ({exc.kind}): {exc}", err=True)
        except ConfigError as exc:
            raise ConfigError(f"alerts test --target {name}: {exc}") from exc
    if failed:
        raise click.exceptions.Exit(1)


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
    out = [{"id": d.id, "state": d.state, "channel": d.channel, "rule": d.rule, "event": d.event,
            "mode": d.mode,
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
