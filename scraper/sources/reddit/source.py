"""Reddit trade subreddits (r/hardwareswap and its regional sisters) via Reddit's Data API."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import httpx

from gpuscout.scraper.errors import (
    Blocked,
    MarkupDrift,
    MissingCredentials,
    RateLimited,
    UnsupportedPage,
)
from gpuscout.scraper.listing import RawListing, Status
from gpuscout.scraper.sources.base import Access, ParseResult, SearchSpec, Source
from gpuscout.scraper.sources.oauth import bearer_token
from gpuscout.scraper.sources.reddit.api import (
    AUTH_BASE,
    LISTINGS,
    OAUTH_BASE,
    ROUTES,
    TOKEN_PATH,
    api_user_agent,
    matches_query,
    missing_credentials_message,
    read_token,
)
from gpuscout.scraper.sources.reddit.prices import have_part, read_body_price
from gpuscout.scraper.sources.registry import BY_NAME
from gpuscout.scraper.sources.unsupported import identify_unsupported

if TYPE_CHECKING:
    from gpuscout.scraper.fetch.memory import TokenCache

#: subreddit (lower case) -> the currency its "$" (or bare amounts) mean
SUBREDDIT_CURRENCIES: Mapping[str, str] = {
    "hardwareswap": "USD",
    "canadianhardwareswap": "CAD",
    "hardwareswapuk": "GBP",
    "hardwareswapaustralia": "AUD",
    "hardwareswapeu": "EUR",
}
_ACTIVE = frozenset({"selling", "trading", "selling/trading", "for sale", "wts"})
_SOLD = frozenset({"sold", "closed", "completed", "complete", "traded", "purchased", "bought",
                   "expired"})
_WANTED = frozenset({"buying", "wtb", "want to buy", "looking"})
# NOTE: what a buyer offers in "[H] PayPal, local cash [W] …" — such a post is a want ad. The
# lookahead names every word's first character (digits for amounts): a cheap test that spares
# trying each alternative at every position.
_MONEY_WORDS = re.compile(
    r"(?=[PGFLCVZMUEABO$£€\d])(?:"
    r"pay\s*pal|paypal|g\s*&\s*s|goods\s+(?:and|&)\s+services|f\s*&\s*f|friends\s+(?:and|&)\s+"
    r"family|local|cash|venmo|zelle|cash\s*app|money|usd|cad|gbp|eur|aud|crypto|bitcoin|btc"
    r"|\$|£|€|\d+|\bor\b|\band\b|\bonly\b|\bpp\b|\bpaid\b)", re.IGNORECASE)
_LETTERS = re.compile(r"[A-Za-z]{2,}")
_HAVE_TAG = re.compile(r"\[\s*h\s*\]", re.IGNORECASE)
_LOCATION = re.compile(r"^\s*\[([^\]\[]{1,40})\]")
_TRADES = re.compile(r"trades?\s*:?\s*(\d{1,6})", re.IGNORECASE)
_IMAGE_URL = re.compile(r"^https?://(?:i\.redd\.it|i\.imgur\.com|preview\.redd\.it)/"
                        r"|\.(?:jpe?g|png|gif|webp)(?:\?|$)", re.IGNORECASE)
_ALBUM_URL = re.compile(r"https?://(?:www\.|m\.)?(?:imgur\.com/(?:a/|gallery/)?[A-Za-z0-9]+"
                        r"|i\.imgur\.com/[\w.]+|i\.redd\.it/[\w.]+|postimg\.cc/(?:gallery/)?\w+"
                        r"|photos\.app\.goo\.gl/\w+|photos\.google\.com/share/[\w-]+(?:\?key=[\w-]+)?)")
# NOTE: Reddit's refusals: the "whoa there, pardner!" bot page, the 2023+ "blocked by network
# security" page, a login redirect, and JSON {"reason": "private", "error": 403}.
_WHOA = re.compile(r"whoa\s+there,?\s+pardner", re.IGNORECASE)
_BLOCKED = re.compile(r"\bblocked\b|network\s+(?:security|policy)", re.IGNORECASE)
_LOGIN = re.compile(r"reddit\.com/login|/login/?\?dest=|<title>[^<]*log\s*in", re.IGNORECASE)
_TOO_MANY = re.compile(r"too\s+many\s+requests", re.IGNORECASE)
_CAPTCHA = re.compile(r"captcha|verify\s+you\s+are\s+human", re.IGNORECASE)
_REDDIT_TEXT = re.compile(r"reddit(?:static|media)?\.com|\breddit\b", re.IGNORECASE)
_THING_KIND = re.compile(r"^(?:Listing|more|t[1-8])$")


class RedditSource(Source):
    """Reddit's Data API (or public JSON) for a trade subreddit's newest posts or a search in it."""

    name: ClassVar[str] = "reddit"
    default_currency: ClassVar[str] = "USD"
    ends_on_empty_page: ClassVar[bool] = True

    def __init__(self, currencies: Mapping[str, str] | None = None) -> None:
        merged = {**SUBREDDIT_CURRENCIES, **(currencies or {})}
        self.currencies: dict[str, str] = {k.lower(): v for k, v in merged.items()}

    # --- requests ------------------------------------------------------------------------

    @staticmethod
    def route_of(spec: SearchSpec) -> str:
        route = spec.options.get("route", "api")
        if route not in ROUTES:
            raise UnsupportedPage(f"reddit option route = {route!r}: must be one of "
                                  f"{', '.join(ROUTES)}", reason="config")
        return route

    @staticmethod
    def listing_of(spec: SearchSpec) -> str:
        listing = spec.options.get("listing", "new")
        if listing not in LISTINGS:
            raise UnsupportedPage(f"reddit option listing = {listing!r}: must be one of "
                                  f"{', '.join(LISTINGS)}", reason="config")
        return listing

    def uses_api(self, spec: SearchSpec) -> bool:
        return self.route_of(spec) == "api"

    def route(self, spec: SearchSpec) -> str:
        return "Data API (OAuth)" if self.uses_api(spec) else "public JSON pages"

    def access(self, spec: SearchSpec) -> Access:
        names = BY_NAME["reddit"].credentials
        if not self.uses_api(spec):
            return Access(None, "the public JSON pages (route = \"json\")",
                          "reddit.com's robots.txt turns crawlers away from them; remove "
                          "route to use the API (set up an app, see the README)")
        if spec.credentials.get("client_id") and spec.credentials.get("client_secret"):
            grant = "password" if spec.credentials.get("password") else "client_credentials"
            return Access(True, f"app credentials set ({names['client_id']}, "
                                f"{names['client_secret']}; {grant} grant)")
        return Access(False, "no app credentials", missing_credentials_message())

    def auth_url(self, spec: SearchSpec) -> str | None:
        if not self.uses_api(spec):
            return None
        return spec.options.get("auth_base_url", AUTH_BASE).rstrip("/") + TOKEN_PATH

    def search_url(self, spec: SearchSpec) -> str:
        """The subreddit's newest posts, ``/r/<sub>/new`` (``.json`` off the API), or with
        ``listing = "search"`` a search in it, newest first over the past month."""
        subreddit = quote(spec.options.get("subreddit", "hardwareswap").strip().strip("/")
                          .removeprefix("r/"), safe="+")
        api = self.uses_api(spec)
        base = (spec.options.get("oauth_base_url", OAUTH_BASE) if api
                else spec.base_url or self.default_base_url).rstrip("/")
        suffix = "" if api else ".json"
        query = spec.query.strip()
        if query and self.listing_of(spec) == "search":
            params = [("q", query), ("restrict_sr", "1"), ("sort", "new"), ("t", "month"),
                      ("limit", "100"), ("raw_json", "1")]
            return f"{base}/r/{subreddit}/search{suffix}?{urlencode(params)}"
        return f"{base}/r/{subreddit}/new{suffix}?{urlencode([('limit', '100'), ('raw_json', '1')])}"

    def request_headers(self, spec: SearchSpec) -> dict[str, str]:
        if self.uses_api(spec):
            return {"Accept": "application/json", "User-Agent": api_user_agent(spec)}
        return {"Accept": "application/json"}

    async def prepare(self, client: httpx.AsyncClient, spec: SearchSpec,
                      tokens: TokenCache | None = None, *, renew: bool = False) -> dict[str, str]:
        """On the API route, a bearer token from ``/api/v1/access_token`` (application-only
        ``client_credentials``; the ``password`` grant when a username and password are set),
        cached until shortly before it expires. Without an app's id and secret the search is
        blocked with what to set up; no request is made."""
        if not self.uses_api(spec):
            return {}
        creds = spec.credentials
        client_id, secret = creds.get("client_id", ""), creds.get("client_secret", "")
        if not (client_id and secret):
            raise MissingCredentials(missing_credentials_message())
        auth_base = spec.options.get("auth_base_url", AUTH_BASE).rstrip("/")
        username, password = creds.get("username", ""), creds.get("password", "")
        form = ({"grant_type": "password", "username": username, "password": password}
                if username and password else {"grant_type": "client_credentials"})
        token = await bearer_token(
            client, tokens, url=auth_base + TOKEN_PATH, client_id=client_id, secret=secret,
            form=form, read=read_token, label="reddit", renew=renew,
            headers={"User-Agent": api_user_agent(spec)})
        return {"Authorization": f"bearer {token}"}

    def select(self, spec: SearchSpec, result: ParseResult) -> ParseResult:
        """On ``/new`` the posts that match the query (every word, in the title or the body;
        ``-word`` excludes); the others count as ``unmatched``."""
        query = spec.query.strip()
        if not query or self.listing_of(spec) == "search" or not result.listings:
            return result
        kept = tuple(listing for listing in result.listings if matches_query(query, listing))
        return replace(result, listings=kept,
                       unmatched=result.unmatched + len(result.listings) - len(kept))

    def next_url(self, url: str, after: str | None) -> str | None:
        """The same request with ``after=<token>`` (replacing any), None when ``after`` is null."""
        if not after:
            return None
        parts = urlsplit(url)
        params = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "after"]
        params.append(("after", after))
        return urlunsplit(parts._replace(query=urlencode(params)))

    # --- pages ---------------------------------------------------------------------------

    @classmethod
    def sniff(cls, body: bytes, url: str | None = None) -> bool:
        head = body[:4096].lstrip()
        if not head.startswith(b"{") or b'"Listing"' not in body[:200_000]:
            return False
        try:
            doc = json.loads(body)
        except (ValueError, RecursionError):
            return False
        return _listing_children(doc) is not None

    def parse(self, body: bytes, url: str) -> ParseResult:
        doc = _load(body, url)
        children = _listing_children(doc)
        if children is None:
            _refusal(doc)
            if _looks_reddit(doc, url):
                raise MarkupDrift("reddit answered JSON that is not a Listing",
                                  reason="not-a-listing")
            raise UnsupportedPage("JSON that is not Reddit's", reason=_other(body, url))
        data = doc["data"]
        if not children:
            return ParseResult(listings=(), empty=True)
        base = _site_base(url)
        listings: list[RawListing] = []
        skipped = incomplete = 0
        for child in children:
            post = child.get("data") if isinstance(child, dict) else None
            if not isinstance(post, dict) or child.get("kind") != "t3":
                incomplete += 1
                continue
            if _is_skipped(post):
                skipped += 1
                continue
            listing = self._listing(post, base, url)
            if listing is None:
                incomplete += 1
            else:
                listings.append(listing)
        if not listings and not skipped:
            raise MarkupDrift("reddit listing children lack id/title", reason="no-posts")
        after = data.get("after")
        return ParseResult(listings=tuple(listings), empty=not listings and not incomplete,
                           next_url=self.next_url(url, after if isinstance(after, str) else None),
                           skipped=skipped, incomplete=incomplete)

    def _listing(self, post: dict[str, Any], base: str, url: str) -> RawListing | None:
        post_id, raw_title = post.get("id"), post.get("title")
        if not isinstance(post_id, str) or not post_id or not isinstance(raw_title, str):
            return None
        title = decode(raw_title).strip()
        if not title:
            return None
        body = decode(_text(post.get("selftext")))
        subreddit = _text(post.get("subreddit")) or _url_subreddit(url)
        currency = self.currencies.get(subreddit.lower(), self.default_currency)
        # NOTE: offers_money(title) is read at most once: a "wanted" flair settles both.
        status = _flair_status(_text(post.get("link_flair_text")))
        money = status != "wanted" and offers_money(title)
        if status is None:
            status = "wanted" if money else "active"
        price = read_body_price(title, body, currency=currency, wanted=status == "wanted" or money)
        permalink = _text(post.get("permalink"))
        images = _images(post, body)
        author = _text(post.get("author"))
        return RawListing(
            source=self.name, external_id=post_id,
            url=base + permalink if permalink.startswith("/") else f"{base}/comments/{post_id}/",
            title=title, price=price.price, shipping=price.shipping,
            currency=price.currency or currency, location=_location(title),
            posted_at=_utc(post.get("created_utc")),
            seller=author if author and author != "[deleted]" else None,
            seller_feedback=_trades(post.get("author_flair_text")),
            buying_format="best_offer" if price.best_offer else "fixed", status=status,
            description=body.replace("\u200b", "").strip() or None,
            image_url=images[0] if images else None, images=images,
            price_local=price.price_local, price_max=price.price_max, price_each=price.each)


def decode(text: str) -> str:
    """HTML entities decoded until none are left: Reddit escapes titles and bodies ("&amp;")
    unless ``raw_json=1`` was asked, and bodies carry Markdown entities ("&#x200B;") too."""
    if "&" not in text:
        return text
    for _ in range(3):
        decoded = html.unescape(text)
        if decoded == text:
            break
        text = decoded
    return text


def _load(body: bytes, url: str) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        text = body[:200_000].decode("utf-8", errors="replace")
        reddit = _REDDIT_TEXT.search(text) is not None or _is_reddit_url(url)
        if not text.strip():
            raise UnsupportedPage("blank page", reason="blank") from exc
        if _WHOA.search(text):
            raise Blocked("reddit's bot check (\"whoa there, pardner!\")",
                          reason="whoa-there") from exc
        if reddit and _TOO_MANY.search(text):
            raise RateLimited("reddit: too many requests", url=url) from exc
        if reddit and _LOGIN.search(text):
            raise Blocked("reddit redirected to its login page", reason="login") from exc
        if reddit and _CAPTCHA.search(text):
            raise Blocked("reddit asked for a captcha", reason="captcha") from exc
        if reddit and _BLOCKED.search(text):
            raise Blocked("reddit blocked the request", reason="network-security") from exc
        if reddit:
            raise MarkupDrift("reddit answered something that is not JSON",
                              reason="not-json") from exc
        raise UnsupportedPage("not a Reddit page", reason=_other(body, url)) from exc


def _refusal(doc: Any) -> None:
    """Reddit's JSON refusals: {"reason": "private", "message": "Forbidden", "error": 403}."""
    if not isinstance(doc, dict) or "error" not in doc:
        return
    error, reason = doc.get("error"), doc.get("reason")
    message = _text(doc.get("message")) or str(error)
    if error == 429:
        raise RateLimited(f"reddit: {message}", status=429)
    if reason or error in (401, 403):
        raise Blocked(f"reddit refused: {message} ({reason or error})",
                      reason=_text(reason) or f"http-{error}")
    raise UnsupportedPage(f"reddit answered an error: {message}", reason=f"error-{error}")


