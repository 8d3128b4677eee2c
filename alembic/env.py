"""Alembic environment: the URL comes from gpuscout's configuration (or a passed connection)."""

from __future__ import annotations

from sqlalchemy import Connection, engine_from_config, pool

from alembic import context
from gpuscout.models.storage.migrate import include_name
from gpuscout.models.storage.tables import Base  # NOTE: the package import registers every table

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    # `alembic` run by hand from the repo root: use gpuscout's configured database
    from gpuscout.jobs.config import load_config
    from gpuscout.models.storage.db import normalize_url

    return normalize_url(load_config().database_url)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_name=include_name,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = engine_from_config({"sqlalchemy.url": _url()}, prefix="sqlalchemy.",
                                poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)
        conn.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
