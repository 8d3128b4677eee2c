"""Commands that manage gpuscout itself: `config init|show` and `db upgrade|copy`."""

from __future__ import annotations

from pathlib import Path

import click

from gpuscout.jobs.app import App
from gpuscout.jobs.cli.common import pass_app
from gpuscout.jobs.cli.output import emit, format_option


@click.group("config")
def config_group() -> None:
    """Write or inspect the configuration file."""


@config_group.command("init")
@click.option("--path", "path", default=None, type=click.Path(dir_okay=False),
              help="Where to write the starter file [default: --config or $GPUSCOUT_CONFIG, else "
                   "./gpuscout.toml]. Missing folders are created.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@pass_app
def config_init(app: App, path: str | None, force: bool) -> None:
    """Write a commented starter configuration (RTX 3090 FE at $650-$800)."""
    from gpuscout.jobs.config.schema import CONFIG_FILE
    from gpuscout.jobs.config.starter import starter_toml

    target = Path(path or app.config_path or CONFIG_FILE)
    if target.exists() and not force:
        raise click.ClickException(f"{target} exists; use --force to overwrite it")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(starter_toml(), encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {target}: {exc.strerror or exc}") from None
    click.echo(f"wrote {target}; edit it, then run: gpuscout scan")


@config_group.command("show")
@click.option("--format", "fmt", type=click.Choice(["toml", "json"]), default="toml",
              show_default=True, help="Output format.")
@pass_app
def config_show(app: App, fmt: str) -> None:
    """Print the effective configuration (file + defaults + environment), secrets masked."""
    from gpuscout.jobs.config.show import render

    click.echo(render(app.config, fmt), nl=False)


@click.group("db")
def db_group() -> None:
    """Database maintenance."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@pass_app
def db_upgrade(app: App, revision: str) -> None:
    """Create or migrate the database to the current schema."""
    from gpuscout.jobs.config import mask_url
    from gpuscout.models.storage.migrate import current_revision, upgrade

    engine = app.engine(migrate=False)
    before = current_revision(engine)
    upgrade(engine, revision)
    after = current_revision(engine)
    url = mask_url(app.config.database_url)
    if before == after:
        click.echo(f"{url}: already at revision {after}")
    else:
        click.echo(f"{url}: upgraded {before or 'empty database'} -> {after}")


@db_group.command("copy")
@click.argument("target_url", metavar="TARGET_URL")
@format_option(choices=("table", "json"))
@pass_app
def db_copy(app: App, target_url: str, fmt: str) -> None:
    """Copy this database, with all its history, into the empty database at TARGET_URL: how
    one machine's SQLite file moves to the PostgreSQL database of a cluster.

    \b
    gpuscout db copy postgresql://gpuscout@db1/gpuscout
    (put the password in PGPASSWORD or ~/.pgpass rather than in the URL)

    The target is created or migrated first and must hold no data; the copy is written in one
    transaction (stopped half-way, it leaves the target empty) while holding this database's
    scan lock (stop `gpuscout run` first: no scan may run during the copy). This database is
    left as it is; point [database] url (or GPUSCOUT_DATABASE_URL) at the target to use it.
    """
    from datetime import UTC, datetime

    from gpuscout.jobs.config import mask_url
    from gpuscout.models.storage.db import make_engine
    from gpuscout.models.storage.transfer import copy_database

    source = app.engine()
    target = make_engine(target_url)
    where = mask_url(target_url)
    click.echo(f"copying {mask_url(app.config.database_url)} into {where} ...", err=True)
    shown: dict[str, int] = {}

    def progress(table: str, rows: int) -> None:
        # NOTE: a line per table and per 100,000 rows: a long copy shows that it moves
        if table not in shown or rows - shown[table] >= 100_000:
            shown[table] = rows
            click.echo(f"  {table}: {rows:,} rows", err=True)

    try:
        copied = copy_database(source, target, now=datetime.now(UTC), progress=progress)
    finally:
        target.dispose()
    emit([{"table": c.table, "rows": c.rows} for c in copied], fmt, ("table", "rows"),
         title=f"copied into {where}")
    click.echo(f"done: {sum(c.rows for c in copied):,} rows; set [database] url (or "
               f"GPUSCOUT_DATABASE_URL) to {where} to use the copy", err=True)


COMMANDS = [config_group, db_group]
