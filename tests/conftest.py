"""Shared test fixtures: where the real captures live, and (below) databases and local servers."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def fixtures_root() -> Path:
    """The real marketplace captures: $GPUSCOUT_FIXTURES, else ../shared/fixtures beside the repo."""
    env = os.environ.get("GPUSCOUT_FIXTURES")
    return Path(env) if env else (REPO_ROOT.parent / "shared" / "fixtures")


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    root = fixtures_root()
    if not root.is_dir():
        pytest.fail(f"real captures not found at {root}; set GPUSCOUT_FIXTURES to their folder")
    return root


@pytest.fixture(scope="session")
def read_fixture(fixtures_dir: Path) -> Callable[[str], bytes]:
    """read_fixture("ebay-html/search-scard-uk-2025-08.html") -> the capture's bytes."""

    def _read(relative: str) -> bytes:
        return (fixtures_dir / relative).read_bytes()

    return _read


# --------------------------------------------------------------------------- databases

PG_ENV = "GPUSCOUT_TEST_DATABASE_URL"


def _pg_schema_url(base: str, schema: str) -> str:
    from urllib.parse import quote

    from models.db import normalize_url

    sep = "&" if "?" in base else "?"
    return f"{normalize_url(base)}{sep}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """A fresh, empty database URL: SQLite always; PostgreSQL (a throw-away schema) when
    $GPUSCOUT_TEST_DATABASE_URL is set."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gpuscout.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} not set")
    import uuid

    from sqlalchemy import create_engine, text

    from models.db import normalize_url

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalize_url(base))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _pg_schema_url(base, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(db_url: str) -> Any:
    """A migrated engine on the database under test."""
    from models.db import make_engine
    from models.migrate import upgrade

    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine: Any) -> Any:
    from models.db import session_factory

    return session_factory(engine)
