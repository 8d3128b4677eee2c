"""The gpuscout command line: a thin layer that parses options, calls the library, prints.

Heavy modules (SQLAlchemy, httpx, selectolax, rich) are imported inside commands so that
`gpuscout --help` stays fast.
"""

from __future__ import annotations

from typing import Any

import click

from gpuscout.jobs.app import App, setup_logging

EXIT_CONFIG = 2


class GpuscoutGroup(click.Group):
    """Turns the layers' errors into one clear line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        from gpuscout.jobs.errors import ConfigError, DeliveryError, JobError

        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            click.echo(f"gpuscout: configuration error: {exc}", err=True)
            ctx.exit(EXIT_CONFIG)
        except DeliveryError as exc:
            click.echo(f"gpuscout: alert delivery failed ({exc.kind}): {exc}", err=True)
            ctx.exit(1)
        except JobError as exc:
            click.echo(f"gpuscout: {exc}", err=True)
            ctx.exit(1)
        except Exception as exc:
            from gpuscout.models.errors import ModelError

            if isinstance(exc, ModelError):
                click.echo(f"gpuscout: {exc}", err=True)
                ctx.exit(1)
            problem = database_problem(exc, ctx.find_object(App))
            if problem is None:
                raise
            click.echo(f"gpuscout: {problem}", err=True)
            ctx.exit(1)
        finally:
            app = ctx.find_object(App)
            if app is not None:
                app.close()


def database_problem(exc: BaseException, app: App | None) -> str | None:
    """One line for a database driver's error (the server unreachable, a locked or unreadable
    file, a connection lost), None for anything else."""
    import sqlite3
    import sys

    sa = sys.modules.get("sqlalchemy.exc")
    if sa is not None and isinstance(exc, sa.DBAPIError):
        detail = str(exc.orig) if exc.orig is not None else str(exc)
        connect = isinstance(exc, sa.OperationalError | sa.InterfaceError)
    elif isinstance(exc, sqlite3.Error):
        detail, connect = str(exc), isinstance(exc, sqlite3.OperationalError)
    else:
        return None
    first = " ".join(detail.strip().splitlines()[0].split()) if detail.strip() else type(exc).__name__
    where = ""
    if app is not None and "config" in app.__dict__:
        from gpuscout.jobs.config import mask_url

        where = f" {mask_url(app.config.database_url)}"
    if connect:
        return (f"cannot use the database{where}: {first} (check database.url or "
                "GPUSCOUT_DATABASE_URL, and that the database server is running)")
    return f"database error{where}: {first}"


@click.group(cls=GpuscoutGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", metavar="FILE", envvar="GPUSCOUT_CONFIG",
              help="TOML configuration file [env GPUSCOUT_CONFIG; default ./gpuscout.toml, else "
                   "built-in defaults].")
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
@click.version_option(package_name="gpuscout")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: int) -> None:
    """gpuscout watches used-GPU marketplaces (eBay, r/hardwareswap, Craigslist, Facebook
    Marketplace), stores every listing, scores it against what you want to pay, and tells you
    the best deals now, and by email or push notification.

    \b
    First steps:
      gpuscout config init      write a commented gpuscout.toml
      gpuscout doctor           can each search reach its marketplace? what to set up
      gpuscout scan             fetch, score and store listings once
      gpuscout deals            the best deals right now, and why
      gpuscout run              keep scanning on each search's schedule
    """
    setup_logging(verbose)
    ctx.obj = App(config_path=config_path, verbose=verbose)


def _register() -> None:
    from gpuscout.jobs.cli import admin, alerts, cluster, demo, doctor, judge, market, query, scan

    for module in (admin, query, market, scan, cluster, doctor, judge, alerts, demo):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main() -> None:
    cli(prog_name="gpuscout")


if __name__ == "__main__":  # pragma: no cover
    main()
