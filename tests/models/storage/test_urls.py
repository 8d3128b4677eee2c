"""SQLite file URLs read without SQLAlchemy agree with SQLAlchemy's reading, or give way to it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from gpuscout.models.storage.urls import normalize_url, sqlite_file


@pytest.mark.parametrize("url", ["sqlite:///gpuscout.db", "sqlite:////var/lib/g/gpuscout.db",
                                 "sqlite+pysqlite:///data/x.db", "sqlite:///./a b.db"])
def test_plain_files_read_as_sqlalchemy_reads_them(url: str) -> None:
    assert sqlite_file(url) == Path(str(make_url(url).database))


def test_home_is_expanded() -> None:
    assert sqlite_file("sqlite:///~/g.db") == Path.home() / "g.db"


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "sqlite:///file:x.db?mode=ro&uri=true",
                                 "sqlite:///x.db?timeout=5", "sqlite:///a%20b.db",
                                 "postgresql://u@h/db", "mysql://x"])
def test_anything_else_is_left_to_sqlalchemy(url: str) -> None:
    assert sqlite_file(url) is None


def test_postgres_urls_choose_psycopg() -> None:
    assert normalize_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalize_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"
