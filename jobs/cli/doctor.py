"""`gpuscout doctor`: can each configured search reach its marketplace, and what to do if not."""

from __future__ import annotations

import sys

import click

from gpuscout.jobs.app import App
from gpuscout.jobs.cli.common import pass_app
from gpuscout.jobs.cli.output import emit, format_option

EXIT_CANNOT_WORK = 1
_MARK = {"ok": "ok", "warn": "WARN", "fail": "FAIL", "skip": "-"}


@click.command("doctor")
@click.option("--search", "only", metavar="NAME", multiple=True,
              help="Check only this search; repeat for several (default: all).")
@click.option("--timeout", type=click.FloatRange(0.5, 60), default=5.0, show_default=True,
              help="Seconds each network step may take.")
@format_option()
@pass_app
def doctor_cmd(app: App, only: tuple[str, ...], timeout: float, fmt: str) -> None:
    """Check that each search can work: its route and the keys it needs, DNS and connection,
    the robots.txt verdict (web pages), the API token (APIs), and one real query; then the
    alert channels, and, when a broker is set or pacing is shared, what a cluster shares (a
    PostgreSQL database, the broker, the Redis of the shared pacing). Every failure says what
    to do.

    \\b
    Exit codes: 0 every search can work (WARN lines say what would make one better);
    1 some search cannot work (a FAIL line: offline, or a cluster's broker or Redis out of
    reach); 2 the configuration is invalid.
    """
    import asyncio

    from gpuscout.jobs.doctor import channel_checks, check_all, cluster_checks

    cfg = app.config
    searches = [cfg.search(n) for n in only] if only else list(cfg.searches)
    reports = asyncio.run(check_all(cfg, searches, timeout=timeout))
    channels = channel_checks(cfg)
    cluster = cluster_checks(cfg, timeout=timeout)
    rows = [{"search": r.search, "source": r.source, "step": c.step, "result": _MARK[c.status],
             "detail": c.detail, "advice": c.advice} for r in reports for c in r.checks]
    rows += [{"search": "(alerts)", "source": "", "step": c.step, "result": _MARK[c.status],
              "detail": c.detail, "advice": c.advice} for c in channels]
    rows += [{"search": "(cluster)", "source": "", "step": c.step, "result": _MARK[c.status],
              "detail": c.detail, "advice": c.advice} for c in cluster]
    emit(rows, fmt, ("search", "source", "step", "result", "detail", "advice"),
         title="gpuscout doctor")
    if fmt == "table":
        resolved = any(c.step == "dns" and c.status == "ok" for r in reports for c in r.checks)
        if any(r.offline for r in reports) and not resolved:
            click.echo("offline: no marketplace host resolves; check this machine's network "
                       "connection and DNS, then run `gpuscout doctor` again", err=True)
        for r in reports:
            verdict = "can work" if r.works else "CANNOT work"
            click.echo(f"{r.search} ({r.route}): {verdict}", err=True)
        if any(c.status == "fail" for c in cluster):
            click.echo("cluster: CANNOT work (see the (cluster) lines)", err=True)
    if any(not r.works for r in reports) or any(c.status == "fail" for c in cluster):
        sys.exit(EXIT_CANNOT_WORK)


COMMANDS: list[click.Command] = [doctor_cmd]
