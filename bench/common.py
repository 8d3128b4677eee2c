"""Shared benchmark helpers: where the captures and labels are, timers, percentiles, throw-away
databases."""

from __future__ import annotations

import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]


FIXTURES_ENV = "GPUSCOUT_FIXTURES"
LABELS_ENV = "GPUSCOUT_LABELS"


def shared_root(variable: str, name: str) -> Path:
    """A folder of real data kept outside the repository: ``$variable`` when set, else
    ``../shared/<name>`` beside the repository root (wherever the command runs from)."""
    env = os.environ.get(variable)
    return Path(env) if env else REPO_ROOT.parent / "shared" / name


def fixtures_root() -> Path:
    """The real marketplace captures: $GPUSCOUT_FIXTURES, else ../shared/fixtures beside the repo."""
    return shared_root(FIXTURES_ENV, "fixtures")


def labels_root() -> Path:
    """The labelled titles: $GPUSCOUT_LABELS, else ../shared/labels beside the repo."""
    return shared_root(LABELS_ENV, "labels")


def best_of(fn: Callable[[], Any], *, repeat: int, min_time: float = 0.0) -> float:
    """The fastest of ``repeat`` calls (seconds); keeps going until ``min_time`` has passed."""
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < repeat or time.perf_counter() - started < min_time:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if len(times) >= repeat * 20:
            break
    return min(times)


def peak_rss_mb() -> float:
    """This process's peak resident memory (MB) since it started its program.

    NOTE: on Linux ``getrusage``'s ``ru_maxrss`` survives ``exec``: a child started by a large
    parent reports the parent's size. ``VmHWM`` belongs to the process's own address space.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0-1) of ``values``, interpolated."""
    if len(values) == 1:
        return values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[max(0, min(98, round(q * 100) - 1))]


def pg_schema_url(base: str, schema: str) -> str:
    from urllib.parse import quote

    from gpuscout.models.storage.db import normalize_url

    sep = "&" if "?" in base else "?"
    return f"{normalize_url(base)}{sep}options={quote(f'-csearch_path={schema}')}"


@contextmanager
def pg_database(base: str, *, prefix: str = "bench_") -> Iterator[str]:
    """A throw-away schema on the PostgreSQL server at ``base``; yields its URL (the tests' own
    PostgreSQL databases are made here too)."""
    from sqlalchemy import create_engine, text

    from gpuscout.models.storage.db import normalize_url

    schema = f"{prefix}{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalize_url(base))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield pg_schema_url(base, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
