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


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://bob:s3cret@db.example:5432/gpu", "postgresql://bob:****@db.example:5432/gpu"),
    ("postgresql://bob:p@ss@db.example/gpu", "postgresql://bob:****@db.example/gpu"),
    ("postgresql://bob@db.example/gpu", "postgresql://bob@db.example/gpu"),
    ("sqlite:///gpuscout.db", "sqlite:///gpuscout.db"),
])
def test_hide_password(url: str, shown: str) -> None:
    from gpuscout.models.storage.urls import hide_password

    assert hide_password(url) == shown


def test_an_invalid_url_error_shows_no_password() -> None:
    from gpuscout.models.errors import DatabaseError
    from gpuscout.models.storage.db import make_engine

    with pytest.raises(DatabaseError) as caught:
        make_engine("postgresql://bob:s3cret@db.example:notaport/gpu")
    assert "s3cret" not in str(caught.value) and "bob:****@" in str(caught.value)
