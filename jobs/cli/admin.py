"""Commands that manage gpuscout itself: `config init|show` and `db upgrade`."""

from __future__ import annotations

from pathlib import Path

import click

from gpuscout.jobs.app import App
from gpuscout.jobs.cli.common import pass_app


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


COMMANDS = [config_group, db_group]
