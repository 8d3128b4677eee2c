"""Health of each search from its recent scrape runs (pure: runs in, verdicts out)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

UNHEALTHY_STREAK = 3
ADVICE = {
    "blocked": "the site shows a captcha, login wall or bot check: raise min_interval, scan less "
               "often, use API credentials, or (facebook) refresh cookies_file; saved page: {saved}",
    "drift": "the markup changed and nothing parses: check `gpuscout parse {saved}` and update "
             "gpuscout",
    "zero": "three runs found nothing: check the query, the site, and `gpuscout -v scan --search "
            "{search}`",
    "rate_limited": "the site answered 429 after every retry: raise min_interval",
    "error": "network or server errors: run `gpuscout -v scan --search {search}`",
    "interrupted": "the scan was killed or crashed before this search was stored: look for "
                   "what stops gpuscout (out of memory, a time limit, a reboot)",
}


@dataclass(frozen=True)
class SearchHealth:
    search: str
    source: str
    last_outcome: str | None
    last_run: datetime | None
    last_success: datetime | None
    runs: int
    mean_yield: float
    unhealthy: bool
    advice: str | None


def health(search: str, source: str, runs: Sequence[Any]) -> SearchHealth:
    """``runs`` newest first (objects with outcome, listings, started_at, finished_at, saved_path)."""
    done = [r for r in runs if r.outcome != "running"]
    last = done[0] if done else None
    success = next((r for r in done if r.outcome in ("ok", "empty")), None)
    streak = done[:UNHEALTHY_STREAK]
    problem: str | None = None
    if len(streak) == UNHEALTHY_STREAK:
        if all(r.outcome == "blocked" for r in streak):
            problem = "blocked"
        elif all(r.outcome == "drift" for r in streak):
            problem = "drift"
        elif all(r.outcome in ("blocked", "drift") for r in streak):
            problem = streak[0].outcome
        elif all(r.listings == 0 for r in streak):
            problem = "zero" if all(r.outcome in ("ok", "empty") for r in streak) else streak[0].outcome
    advice = None
    if problem is not None:
        saved = next((r.saved_path for r in streak if r.saved_path), "data/")
        advice = ADVICE.get(problem, ADVICE["error"]).format(saved=saved, search=search)
    yields = [r.listings for r in done]
    return SearchHealth(
        search=search, source=source, last_outcome=last.outcome if last else None,
        last_run=(last.finished_at or last.started_at) if last else None,
        last_success=(success.finished_at or success.started_at) if success else None,
        runs=len(done), mean_yield=(sum(yields) / len(yields)) if yields else 0.0,
        unhealthy=problem is not None, advice=advice,
    )
