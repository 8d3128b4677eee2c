"""Migrations create the schema on each backend and match the models exactly."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import gpuscout.models.storage.tables.alerts
import gpuscout.models.storage.tables.listings
import gpuscout.models.storage.tables.runs  # noqa: F401
from gpuscout.models.storage.migrate import current_revision, ensure_current, head_revision, include_name
from gpuscout.models.storage.tables.base import Base


def test_upgrade_creates_every_table(engine: Any) -> None:
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert current_revision(engine) == head_revision()


def test_no_drift_between_models_and_migrations(engine: Any) -> None:
    """What `alembic check` does: autogenerate finds nothing to change."""
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": include_name})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_ensure_current_is_idempotent(engine: Any) -> None:
    assert ensure_current(engine) is False


def test_sqlite_pragmas(tmp_path: Any) -> None:
    from sqlalchemy import text

    from gpuscout.models.storage.db import make_engine

    eng = make_engine(f"sqlite:///{tmp_path / 'x' / 'p.db'}")
    with eng.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000
    eng.dispose()


def test_head_revision_read_from_text_matches_alembic() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from gpuscout.models.storage.migrate import alembic_config

    cfg = alembic_config("sqlite://")
    assert isinstance(cfg, Config)
    assert head_revision() == ScriptDirectory.from_config(cfg).get_current_head()


def test_0002_copies_listing_columns_into_existing_scores(db_url: str) -> None:
    """A database scored before the copies existed gets them filled from its listings."""
    from sqlalchemy import text

    from gpuscout.models.storage.db import make_engine
    from gpuscout.models.storage.migrate import upgrade

    eng = make_engine(db_url)
    try:
        upgrade(eng, "0001")
        with eng.begin() as conn:
            conn.execute(text(
                "INSERT INTO listings (id, source, external_id, url, title, buying_format, status, "
                "first_seen, last_seen, quantity) VALUES (7, 'reddit', 'abc', 'u', 't', 'fixed', "
                "'gone', '2025-01-02 03:04:05', '2025-01-03 00:00:00', 1)"))
            conn.execute(text(
                "INSERT INTO scores (listing_id, watch, version, total, fits, price_points, "
                "condition_points, risk_points, components, flags, reasons, reference, computed_at) "
                "VALUES (7, 'w', 1, 80, true, 40, 20, 20, '{}', '[]', '[]', 'null', "
                "'2025-01-03 00:00:00')"))
        upgrade(eng)
        with eng.connect() as conn:
            row = conn.execute(text("SELECT status, source, first_seen FROM scores")).one()
        assert (row[0], row[1]) == ("gone", "reddit")
        assert str(row[2]).startswith("2025-01-02 03:04:05")
    finally:
        eng.dispose()


def test_0003_keeps_scores_and_adds_the_auction_and_item_columns(db_url: str) -> None:
    """Listings gain their columns in place: no rebuild that would cascade into their scores."""
    from sqlalchemy import text

    from gpuscout.models.storage.db import make_engine
    from gpuscout.models.storage.migrate import upgrade

    eng = make_engine(db_url)
    try:
        upgrade(eng, "0002")
        with eng.begin() as conn:
            conn.execute(text(
                "INSERT INTO listings (id, source, external_id, url, title, buying_format, status, "
                "first_seen, last_seen, quantity) VALUES (7, 'ebay', '123', 'u', 't', 'auction', "
                "'active', '2025-01-02 03:04:05', '2025-01-03 00:00:00', 1)"))
            conn.execute(text(
                "INSERT INTO scores (listing_id, watch, version, total, fits, price_points, "
                "condition_points, risk_points, components, flags, reasons, reference, computed_at, "
                "status, source, first_seen) VALUES (7, 'w', 1, 80, true, 40, 20, 20, '{}', '[]', "
                "'[]', 'null', '2025-01-03 00:00:00', 'active', 'ebay', '2025-01-02 03:04:05')"))
        upgrade(eng)
        with eng.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM scores")).scalar() == 1
            row = conn.execute(text("SELECT ends_at, price_each, items FROM listings")).one()
        assert (row[0], bool(row[1]), row[2]) == (None, False, None)
    finally:
        eng.dispose()


def test_commands_racing_on_a_new_database_migrate_it_once(db_url: str) -> None:
    """Four processes open one brand-new database at the same moment and each brings it to the
    newest schema, as every command does first: none fails ("table already exists")."""
    from gpuscout.models.storage.db import make_engine
    from gpuscout.models.storage.migrate import sqlite_lock_path
    from tests.support.race import race

    codes, errors = race(db_url)
    assert errors == [] and codes == [0, 0, 0, 0], "\n".join(errors)
    engine = make_engine(db_url)
    try:
        assert current_revision(engine) == head_revision()
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            from sqlalchemy import text

            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
        lock = sqlite_lock_path(engine)
        if engine.dialect.name == "sqlite":
            assert lock is not None and lock.name == "gpuscout.db.migrate-lock"
            assert lock.stat().st_mode & 0o777 == 0o600
    finally:
        engine.dispose()


def test_processes_opening_a_new_sqlite_file_at_once_all_get_it(tmp_path: Any) -> None:
    """The first connections to a new SQLite file switch it to WAL; two doing so at once used to
    fail at once with "database is locked" (SQLite does not wait there). Forty rounds of four
    processes opening a fresh file at one moment: none fails, each file ends in WAL."""
    import sqlite3

    from tests.support.race import race_open

    paths = [str(tmp_path / f"new-{n}.db") for n in range(40)]
    codes, errors = race_open(paths)
    assert errors == [] and codes == [0, 0, 0, 0], "\n".join(errors[:2])
    for path in paths:
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
