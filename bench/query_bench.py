"""Query: ``deals`` (top 20) on a large stored database with scores, p50/p95 over repeated calls
with varying filters, its query plan, and the peak memory of the process that ran it.

The measuring runs in a fresh process (``python bench/query_bench.py URL``) so its peak RSS is the
query's, not the database build's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import peak_rss_mb, percentile
from bench.synthetic import NOW, WATCH

#: the filter mixes a user gives `gpuscout deals` (max_price in cents)
FILTERS: tuple[dict[str, Any], ...] = (
    {}, {"max_price": 75_000}, {"min_score": 70}, {"source": "ebay"}, {"source": "craigslist"},
    {"since": timedelta(days=1)}, {"since": timedelta(days=7), "max_price": 80_000},
    {"min_score": 50, "source": "reddit"}, {"max_price": 70_000, "min_score": 60},
    {"source": "facebook", "since": timedelta(days=3)},
)


def _kwargs(f: dict[str, Any]) -> dict[str, Any]:
    out = dict(f)
    if "since" in out:
        out["since"] = NOW - out["since"]
    return out


def measure(url: str, rounds: int) -> dict[str, Any]:
    """Time ``deals`` over ``rounds`` passes of every filter mix (after one warm-up pass)."""
    from gpuscout.models.storage.db import make_engine, session_factory
    from gpuscout.models.storage.deals import DealFilter
    from gpuscout.models.storage.queries import deals

    engine = make_engine(url)
    sessions = session_factory(engine)
    times: list[float] = []
    per_filter: dict[str, list[float]] = {}
    with sessions() as session:
        for f in FILTERS:
            deals(session, watch=WATCH, **_kwargs(f))
        for _ in range(rounds):
            for f in FILTERS:
                t0 = time.perf_counter()
                rows = deals(session, watch=WATCH, **_kwargs(f))
                elapsed = time.perf_counter() - t0
                session.expunge_all()
                times.append(elapsed)
                per_filter.setdefault(json.dumps(f, default=str), []).append(elapsed)
                assert len(rows) <= 20
        plans = {json.dumps(f, default=str): _plan(session, DealFilter(WATCH, **_kwargs(f)),
                                                   engine.dialect.name) for f in FILTERS}
    engine.dispose()
    return {
        "calls": len(times),
        "p50_ms": percentile(times, 0.50) * 1000, "p95_ms": percentile(times, 0.95) * 1000,
        "max_ms": max(times) * 1000,
        "slowest_filter": max(per_filter, key=lambda k: max(per_filter[k])),
        "plan": plans[json.dumps({})],
        "plans": plans,
        "peak_rss_mb": peak_rss_mb(),
    }


def _plan(session: Any, f: Any, dialect: str) -> list[str]:
    """The plan of ``deals``' first step for the filter ``f`` (as ``deals`` would choose it)."""
    from gpuscout.models.storage import deals

    sqlite = dialect == "sqlite"
    cur = session.connection().connection.cursor()
    sql, params = deals.chosen_top_ids_sql(cur, f, sqlite=sqlite)
    cur.execute(("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ") + sql, params)
    return [str(r[-1]) for r in cur.fetchall()]


def run(url: str, rounds: int) -> dict[str, Any]:
    """Measure in a fresh process; returns its figures."""
    out = subprocess.run([sys.executable, __file__, url, str(rounds)], capture_output=True,
                         text=True, check=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1], int(sys.argv[2]))))
