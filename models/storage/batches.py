"""Long lists cut into batches: ids for one ``IN (...)`` query each, rows for one statement."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

#: ids in one ``IN (...)`` list: under SQLite's 999 bound parameters, with room for a few more
IN_CHUNK = 900

T = TypeVar("T")


def chunks(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size``."""
    for i in range(0, len(items), size):
        yield items[i:i + size]
