"""Database URLs read without importing SQLAlchemy: the driver choice, and a SQLite URL's file."""

from __future__ import annotations

from pathlib import Path

#: how long a SQLite connection waits for another writer's lock before giving up
BUSY_TIMEOUT_MS = 30_000


def normalize_url(url: str) -> str:
    """Accept plain postgresql:// URLs by choosing the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def hide_password(url: str) -> str:
    """``url`` with the password of its user part (if any) shown as ****."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, tail = rest.partition("/")
    user, at, host = authority.rpartition("@")
    if not at or ":" not in user:
        return url
    return f"{scheme}://{user.partition(':')[0]}:****@{host}{slash}{tail}"


def sqlite_file(url: str) -> Path | None:
    """The file a plain ``sqlite:///path`` URL names (``~`` expanded, relative to the working
    folder as SQLAlchemy reads it); None for other backends, in-memory and ``file:`` URI
    databases, and URLs with options or escapes, which only SQLAlchemy's parser should read."""
    for prefix in ("sqlite:///", "sqlite+pysqlite:///"):
        if url.startswith(prefix):
            rest = url[len(prefix):]
            if not rest or rest == ":memory:" or rest.startswith("file:") or any(
                    c in rest for c in "?%#"):
                return None
            return Path(rest).expanduser()
    return None
