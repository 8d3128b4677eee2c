"""The cluster's commands: `worker` (scan what the active scheduler sends)."""

from __future__ import annotations

import click

from gpuscout.jobs.app import App
from gpuscout.jobs.cli.common import pass_app


@click.command("worker")
@click.option("--name", default=None, metavar="NAME",
              help="How this worker is named in `gpuscout status` (default worker@HOST:PID).")
@click.option("--proxy", default=None, metavar="URL",
              help="Send this worker's requests through this proxy (its own egress address); "
                   "default: $GPUSCOUT_WORKER_PROXY (see [cluster] proxy_env), else each "
                   "source's own proxy.")
@pass_app
def worker_cmd(app: App, name: str | None, proxy: str | None) -> None:
    """Scan the searches the active scheduler (`gpuscout run --distributed`) sends, one at a
    time, until Ctrl-C or SIGTERM (the running scan is finished first; a second signal stops at
    once and its search goes to another worker).

    Needs PostgreSQL as the database and the broker in $GPUSCOUT_BROKER_URL; with [fetch]
    pacing = "shared", every worker together keeps each host's interval. Run as many as you
    like, on as many machines: see "Scaling out" in the README."""
    from gpuscout.jobs.cluster.worker import run_worker

    cfg = app.config
    level = "WARNING" if app.verbose <= 0 else "INFO" if app.verbose == 1 else "DEBUG"
    run_worker(cfg, app.engine(), name=name, proxy=proxy or cfg.cluster.proxy, loglevel=level)


COMMANDS: list[click.Command] = [worker_cmd]
