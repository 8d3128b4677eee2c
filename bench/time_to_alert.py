"""time_to_alert: `gpuscout run`, with the default schedule kinds, against a local marketplace where
new RTX 3090 FE posts appear at random times; seconds from a post appearing to its alert
reaching a local SMTP server and a local ntfy-compatible endpoint, and requests per hour per
source.

The marketplace is the local one (``gpuscout.jobs.testing``): Reddit's Data API with its token
endpoint, eBay's Browse API with its token endpoint, Craigslist's search page, each already
holding older posts. Reddit and eBay are reached with keys, as the README's live setup does. One
instant rule sends every qualifying post by email and to a push target (Apprise ``ntfy://``).

Speed factor F: every interval of the configuration is the default divided by F (each search's
``every``, from the source registry, and each source's ``min_interval``); nothing else changes.
The figures are scaled back to real intervals: latencies multiplied by F, request rates divided
by F. A scan's own work and the sending take the same wall time whatever F is, so the scaled
latencies count them F times over: they are upper bounds (the wall-clock figures are in the
details). Requests per hour are measured after the start scan (which reads every page and
fetches the tokens once), from the first to the last request of each search's route.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import percentile

#: what each marketplace's route asks, and the paths its requests use
ROUTES = {
    "reddit": ("/r/hardwareswap/new", "/api/v1/access_token"),
    "ebay": ("/buy/browse/v1/item_summary/search", "/identity/v1/oauth2/token"),
    "craigslist": ("/search/sss", "/robots.txt"),
}
CODES = {"reddit": "R", "ebay": "E", "craigslist": "C"}
_MARK = re.compile(r"\b([REC])(\d{2})\b")
#: older posts each marketplace already holds (one page of each, as a poll reads it)
BACKGROUND = {"reddit": 150, "ebay": 120, "craigslist": 60}


@dataclass(frozen=True)
class Plan:
    speed: float
    #: seconds (wall) during which new posts appear, after the start scan's digest
    window: float
    posts: dict[str, int]




@dataclass
class Arrivals:
    """When each post appeared and when its alert arrived on each channel (monotonic)."""

    appeared: dict[str, float] = field(default_factory=dict)
    email: dict[str, float] = field(default_factory=dict)
    push: dict[str, float] = field(default_factory=dict)


def _every(source: str) -> float:
    from gpuscout.jobs.config.interval import parse_every
    from gpuscout.scraper.sources.registry import info

    return parse_every(source, info(source).every)


def _config(path: Path, *, market: str, smtp_port: int, push_url: str, speed: float) -> Path:
    from gpuscout.scraper.sources.registry import info

    def source(name: str, options: str) -> str:
        return (f'[sources.{name}]\nbase_url = "{market}"\n'
                f"min_interval = {info(name).min_interval / speed:g}\n{options}\n")

    searches = "".join(
        f'[[search]]\nname = "{n}"\nsource = "{s}"\nquery = "{q}"\nevery = {_every(s) / speed:g}\n\n'
        for n, s, q in (("ebay-3090-fe", "ebay", "rtx 3090 founders edition"),
                        ("hws-3090", "reddit", "3090"), ("craigslist-3090", "craigslist",
                                                         "rtx 3090")))
    text = f"""[database]
url = "sqlite:///{path.parent / 'tta.db'}"

[[watch]]
name = "3090-fe"
model = "rtx 3090"
variant = "fe"
price_low = 650
price_high = 800

{searches}{source("ebay", f'options = {{ api_base_url = "{market}" }}')}
{source("reddit", f'options = {{ oauth_base_url = "{market}", auth_base_url = "{market}" }}')}
{source("craigslist", "")}
[scan]
data_dir = "{path.parent / 'data'}"

[email]
smtp_host = "127.0.0.1"
smtp_port = {smtp_port}
security = "none"
sender = "gpuscout@example.com"
recipients = ["me@example.com"]

[[notify]]
name = "phone"
url = "{push_url}"

