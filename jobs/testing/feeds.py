"""Marketplace feeds that change while they are read: posts appear (and go) over time, and each
request gets the newest ones first in the marketplace's own format, at its own paths.

For the local marketplace (``LocalMarket.serve``): Reddit's Data API listing with its token
endpoint and rate headers, eBay's Browse API search with its token endpoint, and Craigslist's
static search page. Every post is fictional (titles carry ``[EXAMPLE]``).
"""

from __future__ import annotations

import html
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from gpuscout.jobs.testing.localmarket import Answer, LocalMarket, Request

JSON = {"Content-Type": "application/json; charset=UTF-8"}


@dataclass(frozen=True)
class FeedPost:
    """One fictional post: ``key`` is its id on the marketplace; ``price`` in whole dollars."""

    key: str
    title: str
    price: int
    posted: datetime
    body: str = ""
    seller: str = "example-seller-1"


@dataclass
class Feed:
    """Posts by the time they appear; ``now`` says what time it is for the marketplace."""

    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    posts: list[FeedPost] = field(default_factory=list)
    removed: set[str] = field(default_factory=set)
    #: every request served, with the monotonic time it arrived
    served: list[Request] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, post: FeedPost) -> None:
        with self._lock:
            self.posts.append(post)

    def remove(self, key: str) -> None:
        with self._lock:
            self.removed.add(key)

    def visible(self) -> list[FeedPost]:
        """The posts that have appeared and are still up, newest first."""
        now = self.now()
        with self._lock:
            shown = [p for p in self.posts if p.posted <= now and p.key not in self.removed]
        return sorted(shown, key=lambda p: (p.posted, p.key), reverse=True)


def example_posts(count: int, newest: datetime, *, first_id: int | None = None,
                  price: int = 700, spacing: float = 60.0) -> list[FeedPost]:
    """``count`` RTX 3090 FE posts ``spacing`` seconds apart, the newest at ``newest``; ids
    "p000", "p001", … or, from ``first_id``, numeric (as eBay item numbers and Craigslist post
    ids are)."""
    from datetime import timedelta

    # NOTE: each post another seller's card (one seller's same card again is a repost)
    return [FeedPost(key=f"p{n:03d}" if first_id is None else str(first_id + n),
                     posted=newest - timedelta(seconds=spacing * n), price=price,
                     title=f"[EXAMPLE] [USA-CA] [H] RTX 3090 Founders Edition #{n} [W] PayPal",
                     body=f"${price} shipped, never mined", seller=f"example-seller-{n + 1}")
            for n in range(count)]


def token_endpoint(market: LocalMarket, path: str, *, lifetime: int, prefix: str = "tok"
                   ) -> list[str]:
    """An OAuth token endpoint at ``path`` handing out ``<prefix>1``, ``<prefix>2``, …"""
    issued: list[str] = []

    def answer(request: Request) -> Answer:
        issued.append(f"{prefix}{len(issued) + 1}")
        body = {"access_token": issued[-1], "token_type": "bearer", "expires_in": lifetime}
        return 200, JSON, json.dumps(body).encode()

    market.serve(path, answer)
    return issued


def reddit_api(market: LocalMarket, feed: Feed, *, subreddit: str = "hardwareswap",
               per_page: int = 100, quota: Mapping[str, str] | None = None) -> None:
    """``/r/<sub>/new`` (and ``.json``) as Reddit's listing JSON with ``raw_json=1`` text."""

    def answer(request: Request) -> Answer:
        feed.served.append(request)
        limit = min(per_page, int(request.query.get("limit", "25") or 25))
        posts = feed.visible()
        after = request.query.get("after", "").removeprefix("t3_")
        keys = [p.key for p in posts]
        start = keys.index(after) + 1 if after in keys else (len(posts) if after else 0)
        chunk = posts[start:start + limit]
        more = start + limit < len(posts) and chunk
        children = [{"kind": "t3", "data": {
            "id": p.key, "name": f"t3_{p.key}", "subreddit": subreddit, "title": p.title,
            "selftext": p.body, "author": p.seller, "author_flair_text": "Trades: 12",
            "link_flair_text": "SELLING", "created_utc": p.posted.timestamp(),
            "permalink": f"/r/{subreddit}/comments/{p.key}/example/", "stickied": False,
            "distinguished": None, "thumbnail": "self", "is_self": True}} for p in chunk]
        doc = {"kind": "Listing", "data": {"after": f"t3_{chunk[-1].key}" if more else None,
                                           "dist": len(children), "children": children}}
        headers = {**JSON, **(quota or {"X-Ratelimit-Used": "1", "X-Ratelimit-Remaining": "995",
                                        "X-Ratelimit-Reset": "300"})}
        return 200, headers, json.dumps(doc).encode()

    market.serve(f"/r/{subreddit}/new", answer)
    market.serve(f"/r/{subreddit}/new.json", answer)


