"""gpuscout benchmarks: ``python bench/run.py [--quick] [--json PATH] [--pg URL]``.

Parse, ingest, query, CLI start-up and end-to-end scan figures, each a ratio or measured beside
its baseline in the same run, the judge's agreement with a careful buyer on the development
listings, the market reference's error over a replayed year and the time from a post to its
alert (``time_to_alert``, scaled back from a faster clock); prints a table (figure, target,
pass/fail) and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

DEFAULT_JSON = REPO_ROOT / "bench" / "results" / "latest.json"
PG_ENV = "GPUSCOUT_TEST_DATABASE_URL"


@dataclass(frozen=True)
class Sizes:
    parse_repeat: int
    ingest: int
    query_db: int
    query_rounds: int
    cli_db: int
    cli_runs: int
    e2e_pages: int
    #: the replayed market: its days and a factor on its daily rates; the database `market` runs on
    market_days: int = 364
    market_scale: float = 1.0
    market_db: int = 1_000_000
    #: time_to_alert: the speed factor, the seconds new posts appear over, and how many on
    #: (reddit, ebay, craigslist)
    tta_speed: float = 10.0
    tta_window: float = 480.0
    tta_posts: tuple[int, int, int] = (40, 24, 16)
    #: scale: searches per worker in each phase (1, 2 and 4 workers)
    scale_per_worker: int = 10


FULL = Sizes(parse_repeat=20, ingest=100_000, query_db=1_000_000, query_rounds=20,
             cli_db=100_000, cli_runs=7, e2e_pages=200)
QUICK = Sizes(parse_repeat=5, ingest=20_000, query_db=100_000, query_rounds=5, cli_db=100_000,
              cli_runs=3, e2e_pages=30, market_db=100_000, tta_speed=20.0, tta_window=120.0,
              tta_posts=(14, 8, 6), scale_per_worker=5)
TINY = Sizes(parse_repeat=1, ingest=300, query_db=2_000, query_rounds=1, cli_db=2_000, cli_runs=1,
             e2e_pages=3, market_days=28, market_scale=0.4, market_db=2_000, tta_speed=60.0,
             tta_window=10.0, tta_posts=(3, 1, 0), scale_per_worker=1)


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    op: str  # ">=" or "<="
    value: float
    unit: str


TARGETS = (
    Target("parse.ratio_vs_bs4", "parse: speed vs BeautifulSoup+lxml (worst source)", ">=", 15, "x"),
    Target("parse.ratio_vs_floor", "parse: time vs bare page parse (worst source)", "<=", 1.5, "x"),
    Target("ingest.listings_per_s", "ingest: upsert_listings, slower of insert/re-ingest", ">=",
           100_000, "/s"),
    Target("ingest.fraction_of_floor", "ingest: share of the bare executemany upsert", ">=",
           1 / 3, "x"),
    Target("query.p95_ms", "query: deals top 20, p95", "<=", 5, "ms"),
    Target("query.peak_rss_mb", "query: peak RSS of the querying process", "<=", 200, "MB"),
    Target("cli.help_s", "cli: gpuscout --help (median)", "<=", 0.25, "s"),
    Target("cli.deals_s", "cli: gpuscout deals (median)", "<=", 0.5, "s"),
    Target("e2e.cpu_per_page_vs_parse", "e2e: scan CPU per page vs its parse time", "<=", 2, "x"),
    Target("judge.fully_correct_pct", "judge: dev listings read fully correct", ">=", 95, "%"),
    Target("judge.pairwise_pct", "judge: pairwise order A > B > C", ">=", 95, "%"),
    Target("judge.c_at_or_above_70", "judge: poor/risky (C) listings scoring 70+", "<=", 0, ""),
    Target("judge.c_in_top10", "judge: C listings in the top 10", "<=", 0, ""),
    Target("market.median_abs_error", "market: reference's median error after week 1", "<=",
           0.05, ""),
    Target("market.vs_best_baseline", "market: its error / the better of band and naive", "<=",
           1, "x"),
    Target("market.command_s", "market: gpuscout market (median)", "<=", 0.5, "s"),
    Target("time_to_alert.reddit.p95_s", "time to alert: reddit (API, every 60 s), p95", "<=", 90,
           "s"),
    Target("time_to_alert.ebay.p95_s", "time to alert: ebay (API, every 10 min), p95", "<=", 660,
           "s"),
    # NOTE: what the default intervals imply: one poll a minute (tokens last a day), six an hour
    # (and a token each two hours), four an hour (and robots.txt once a day)
    Target("time_to_alert.reddit.requests_per_hour", "requests/hour: reddit", "<=", 61, "/h"),
    Target("time_to_alert.ebay.requests_per_hour", "requests/hour: ebay", "<=", 6.5, "/h"),
    Target("time_to_alert.craigslist.requests_per_hour", "requests/hour: craigslist", "<=", 4.1,
           "/h"),
    Target("scale.speedup_2", "scale: searches/min, 2 workers vs 1", ">=", 1.8, "x"),
    Target("scale.speedup_4", "scale: searches/min, 4 workers vs 1", ">=", 3.2, "x"),
    Target("scale.min_gap_ratio", "scale: least gap at a host / its interval", ">=", 1, "x"),
    Target("scale.redelivery_s", "scale: killed worker to its scan done elsewhere", "<=", 30,
           "s"),
)


def lookup(results: dict[str, Any], key: str) -> Any:
    node: Any = results
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def verdict(target: Target, value: float | None) -> str:
    if value is None:
        return "n/a"
    ok = value >= target.value if target.op == ">=" else value <= target.value
    return "pass" if ok else "FAIL"


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    return str(value)


def table(results: dict[str, Any]) -> str:
    """The figures with their targets, one line each, then the details that explain them."""
    lines = [f"{'figure':<55} {'value':>12}  {'target':>12}  result", "-" * 90]
    for t in TARGETS:
        value = lookup(results, t.key)
        target = f"{t.op} {_fmt(float(t.value))}{t.unit}"
        lines.append(f"{t.label:<55} {_fmt(value):>12}  {target:>12}  {verdict(t, value)}")
    lines.append("")
    for name in ("parse", "ingest", "query", "cli", "e2e", "judge", "market", "time_to_alert",
                 "scale"):
        if "error" in (results.get(name) or {}):
            lines.append(f"  {name} failed: {results[name]['error'].splitlines()[0]}")
            results = {**results, name: {}}
    parse = results.get("parse") or {}
    for name, agg in (parse.get("sources") or {}).items():
        bs4 = f", {agg['ratio_vs_bs4']:.1f}x BeautifulSoup" if "ratio_vs_bs4" in agg else ""
        lines.append(f"  parse {name:<16} {agg['listings_per_s']:>9,.0f} listings/s, "
                     f"{agg['ratio_vs_floor']:.2f}x its floor{bs4}")
    ingest = results.get("ingest") or {}
    if ingest:
        lines.append(f"  ingest {ingest['n']:,}: insert {ingest['insert_per_s']:,.0f}/s, re-ingest "
                     f"{ingest['reingest_per_s']:,.0f}/s; bare executemany upsert "
                     f"{ingest['floor_insert_per_s']:,.0f}/s and "
                     f"{ingest['floor_reingest_per_s']:,.0f}/s")
        if "pg_insert_per_s" in ingest:
            lines.append(f"  ingest PostgreSQL: insert {ingest['pg_insert_per_s']:,.0f}/s, "
                         f"re-ingest {ingest['pg_reingest_per_s']:,.0f}/s")
    query = results.get("query") or {}
    if "p95_ms" in query:
        lines.append(f"  query {query['listings']:,} listings: p50 {query['p50_ms']:.2f} ms, "
                     f"p95 {query['p95_ms']:.2f} ms, max {query['max_ms']:.1f} ms "
                     f"({query['slowest_filter']})")
        lines.append(f"  query plan: {' / '.join(query['plan'])}")
        if "p95_ms" in query.get("pg", {}):
            pg = query["pg"]
            lines.append(f"  query PostgreSQL: p50 {pg['p50_ms']:.2f} ms, p95 {pg['p95_ms']:.2f} ms")
    cli = results.get("cli") or {}
    if cli:
        lines.append(f"  cli: python -c pass {cli['python']['median_s']:.3f} s; --help "
                     f"{cli['help']['median_s']:.3f} s; deals {cli['deals']['median_s']:.3f} s "
                     f"(best {cli['deals']['best_s']:.3f} s)")
    e2e = results.get("e2e") or {}
    if e2e:
        lines.append(f"  e2e {e2e['pages']} pages, {e2e['listings']:,} listings: "
                     f"{e2e['pages_per_s']:.1f} pages/s, {e2e['cpu_ms_per_page']:.1f} ms CPU/page "
                     f"(parse {e2e['parse_ms_per_page']:.1f} ms, fetch alone "
                     f"{e2e['fetch_ms_per_page']:.1f} ms), start-up "
                     f"{e2e['startup_cpu_s'] * 1000:.0f} ms CPU once, peak RSS "
                     f"{e2e['peak_rss_mb']:.0f} MB")
    judge = results.get("judge") or {}
    if judge:
        lines.append(f"  judge {judge['listings']} dev listings; top 10: {', '.join(judge['top10'])}; "
                     f"identify + score {judge['speed']['us_per_listing']:.0f} µs per captured "
                     f"listing ({judge['speed']['listings']})")
    market = results.get("market") or {}
    if market:
        lines.append(f"  market {market['year']}, {market['simulated_listings']:,} listings: median "
                     f"error {market['median_abs_error']:.1%} (band midpoint "
                     f"{market['band_median_abs_error']:.1%}, naive median "
                     f"{market['naive_median_abs_error']:.1%}, the former 50/50 blend "
                     f"{market['old_blend_median_abs_error']:.1%}); p90 "
                     f"{market['p90_abs_error']:.1%}")
        if "command" in market:
            c = market["command"]
            lines.append(f"  market command on {c['listings']:,} listings "
                         f"({market['market_prices']:,} market prices): median "
                         f"{c['median_s']:.3f} s, best {c['best_s']:.3f} s")
    tta = results.get("time_to_alert") or {}
    if tta:
        lines.append(f"  time to alert (speed factor {tta['speed_factor']:g}; {tta['scaling']}):")
        for source in ("reddit", "ebay", "craigslist"):
            f = tta.get(source) or {}
            if "p95_s" in f:
                lines.append(
                    f"    {source:<10} every {f['interval_s']:g} s: {f['alerted']}/{f['posts']} "
                    f"posts alerted, p50 {f['p50_s']:.0f} s, p95 {f['p95_s']:.0f} s (email p95 "
                    f"{f['email']['p95_s']:.0f} s, push p95 {f['push']['p95_s']:.0f} s; wall "
                    f"p95 {f['raw_p95_s']:.2f} s); {f['requests_per_hour']} requests/hour")
        lines.append(f"    start scan's digest after {tta['first_digest_s']} s; SIGTERM "
                     f"stopped `gpuscout run` in {tta['stop_s']} s (exit {tta['exit_code']})")
    scale = results.get("scale") or {}
    if "phases" in scale:
        lines.append(f"  scale: {scale['hosts']} hosts ({scale['split']}), {scale['interval_s']:g} s "
                     f"per host, robots.txt and 3 pages per search; {scale['requests']} requests, "
                     f"least gap {scale['min_gap_s']:.3f} s")
        for p in scale["phases"]:
            lines.append(f"    {p['workers']} worker(s): {p['searches']} searches in "
                         f"{p['elapsed_s']:.1f} s = {p['per_minute']:.1f}/min; worker CPU "
                         f"{p['worker_cpu_s']:.1f} s ({p['cpu_share']:.0%} of their wall time)")
        r = scale["redelivery"]
        lines.append(f"    redelivery: {r['seconds']:.1f} s from kill -9 of {r['killed']} to "
                     f"{r['outcome']} by {r['completed_by']} (visibility timeout "
                     f"{r['visibility_timeout_s']:g} s, sweep every {r['restore_interval_s']:g} s)")
    return "\n".join(lines)


def _timed(label: str, fn: Callable[[], Any]) -> Any:
    """``fn()``, timed; a failure is recorded as {"error": ...} so the other figures still count."""
    t0 = time.perf_counter()
    print(f"{label} ...", file=sys.stderr, flush=True)
    try:
        out = fn()
    except Exception as exc:
        print(f"{label} FAILED: {exc}", file=sys.stderr, flush=True)
        return {"error": f"{type(exc).__name__}: {exc}"}
    print(f"{label} done in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    return out


def run(sizes: Sizes, *, pg_url: str | None, only: set[str] | None,
        fixtures: Path | None = None) -> dict[str, Any]:
    from bench import (
        cli_bench,
        e2e_bench,
        ingest_bench,
        judge_bench,
        market_bench,
        parse_bench,
        query_bench,
    )
    from bench.synthetic import fill_database

    def wanted(name: str) -> bool:
        return only is None or name in only

    results: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
                    "cpus": os.cpu_count(), "platform": platform.platform()},
        "sizes": sizes.__dict__,
    }
    if wanted("parse"):
        results["parse"] = _timed("parse", lambda: parse_bench.run(
            repeat=sizes.parse_repeat, min_time=0.05 * sizes.parse_repeat, root=fixtures))
    if wanted("ingest"):
        results["ingest"] = _timed("ingest", lambda: ingest_bench.run(sizes.ingest, pg_url))
    with tempfile.TemporaryDirectory(prefix="gpuscout-bench-") as tmp:
        small = f"sqlite:///{Path(tmp) / 'small.db'}"
        if wanted("query") or wanted("cli"):
            _timed(f"build {sizes.cli_db:,}-listing database",
                   lambda: fill_database(small, sizes.cli_db))
        if wanted("query"):
            big = small
            if sizes.query_db != sizes.cli_db:
                big = f"sqlite:///{Path(tmp) / 'big.db'}"
                _timed(f"build {sizes.query_db:,}-listing database",
                       lambda: fill_database(big, sizes.query_db))
            query = _timed("query", lambda: query_bench.run(big, sizes.query_rounds))
            if "error" not in query:
                query["listings"] = sizes.query_db
            if pg_url:
                from bench.common import pg_database

                with pg_database(pg_url) as url:
                    _timed("build the PostgreSQL database",
                           lambda: fill_database(url, sizes.query_db))
                    query["pg"] = _timed("query PostgreSQL",
                                         lambda: query_bench.run(url, sizes.query_rounds))
            results["query"] = query
        if wanted("cli"):
            results["cli"] = _timed("cli", lambda: cli_bench.run(small, sizes.cli_runs))
        if wanted("market"):
            # NOTE: the last user of the databases: it adds the market prices of their listings
            sizes_built = {sizes.cli_db: small} if wanted("query") or wanted("cli") else {}
            if wanted("query"):
                sizes_built[sizes.query_db] = big
            market_db = sizes_built.get(sizes.market_db)
            if market_db is None:
                market_db = f"sqlite:///{Path(tmp) / 'market.db'}"
                _timed(f"build {sizes.market_db:,}-listing database",
                       lambda: fill_database(market_db, sizes.market_db))
            results["market"] = _timed("market", lambda: _market(market_bench, sizes, market_db))
    if wanted("e2e"):
        results["e2e"] = _timed("e2e", lambda: e2e_bench.run(sizes.e2e_pages, fixtures))
    if wanted("judge"):
        results["judge"] = _timed("judge", lambda: judge_bench.run(repeat=sizes.parse_repeat))
    if wanted("time_to_alert"):
        from bench.time_to_alert import Plan
        from bench.time_to_alert import run as time_to_alert

        reddit, ebay, craigslist = sizes.tta_posts
        plan = Plan(speed=sizes.tta_speed, window=sizes.tta_window,
                    posts={"reddit": reddit, "ebay": ebay, "craigslist": craigslist})
        results["time_to_alert"] = _timed("time_to_alert", lambda: time_to_alert(plan))
    if wanted("scale"):
        from bench import scale_bench

        results["scale"] = _timed("scale", lambda: scale_bench.run(
            scale_bench.ScaleSizes(per_worker=sizes.scale_per_worker), pg_url))
    results["verdicts"] = {t.key: verdict(t, lookup(results, t.key)) for t in TARGETS}
    return results


def _market(module: Any, sizes: Sizes, db_url: str) -> dict[str, Any]:
    out: dict[str, Any] = module.run(scale=sizes.market_scale, days=sizes.market_days,
                                     db_url=db_url, runs=max(3, sizes.cli_runs),
                                     db_listings=sizes.market_db)
    best = min(out["band_median_abs_error"], out["naive_median_abs_error"])
    out["vs_best_baseline"] = round(out["median_abs_error"] / best, 3) if best else None
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (under a minute)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write results")
    parser.add_argument("--pg", metavar="URL", default=os.environ.get(PG_ENV),
                        help=f"also measure PostgreSQL (default ${PG_ENV})")
    parser.add_argument("--only", metavar="NAMES",
                        help="comma-separated subset: parse,ingest,query,cli,e2e,judge,market,"
                             "time_to_alert,scale")
    parser.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = TINY if args.tiny else QUICK if args.quick else FULL
    only = set(args.only.split(",")) if args.only else None
    results = run(sizes, pg_url=args.pg, only=only)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    print(table(results))
    print(f"\nresults written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
