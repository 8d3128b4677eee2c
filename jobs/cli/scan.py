"""Commands that scan: `scan` once, `run` on a schedule, `cron` for the system's crontab, `status`."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

import click

from gpuscout.jobs.app import App
from gpuscout.jobs.cli.common import pass_app
from gpuscout.jobs.cli.output import emit, format_option

SUMMARY_COLUMNS = ("search", "source", "outcome", "pages", "listings", "new", "changed", "gone",
                   "unread", "error")


@click.command("scan")
@click.option("--search", "only", metavar="NAME", multiple=True,
              help="Run only this search; repeat for several (default: all).")
@click.option("--quiet", "-q", is_flag=True, help="No progress display (for cron).")
@click.option("--no-alerts", is_flag=True,
              help="Send no alert now: the alerts this scan calls for are queued, and go out "
                   "with the next scan or `gpuscout alerts send`.")
@format_option()
@pass_app
def scan_cmd(app: App, only: tuple[str, ...], quiet: bool, no_alerts: bool, fmt: str) -> None:
    """Run each configured search once: fetch, parse, identify, store, score, then alert.

    Exits 1 only when every search failed; 3 when another scan is running."""
    from gpuscout.jobs.scan import run_scan
    from gpuscout.models.errors import ScanLocked

    cfg = app.config
    for name in only:
        cfg.search(name)  # a wrong name is a configuration error, before anything is written
    engine = app.engine()
    progress = None
    status_ctx: Any = None
    if not quiet and fmt == "table" and sys.stderr.isatty():
        from rich.console import Console

        status_ctx = Console(stderr=True).status("scanning…")
        status_ctx.start()

        def progress(search: str, what: str) -> None:
            status_ctx.update(f"{search}: {what}")
    elif not quiet and fmt == "table":
        def progress(search: str, what: str) -> None:
            click.echo(f"{search}: {what}", err=True)
    try:
        summary = run_scan(cfg, engine, only=only, progress=progress, send_alerts=not no_alerts)
    except ScanLocked as exc:
        click.echo(f"gpuscout: {exc}; not starting a second scan", err=True)
        sys.exit(3)
    finally:
        if status_ctx is not None:
            status_ctx.stop()
    rows = [{k: getattr(s, k) for k in SUMMARY_COLUMNS} for s in summary.searches]
    if not quiet or fmt != "table":
        emit(rows, fmt, SUMMARY_COLUMNS, title="Scan summary")
    if summary.alerts is not None and fmt == "table" and not quiet:
        a = summary.alerts
        if no_alerts:
            click.echo(f"alerts: none sent (--no-alerts); {a.recorded} new queued, {a.queued} "
                       "waiting in all: `gpuscout alerts send` or the next scan sends them")
        else:
            click.echo(f"alerts: {a.sent} sent, {a.queued} queued, {a.failed} failed"
                       + (f", {a.uncertain} uncertain" if a.uncertain else ""))
    if summary.all_failed:
        sys.exit(1)


@click.command("run")
@click.option("--distributed", is_flag=True,
              help="Schedule for a cluster: only the instance holding the scheduler lock "
                   "(PostgreSQL) fires, by sending each due search to `gpuscout worker`s through "
                   "the broker; other instances stand by and take over within seconds.")
@pass_app
def run_cmd(app: App, distributed: bool) -> None:
    """Keep scanning: every search once now, then each `every` so long (or on its cron
    `schedule`), plus the daily digests, until Ctrl-C or SIGTERM.

    A stop is prompt at any moment: a scan that is fetching is cancelled and recorded as stopped;
    a second Ctrl-C exits at once (code 130). The job store lives in the configured database.

    With --distributed this process scans nothing itself: see "Scaling out" in the README."""
    from gpuscout.jobs.config.interval import format_every

    cfg = app.config
    engine = app.engine()
    if distributed:
        _run_distributed(app)
        return
    from gpuscout.jobs.schedule import run_forever

    plan = ", ".join(f"{s.name} {'every ' + format_every(s.every) if s.every else s.schedule}"
                     for s in cfg.searches)
    click.echo(f"gpuscout run: scanning every search now, then {plan}; Ctrl-C to stop", err=True)
    run_forever(cfg, config_path=app.config_path, engine=engine)


def _run_distributed(app: App) -> None:
    import signal
    import threading

    from gpuscout.jobs.cluster.app import broker_url, require_postgres
    from gpuscout.jobs.cluster.leader import run_distributed

    cfg = app.config
    engine = app.engine()
    require_postgres(engine)
    broker_url(cfg)
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        if stop.is_set():
            import os

            os._exit(128 + signum)
        stop.set()

    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, on_signal)
    click.echo("gpuscout run --distributed: standing by for the scheduler lock; Ctrl-C to stop",
               err=True)

    def announce(role: str) -> None:
        click.echo(f"gpuscout run --distributed: this instance is the {role} scheduler", err=True)

    worker = threading.Thread(target=run_distributed, args=(cfg, engine),
                              kwargs={"stop": stop, "on_role": announce}, name="scheduler")
    worker.start()
    # NOTE: the main thread waits in short steps, so that signals are handled promptly
    while worker.is_alive():
        worker.join(0.2)


def _cron_schedule(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from gpuscout.jobs.config.cron import check_cron
    from gpuscout.jobs.errors import ConfigError

    if value is not None:
        try:
            check_cron("--schedule", value)
        except ConfigError as exc:
            raise click.BadParameter(str(exc).removeprefix("--schedule = ")) from None
    return value


@click.command("cron")
@click.option("--schedule", default=None, callback=_cron_schedule,
              help="One cron schedule for every search (default: each search's own).")
@pass_app
def cron_cmd(app: App, schedule: str | None) -> None:
    """Print crontab lines that run gpuscout from the system's cron instead of `gpuscout run`:
    one `scan` line per distinct search schedule (naming its searches), and one `alerts digest`
    line per digest rule at its digest time."""
    cfg = app.config
    exe = Path(sys.argv[0]).resolve() if Path(sys.argv[0]).name == "gpuscout" else "gpuscout"
    cwd = Path.cwd()
    config = f" --config {shlex.quote(str(Path(cfg.path).resolve()))}" if cfg.path else ""
    log = f">> {shlex.quote(str(cwd / 'gpuscout.log'))} 2>&1"
    head = f"cd {shlex.quote(str(cwd))} && {exe}{config}"
    from gpuscout.jobs.config.interval import every_as_cron, format_every

    groups: dict[str, list[str]] = {}
    for s in cfg.searches:
        when = schedule or s.schedule
        if when is None:
            when, exact = every_as_cron(s.every or 60)
            if not exact:
                click.echo(f"# {s.name}: every {format_every(s.every or 60)} is rounded to "
                           f"{when!r} (cron counts whole minutes; `gpuscout run` keeps the "
                           "interval)")
        groups.setdefault(when, []).append(s.name)
    for when, names in groups.items():
        only = "" if len(groups) == 1 else "".join(f" --search {shlex.quote(n)}" for n in names)
        click.echo(f"{when} {head} scan --quiet{only} {log}")
    digests = [r for r in cfg.alerts if r.mode == "digest"]
    if digests and cfg.email is not None:
        click.echo(f"# digest times are in {cfg.email.timezone}: cron reads them in the "
                   "system's time zone")
    for rule in digests:
        hour, minute = (int(x) for x in rule.digest_time.split(":"))
        click.echo(f"{minute} {hour} * * * {head} alerts digest --rule {shlex.quote(rule.name)} "
                   f"{log}")


EXIT_UNHEALTHY = 1


@click.command("status")
@click.option("--runs", type=click.IntRange(1, 100), default=10, show_default=True,
              help="How many recent runs to judge each search on.")
@click.option("--as-of", "as_of", metavar="TIME", default=None,
              help="Judge staleness as of this ISO 8601 time (UTC if no zone) instead of now.")
@click.option("--cluster", "cluster_only", is_flag=True,
              help="Only the cluster: its schedulers (which one leads), workers and queue.")
@format_option()
@pass_app
def status_cmd(app: App, runs: int, as_of: str | None, cluster_only: bool, fmt: str) -> None:
    """Per search: last success, last outcome, yield over recent runs, and whether it is
    unhealthy or stale, with what to do about it. On a cluster (see "Scaling out" in the
    README) also the schedulers, which one is active, the workers and the tasks queued.

    \b
    UNHEALTHY: its recent runs failed and none succeeded, or three in a row were blocked,
               drifted, found "no results", or failed without a listing.
    STALE:     no success within three of its intervals (at least five minutes).
    \b
    Exit codes: 0 every search is healthy (or has not run yet); 1 some search is unhealthy
    or stale, or a cluster has no active scheduler or no worker; 2 the configuration is invalid.
    """
    from datetime import UTC, datetime

    from gpuscout.jobs.health import health
    from gpuscout.jobs.schedule import interval_seconds
    from gpuscout.models.storage.queries import recent_runs

    now = datetime.now(UTC)
    if as_of:
        try:
            now = datetime.fromisoformat(as_of)
        except ValueError:
            raise click.BadParameter(f"{as_of!r} is not an ISO 8601 time like "
                                     "2026-12-01T08:00", param_hint="--as-of") from None
        now = now if now.tzinfo else now.replace(tzinfo=UTC)
    cfg = app.config
    view = None
    if app.engine().dialect.name == "postgresql":
        from gpuscout.jobs.cluster.status import cluster_view

        view = cluster_view(cfg, app.engine(), now=now)
    if cluster_only:
        if view is None or not view.rows:
            click.echo("gpuscout: no cluster has reported to this database (see \"Scaling "
                       "out\" in the README)", err=True)
            sys.exit(EXIT_UNHEALTHY)
        _emit_cluster(view, fmt)
        if view.problem:
            sys.exit(EXIT_UNHEALTHY)
        return
    verdicts = []
    with app.sessions()() as session:
        for search in cfg.searches:
            verdicts.append(health(search.name, search.source,
                                   recent_runs(session, search.name, runs), now=now,
                                   interval=interval_seconds(search)))
    rows = [{"search": h.search, "source": h.source, "last_outcome": h.last_outcome,
             "last_run": h.last_run, "last_success": h.last_success, "runs": h.runs,
             "mean_yield": round(h.mean_yield, 1), "health": h.state, "stale": h.stale,
             "advice": h.advice} for h in verdicts]
    emit(rows, fmt, ("search", "source", "last_outcome", "last_run", "last_success", "runs",
                     "mean_yield", "health", "stale", "advice"), title="Search health",
         table_columns=("search", "source", "last_outcome", "last_success", "runs", "health",
                        "advice"))
    if view is not None and view.rows and fmt == "table":
        _emit_cluster(view, fmt)
    if any(h.failing for h in verdicts) or (view is not None and view.problem):
        sys.exit(EXIT_UNHEALTHY)


def _emit_cluster(view: Any, fmt: str) -> None:
    from gpuscout.jobs.cluster.status import COLUMNS

    emit(list(view.rows), fmt, COLUMNS, title="Cluster")
    if fmt != "table":
        return
    depth = "unknown (broker not reachable from here)" if view.depth is None else view.depth
    fires = ", ".join(f"{n} {state}" for state, n in sorted(view.fires.items())) or "none"
    click.echo(f"active scheduler: {view.leader or 'NONE'}; workers alive: {view.workers}; "
               f"queue {view.queue}: {depth} waiting; fires: {fires}")
    if view.problem:
        click.echo(f"cluster: {view.problem}")


COMMANDS: list[click.Command] = [scan_cmd, run_cmd, cron_cmd, status_cmd]
