"""Health of each search from its recent scrape runs (pure: runs in, verdicts out).

A search is unhealthy when its recent runs failed and none succeeded, or when three runs in a
row were blocked, drifted, found nothing ("no results") or failed without a listing; it is
stale when its last success is older than ``STALE_INTERVALS`` of its intervals. `gpuscout
status` exits 1 when any search is either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

UNHEALTHY_STREAK = 3
#: a search is stale once this many of its intervals passed without a success...
STALE_INTERVALS = 3
#: ...and at least this long (a scan takes a while; a minute's poll is not stale after three)
STALE_FLOOR = timedelta(minutes=5)
SUCCESS = ("ok", "empty")
ADVICE = {
    "blocked": "the site shows a captcha, login wall or bot check: raise min_interval, scan less "
               "often, use API credentials, or (facebook) refresh cookies_file; saved page: {saved}",
    "drift": "the markup changed and nothing parses: check `gpuscout parse {saved}` and update "
             "gpuscout",
    "zero": "three runs found nothing: check the query, the site, and `gpuscout -v scan --search "
            "{search}`",
    "rate_limited": "the site answered 429 after every retry: raise min_interval",
    "error": "network or server errors: run `gpuscout doctor --search {search}`",
    "offline": "the site's name did not resolve: this machine was offline or its DNS failed; "
               "`gpuscout doctor` checks the network",
    "robots": "robots.txt turns crawlers away from this search; use the marketplace's API "
              "instead (see `gpuscout doctor --search {search}` and the README's first live scan)",
    "stale": "no successful scan since {since} although it runs every {every}: is `gpuscout run` "
             "(or cron) running? `gpuscout doctor --search {search}` checks the route",
    "interrupted": "the scan was killed or crashed before this search was stored: look for "
                   "what stops gpuscout (out of memory, a time limit, a reboot)",
}
#: failure reasons whose run error already says exactly what to do (which keys to set)
_SELF_EXPLAINED = ("no-credentials", "oauth-unauthorized")


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
    #: no success within STALE_INTERVALS of its interval (only judged when it has runs)
    stale: bool = False

    @property
    def state(self) -> str:
        if self.unhealthy:
            return "UNHEALTHY"
        if self.stale:
            return "STALE"
        return "ok" if self.runs else "no runs"

    @property
    def failing(self) -> bool:
        """What makes `gpuscout status` exit 1."""
        return self.unhealthy or self.stale


def _problem(done: Sequence[Any]) -> str | None:
    streak = done[:UNHEALTHY_STREAK]
    if not done:
        return None
    last = done[0]
    if last.outcome not in SUCCESS and not any(r.outcome in SUCCESS for r in done):
        return str(last.outcome)  # NOTE: failing, and no success to set against it
    if len(streak) < UNHEALTHY_STREAK:
        return None
    if all(r.outcome == "blocked" for r in streak):
        return "blocked"
    if all(r.outcome == "drift" for r in streak):
        return "drift"
    if all(r.outcome in ("blocked", "drift") for r in streak):
        return str(streak[0].outcome)
    if all(r.listings == 0 for r in streak):
        # NOTE: "ok" runs with nothing read are fine (a poll whose new posts all failed the
        # query, a 304): only a site saying "no results" three times is a zero yield
        if all(r.outcome == "empty" for r in streak):
            return "zero"
        if streak[0].outcome not in SUCCESS and all(r.outcome != "ok" for r in streak):
            return str(streak[0].outcome)
    return None


def _advice(problem: str, last: Any, search: str, saved: str) -> str:
    reason = getattr(last, "reason", None)
    if reason in _SELF_EXPLAINED and last.error:
        return str(last.error)
    key = reason if reason in ("offline", "robots") else problem
    return ADVICE.get(key, ADVICE["error"]).format(saved=saved, search=search)


def health(search: str, source: str, runs: Sequence[Any], *, now: datetime | None = None,
           interval: float | None = None) -> SearchHealth:
    """``runs`` newest first (objects with outcome, listings, started_at, finished_at, saved_path,
    error, reason). With ``now`` and the search's ``interval`` (seconds) staleness is judged."""
    from gpuscout.jobs.config.interval import format_every

    done = [r for r in runs if r.outcome != "running"]
    last = done[0] if done else None
    success = next((r for r in done if r.outcome in SUCCESS), None)
    problem = _problem(done)
    last_success = (success.finished_at or success.started_at) if success else None
    stale = False
    if now is not None and interval is not None and last is not None:
        since = last_success or done[-1].started_at
        stale = now - since > max(STALE_FLOOR, timedelta(seconds=STALE_INTERVALS * interval))
    advice = None
    if problem is not None and last is not None:
        saved = next((r.saved_path for r in done[:UNHEALTHY_STREAK] if r.saved_path), "data/")
        advice = _advice(problem, last, search, saved)
    elif stale and last is not None:
        advice = ADVICE["stale"].format(
            since=(last_success.strftime("%Y-%m-%d %H:%M UTC") if last_success else "it began"),
            every=format_every(interval or 0), search=search)
        if last.outcome not in SUCCESS:
            advice += f"; the last run: {last.outcome}: {last.error or 'no detail'}"
    yields = [r.listings for r in done]
    return SearchHealth(
        search=search, source=source, last_outcome=last.outcome if last else None,
        last_run=(last.finished_at or last.started_at) if last else None,
        last_success=last_success, runs=len(done),
        mean_yield=(sum(yields) / len(yields)) if yields else 0.0,
        unhealthy=problem is not None, advice=advice, stale=stale,
    )