def _listing_children(doc: Any) -> list[Any] | None:
    if not isinstance(doc, dict) or doc.get("kind") != "Listing":
        return None
    data = doc.get("data")
    children = data.get("children") if isinstance(data, dict) else None
    return children if isinstance(children, list) else None


def _looks_reddit(doc: Any, url: str) -> bool:
    if _is_reddit_url(url):
        return True
    items = doc if isinstance(doc, list) else [doc]
    return any(isinstance(item, dict) and isinstance(item.get("kind"), str)
               and _THING_KIND.match(item["kind"]) for item in items[:5])


def _is_reddit_url(url: str | None) -> bool:
    try:
        host = (urlsplit(url or "").hostname or "").lower()
    except ValueError:
        return False
    return host == "reddit.com" or host.endswith(".reddit.com")


def _other(body: bytes, url: str | None) -> str:
    return identify_unsupported(body, url) or "unknown"


def _site_base(url: str) -> str:
    """Where post links point: the scheme and host of the page. NOTE: the OAuth host
    (oauth.reddit.com) answers API calls only, so its posts link to www.reddit.com."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return RedditSource.default_base_url
    if not parts.scheme or not parts.netloc:
        return RedditSource.default_base_url
    netloc = parts.netloc
    if netloc.lower().startswith("oauth."):
        netloc = "www." + netloc[len("oauth."):]
    return f"{parts.scheme}://{netloc}"


def _url_subreddit(url: str) -> str:
    match = re.search(r"/r/([^/?#]+)", url or "")
    return match.group(1) if match else ""


def _is_skipped(post: dict[str, Any]) -> bool:
    """Stickies, moderator/official posts, adverts and removed posts are not trade posts."""
    flair = _text(post.get("link_flair_text")).strip().lower()
    return bool(post.get("stickied") or post.get("pinned") or post.get("promoted")
                or post.get("distinguished") in ("moderator", "admin") or flair == "official"
                or post.get("removed_by_category"))


def _flair_status(flair: str) -> Status | None:
    """The status a post's flair states, None for no or an unknown flair."""
    key = decode(flair).strip().lower()
    if key in _SOLD:
        return "sold"
    if key in _WANTED:
        return "wanted"
    if key in _ACTIVE:
        return "active"
    return None