[[alert]]
watch = "3090-fe"
min_score = 60
"""
    path.write_text(text, encoding="utf-8")
    return path


def _post(source: str, n: int, at: datetime) -> Any:
    from gpuscout.jobs.testing.feeds import FeedPost

    code = f"{CODES[source]}{n:02d}"
    titles = {"reddit": f"[EXAMPLE] [USA-CA] [H] RTX 3090 Founders Edition {code} [W] PayPal",
              "ebay": f"[EXAMPLE] NVIDIA GeForce RTX 3090 Founders Edition 24GB {code}",
              "craigslist": f"[EXAMPLE] RTX 3090 Founders Edition {code}"}
    key = f"n{n:03d}" if source == "reddit" else str(8100000000 + n)
    # NOTE: each post is another seller's card: one seller's same card again would be a repost,
    # which alerts once
    return FeedPost(key=key, title=titles[source], price=690, posted=at,
                    body="$690 shipped, never mined, original box",
                    seller=f"example-seller-{code.lower()}")


def _marks(text: str) -> list[str]:
    return [f"{letter}{digits}" for letter, digits in _MARK.findall(text)]


def run(plan: Plan, *, seed: int = 14) -> dict[str, Any]:
    from gpuscout.jobs.testing.feeds import (
        Feed,
        craigslist_search,
        ebay_browse,
        example_posts,
        reddit_api,
        token_endpoint,
    )
    from gpuscout.jobs.testing.localmarket import LocalMarket
    from tests.support.push import push_server
    from tests.support.smtp import smtp_server

    rng = random.Random(seed)
    now = datetime.now(UTC)
    feeds = {name: Feed() for name in ROUTES}
    for name, count in BACKGROUND.items():
        feeds[name].posts = example_posts(count, now - timedelta(hours=3), spacing=300,
                                          first_id=None if name == "reddit" else 8000000000)
    arrivals = Arrivals()
    with tempfile.TemporaryDirectory(prefix="gpuscout-tta-") as tmp, LocalMarket() as market, \
            smtp_server() as smtp, push_server() as push:
        reddit_api(market, feeds["reddit"])
        ebay_browse(market, feeds["ebay"])
        craigslist_search(market, feeds["craigslist"])
        token_endpoint(market, "/api/v1/access_token", lifetime=86400)
        token_endpoint(market, "/identity/v1/oauth2/token", lifetime=7200)
        conf = _config(Path(tmp) / "gpuscout.toml", market=market.url, smtp_port=smtp.port,
                       push_url=push.ntfy_url("deals"), speed=plan.speed)
        env = {**os.environ, "GPUSCOUT_REDDIT_CLIENT_ID": "bench-app",
               "GPUSCOUT_REDDIT_CLIENT_SECRET": "bench-secret",
               "GPUSCOUT_EBAY_CLIENT_ID": "Bench-App-PRD", "GPUSCOUT_EBAY_CLIENT_SECRET": "PRD-x"}
        with subprocess.Popen([sys.executable, "-m", "gpuscout.jobs.cli.main", "--config",
                               str(conf), "run"], env=env, cwd=tmp, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE) as proc:
            try:
                started = time.monotonic()
                _wait(lambda: len(smtp.received) >= 1 and len(push.received) >= 1, 60, proc)
                first_digest = time.monotonic() - started
                requests_before = len(market.requests)
                window_start = time.monotonic()
                _play(_schedule(plan, rng), feeds, arrivals, smtp, push, plan, proc)
                window_end = time.monotonic()
                stop_began = time.monotonic()
                proc.send_signal(signal.SIGTERM)
                code = proc.wait(timeout=60)
                stopped = time.monotonic() - stop_began
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        measured = market.requests[requests_before:]
    out: dict[str, Any] = {
        "speed_factor": plan.speed,
        "scaling": (f"every interval (search every, source min_interval) divided by "
                    f"{plan.speed:g}; latencies x {plan.speed:g}, request rates / "
                    f"{plan.speed:g}; a scan's own work is counted {plan.speed:g} times over, "
                    "so the latencies are upper bounds"),
        "first_digest_s": round(first_digest, 2), "stop_s": round(stopped, 2),
        "exit_code": code, "window_s": round(window_end - window_start, 1),
    }
    for name in ROUTES:
        out[name] = _figures(name, arrivals, measured, plan)
    if code != 0:
        out["stderr"] = err[-2000:]
    return out


def _schedule(plan: Plan, rng: random.Random) -> list[tuple[float, str, int]]:
    """(seconds after the window opens, source, number) for every new post: uniform over a whole
    number of the source's (scaled) intervals, so that every moment between two polls is as
    likely, with one interval and its jitter left to notice the last post."""
    out = []
    for name, count in plan.posts.items():
        interval = _every(name) / plan.speed
        cycles = max(1, int((plan.window - interval * 1.1 - 5) // interval))
        out += [(rng.uniform(0, cycles * interval), name, n) for n in range(count)]
    return sorted(out)


def _play(schedule: list[tuple[float, str, int]], feeds: dict[str, Any], arrivals: Arrivals,
          smtp: Any, push: Any, plan: Plan, proc: subprocess.Popen[bytes]) -> None:
    """Publish each post at its time; note arrivals until every post is in or time is up."""
    opened = time.monotonic()
    pending = list(schedule)
    seen_email = seen_push = 0
    wanted = {f"{CODES[name]}{n:02d}" for _t, name, n in schedule}
    deadline = opened + plan.window + 2 * max(_every(s) for s in ROUTES) / plan.speed + 30
    while time.monotonic() < deadline:
        now = time.monotonic()
        while pending and pending[0][0] <= now - opened:
            _at, name, n = pending.pop(0)
            feeds[name].add(_post(name, n, datetime.now(UTC)))
            arrivals.appeared[f"{CODES[name]}{n:02d}"] = time.monotonic()
        for received in smtp.received[seen_email:]:
            for mark in _marks(str(received.message["Subject"])):
                arrivals.email.setdefault(mark, now)
        seen_email = len(smtp.received)
        for note in push.received[seen_push:]:
            for mark in _marks(note.title + "\n" + note.message):
                arrivals.push.setdefault(mark, note.at)
        seen_push = len(push.received)
        if not pending and wanted <= set(arrivals.email) & set(arrivals.push):
            return
        if proc.poll() is not None:
            raise RuntimeError(f"gpuscout run exited early with {proc.returncode}")
        time.sleep(0.05)


def _figures(name: str, arrivals: Arrivals, requests: list[Any], plan: Plan) -> dict[str, Any]:
    code = CODES[name]
    posts = sorted(m for m in arrivals.appeared if m.startswith(code))
    both = [max(arrivals.email[m], arrivals.push[m]) - arrivals.appeared[m] for m in posts
            if m in arrivals.email and m in arrivals.push]
    email = [arrivals.email[m] - arrivals.appeared[m] for m in posts if m in arrivals.email]
    push = [arrivals.push[m] - arrivals.appeared[m] for m in posts if m in arrivals.push]
    search_path, other_path = ROUTES[name]
    polls = [r.at for r in requests if r.path == search_path]
    others = [r for r in requests if r.path == other_path]
    span = (polls[-1] - polls[0]) if len(polls) > 1 else 0.0
    rate = (len(polls) - 1) / span * 3600 / plan.speed if span else None
    window = (max(r.at for r in requests) - min(r.at for r in requests)) if requests else 0.0
    other_rate = len(others) / window * 3600 / plan.speed if window else 0.0
    figures: dict[str, Any] = {
        "posts": len(posts), "alerted": len(both),
        "requests_per_hour": None if rate is None else round(rate + other_rate, 2),
        "search_requests_per_hour": None if rate is None else round(rate, 2),
        f"{other_path.rsplit('/', 1)[-1]}_requests_per_hour": round(other_rate, 3),
        "interval_s": _every(name),
    }
    if both:
        figures.update(
            p50_s=round(percentile(both, 0.5) * plan.speed, 1),
            p95_s=round(percentile(both, 0.95) * plan.speed, 1),
            raw_p50_s=round(percentile(both, 0.5), 2), raw_p95_s=round(percentile(both, 0.95), 2),
            email={"p50_s": round(percentile(email, 0.5) * plan.speed, 1),
                   "p95_s": round(percentile(email, 0.95) * plan.speed, 1)},
            push={"p50_s": round(percentile(push, 0.5) * plan.speed, 1),
                  "p95_s": round(percentile(push, 0.95) * plan.speed, 1)})
    return figures


def _wait(done: Any, timeout: float, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if proc.poll() is not None:
            err = proc.communicate()[1].decode(errors="replace")
            raise RuntimeError(f"gpuscout run exited with {proc.returncode}: {err[-1500:]}")
        if time.monotonic() > deadline:
            proc.kill()
            err = proc.communicate()[1].decode(errors="replace")
            raise RuntimeError(f"the start scan's digest did not arrive in time: {err[-1500:]}")
        time.sleep(0.05)


if __name__ == "__main__":
    print(json.dumps(run(Plan(speed=20.0, window=120.0,
                              posts={"reddit": 14, "ebay": 8, "craigslist": 6})), indent=2))
