"""Alembic wiring: upgrade a database to the newest revision, and tell whether it needs one.

Every command upgrades a database that is behind before it uses it, so two commands started at
once on a brand-new database would both create its tables. Upgrades are serialised: a lock file
beside a SQLite database (``<file>.migrate-lock``, an exclusive ``flock``), a session advisory
lock on PostgreSQL (per schema); whoever waited finds the database current and does nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from gpuscout.models.errors import DatabaseError
from gpuscout.models.storage.filelock import exclusive, lock_path

if TYPE_CHECKING:
    from sqlalchemy import Engine

#: tables in the database that gpuscout's models do not own (the scheduler's job store)
FOREIGN_TABLES = frozenset({"apscheduler_jobs"})


def include_name(name: str | None, type_: str, _parent: object) -> bool:
    """Alembic filter: leave tables we don't own out of autogenerate and `alembic check`."""
    return not (type_ == "table" and name in FOREIGN_TABLES)


@cache
def script_location() -> Path:
    """The migration scripts: the top-level alembic/ folder, installed as ``gpuscout.migrations``."""
    from importlib.util import find_spec

    spec = find_spec("gpuscout.migrations")
    if spec is None or not spec.submodule_search_locations:
        raise DatabaseError("migration scripts not found: gpuscout.migrations is not installed")
    return Path(next(iter(spec.submodule_search_locations)))



def alembic_config(url: str) -> object:
    """An alembic Config pointing at our scripts and at ``url`` (imported lazily: alembic is slow)."""
    from alembic.config import Config

    from gpuscout.models.storage.db import normalize_url

    if not script_location().is_dir():
        raise DatabaseError(f"migration scripts not found at {script_location()}")
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location()))
    # NOTE: '%' must be doubled for ConfigParser interpolation (URL-encoded passwords)
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def head_revision() -> str:
    """The newest revision, read from the scripts' text so that every command does not pay for
    importing alembic just to learn the database is current."""
    import re

    revs: dict[str, str | None] = {}
    for path in (script_location() / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        rev = re.search(r"^revision(?:: str)? = ['\"]([^'\"]+)['\"]", text, re.M)
        down = re.search(r"^down_revision(?:: [^=]+)? = (?:['\"]([^'\"]+)['\"]|None)", text, re.M)
        if rev:
            revs[rev.group(1)] = down.group(1) if down else None
    heads = set(revs) - {d for d in revs.values() if d}
    if len(heads) != 1:
        raise DatabaseError(f"expected one migration head, found {sorted(heads) or 'none'}")
    return heads.pop()


def current_revision(engine: Engine) -> str | None:
    from sqlalchemy import inspect

    if not inspect(engine).has_table("alembic_version"):
        return None
    with engine.connect() as conn:
        from sqlalchemy import text

        row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    return None if row is None else str(row[0])


#: advisory lock class of migrations ("gm" in ASCII); the key hashes the schema, as the scan lock
PG_MIGRATE_CLASS = 0x676D


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Hold the database's migration lock for the block, waiting for another holder to finish."""
    if engine.dialect.name == "postgresql":
        from sqlalchemy import text

        key = "hashtext(current_schema() || :name)"
        args = {"c": PG_MIGRATE_CLASS, "name": ":migrate"}
        with engine.connect() as conn:
            conn.execute(text(f"SELECT pg_advisory_lock(:c, {key})"), args)
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text(f"SELECT pg_advisory_unlock(:c, {key})"), args)
                conn.commit()
        return
    with exclusive(sqlite_lock_path(engine)):
        yield


def sqlite_lock_path(engine: Engine) -> Path | None:
    """``<database file>.migrate-lock`` for a SQLite file, None for memory databases."""
    if engine.dialect.name != "sqlite":
        return None
    return lock_path(engine.url.database or "")


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` using ``engine``'s connection, holding the migration
    lock."""
    with migration_lock(engine):
        _upgrade(engine, revision)


def _upgrade(engine: Engine, revision: str) -> None:
    from alembic.config import Config

    from alembic import command

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    assert isinstance(cfg, Config)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    except Exception as exc:  # alembic and drivers raise many types; convert at the edge
        raise DatabaseError(f"database migration failed: {exc}") from exc


def ensure_current(engine: Engine) -> bool:
    """Upgrade when the database is behind head; True when an upgrade ran. Cheap when current."""
    if current_revision(engine) == head_revision():
        return False
    with migration_lock(engine):
        if current_revision(engine) == head_revision():
            return False  # another command upgraded it while this one waited
        _upgrade(engine, "head")
    return True