def offers_money(title: str) -> bool:
    """True when the title's "[H]" side holds only money ("PayPal, local cash"): a want ad."""
    if not _HAVE_TAG.search(title):
        return False
    have = have_part(title)
    return bool(have.strip()) and not _LETTERS.search(_MONEY_WORDS.sub(" ", have))


def _location(title: str) -> str | None:
    match = _LOCATION.match(title)
    if not match:
        return None
    tag = " ".join(match.group(1).split())
    return None if tag.upper() in ("H", "W") else tag


def _trades(flair: Any) -> int | None:
    match = _TRADES.search(flair) if isinstance(flair, str) else None
    return int(match.group(1)) if match else None


def _utc(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _images(post: dict[str, Any], body: str) -> tuple[str, ...]:
    """Direct images (gallery, preview, thumbnail, an image link) best first; failing those,
    the photo albums the body links (sellers' timestamp albums, mostly imgur)."""
    found: list[str] = []
    metadata = post.get("media_metadata")
    gallery = post.get("gallery_data")
    items = gallery.get("items") if isinstance(gallery, dict) else None
    if isinstance(metadata, dict):
        order = [i.get("media_id") for i in items if isinstance(i, dict)] \
            if isinstance(items, list) else list(metadata)
        for media_id in order:
            entry = metadata.get(media_id) if isinstance(media_id, str) else None
            source = entry.get("s") if isinstance(entry, dict) else None
            if isinstance(source, dict) and isinstance(source.get("u"), str):
                found.append(decode(source["u"]))
    preview = post.get("preview")
    images = preview.get("images") if isinstance(preview, dict) else None
    if isinstance(images, list):
        for image in images:
            source = image.get("source") if isinstance(image, dict) else None
            if isinstance(source, dict) and isinstance(source.get("url"), str):
                found.append(decode(source["url"]))
    link = decode(_text(post.get("url_overridden_by_dest")) or _text(post.get("url")))
    if link and _IMAGE_URL.search(link):
        found.append(link)
    thumbnail = decode(_text(post.get("thumbnail")))
    if thumbnail.startswith(("http://", "https://")):
        found.append(thumbnail)
    if not found:
        if link and _ALBUM_URL.match(link):
            found.append(link)
        found.extend(m.group(0) for m in _ALBUM_URL.finditer(body))
    return tuple(dict.fromkeys(u for u in found if u.startswith(("http://", "https://"))))