def ebay_browse(market: LocalMarket, feed: Feed, *, per_page: int = 200) -> None:
    """``/buy/browse/v1/item_summary/search`` newest first, paged by ``offset``."""

    def answer(request: Request) -> Answer:
        feed.served.append(request)
        limit = min(per_page, int(request.query.get("limit", "50") or 50))
        offset = int(request.query.get("offset", "0") or 0)
        posts = feed.visible()
        chunk = posts[offset:offset + limit]
        items = [{"itemId": f"v1|{p.key}|0", "legacyItemId": p.key, "title": p.title,
                  "price": {"value": f"{p.price}.00", "currency": "USD"},
                  "shippingOptions": [{"shippingCost": {"value": "0.00", "currency": "USD"}}],
                  "condition": "Used", "buyingOptions": ["FIXED_PRICE"],
                  "itemCreationDate": p.posted.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                  "itemWebUrl": f"https://www.ebay.com/itm/{p.key}",
                  "seller": {"username": p.seller, "feedbackScore": 250,
                             "feedbackPercentage": "100.0"},
                  "shortDescription": p.body} for p in chunk]
        doc: dict[str, object] = {"href": "search", "total": len(posts), "limit": limit,
                                  "offset": offset}
        if items:
            doc["itemSummaries"] = items
        if offset + limit < len(posts):
            query = "&".join(f"{k}={v}" for k, v in request.query.items() if k != "offset")
            doc["next"] = (f"{market.url}/buy/browse/v1/item_summary/search?{query}"
                           f"&offset={offset + limit}")
        return 200, JSON, json.dumps(doc).encode()

    market.serve("/buy/browse/v1/item_summary/search", answer)


def craigslist_search(market: LocalMarket, feed: Feed, *, category: str = "sss",
                      per_page: int = 120) -> None:
    """``/search/<category>``: the static cards, newest first, legacy numeric links, ``per_page``
    to a page (the next one linked with ``s=<offset>``)."""

    def answer(request: Request) -> Answer:
        feed.served.append(request)
        offset = int(request.query.get("s", "0") or 0)
        posts = feed.visible()
        chunk = posts[offset:offset + per_page]
        following = ""
        if offset + per_page < len(posts):
            query = "&".join(f"{k}={v}" for k, v in request.query.items() if k != "s")
            following = (f'<link rel="next" href="/search/{category}?{html.escape(query)}'
                         f'&amp;s={offset + per_page}">')
        cards = "".join(
            f'<li class="cl-static-search-result" title="{html.escape(p.title)}">'
            f'<a href="{market.url}/sby/sop/d/example-post/{p.key}.html">'
            f'<div class="title">{html.escape(p.title)}</div><div class="details">'
            f'<div class="price">${p.price:,}</div><div class="location">san jose</div>'
            "</div></a></li>" for p in chunk)
        page = ('<!DOCTYPE html><html><head><meta charset="UTF-8">'
                '<meta property="og:site_name" content="craigslist"><title>example - craigslist'
                f"</title>{following}</head><body><ol class=\"cl-static-search-results\">"
                f"{cards}</ol><p>{'' if cards else 'no results'}</p></body></html>")
        return 200, {"Content-Type": "text/html; charset=utf-8"}, page.encode()

    market.serve(f"/search/{category}", answer)

