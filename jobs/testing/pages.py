"""The demo marketplace's fictional catalogue, and its pages in each source's real markup.

Everything here is made up and labelled "[DEMO]": sellers are demo-seller-N, the town is
Exampleville, every link points at the local marketplace that serves these pages. The markup
keeps only what the parsers read: eBay's ``li.s-card`` search results, Reddit's listing JSON and
Craigslist's static search results with their JSON-LD list.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from html import escape
from urllib.parse import quote_plus

#: roles whose listings must never be ranked as deals for the 3090 FE watch (an overpriced one
#: costs more than the watch's band: over the budget)
UNFIT_ROLES = frozenset({"ti", "partner", "box", "parts", "wanted", "system", "sold",
                         "overpriced"})

SUBREDDIT = "hardwareswap"
#: the category path of Craigslist postings ("computer parts - by owner")
CL_CATEGORY = "sop"


@dataclass(frozen=True)
class DemoCard:
    """One eBay search result card."""

    item_id: str
    title: str
    price: Decimal
    shipping: Decimal | None  # 0: free delivery
    condition: str
    seller: str
    feedback: int
    positive: str
    role: str
    best_offer: bool = False
    #: a sold listing (eBay's sold search): sold this many days before the page is served
    sold_days_ago: int | None = None
    bids: int | None = None


@dataclass(frozen=True)
class DemoPost:
    """One r/hardwareswap post; ``price`` is what the post asks for its graphics card."""

    post_id: str
    title: str
    body: str
    flair: str
    author: str
    trades: int
    hours_ago: float
    price: Decimal | None
    role: str


@dataclass(frozen=True)
class DemoAd:
    """One Craigslist search result."""

    post_id: str
    title: str
    price: Decimal
    location: str
    role: str


LOCATION = "Exampleville, United States"

EBAY_CARDS: tuple[DemoCard, ...] = (
    DemoCard("990000000101", "[DEMO] NVIDIA GeForce RTX 3090 Founders Edition 24GB GDDR6X - new "
             "thermal pads, never mined", Decimal("659.00"), Decimal(0), "Pre-Owned",
             "demo-seller-1", 212, "100%", "deal"),
    DemoCard("990000000102", "[DEMO] NVIDIA RTX 3090 Founders Edition 24GB Graphics Card",
             Decimal("1149.99"), Decimal("25.00"), "Pre-Owned", "demo-seller-2", 48, "98.7%",
             "overpriced"),
    DemoCard("990000000103", "[DEMO] NVIDIA GeForce RTX 3090 Ti Founders Edition 24GB",
             Decimal("899.00"), Decimal(0), "Pre-Owned", "demo-seller-3", 1350, "99.8%", "ti",
             best_offer=True),
    DemoCard("990000000104", "[DEMO] EVGA GeForce RTX 3090 FTW3 Ultra Gaming 24GB",
             Decimal("749.00"), Decimal("19.99"), "Pre-Owned", "demo-seller-4", 305, "100%",
             "partner"),
    DemoCard("990000000105", "[DEMO] RTX 3090 Founders Edition EMPTY BOX ONLY - no card included",
             Decimal("39.99"), Decimal("9.95"), "Pre-Owned", "demo-seller-5", 77, "100%", "box"),
    DemoCard("990000000106", "[DEMO] NVIDIA RTX 3090 Founders Edition for parts - artifacts, "
             "not working", Decimal("310.00"), Decimal(0), "For parts or not working",
             "demo-seller-6", 19, "95.0%", "parts"),
)

#: (days ago, price) of the RTX 3090 FE sales on eBay's sold listings: twelve weeks of a market
#: drifting from about $790 to about $700, with a sale far under it and a far dearer one, which
#: the market reference trims as outliers
_SOLD_HISTORY: tuple[tuple[int, int], ...] = (
    (83, 795), (80, 779), (78, 802), (75, 786), (72, 770), (70, 781), (66, 765), (63, 775),
    (60, 759), (57, 768), (55, 355), (52, 752), (49, 761), (46, 745), (43, 739), (40, 749),
    (37, 731), (35, 742), (32, 729), (29, 719), (27, 1499), (24, 726), (21, 712), (19, 721),
    (16, 709), (13, 715), (11, 701), (9, 706), (6, 698), (4, 703), (2, 694), (1, 700),
)


def _sold_card(i: int, days: int, price: int) -> DemoCard:
    auction = i % 5 == 2
    titles = ("NVIDIA GeForce RTX 3090 Founders Edition 24GB GDDR6X",
              "NVIDIA RTX 3090 Founders Edition 24GB - tested, works great",
              "RTX 3090 FE 24GB Founders Edition graphics card")
    return DemoCard(f"99000000{i + 201:04d}", f"[DEMO] {titles[i % 3]}", Decimal(price),
                    Decimal(0) if i % 2 else Decimal("19.99"), "Pre-Owned",
                    f"demo-seller-{i + 20}", 40 + 17 * i, "100%", "sold",
                    sold_days_ago=days, bids=7 + i % 9 if auction else None)


#: eBay's sold listings for the watch's search: the market the reference is estimated from
EBAY_SOLD: tuple[DemoCard, ...] = tuple(_sold_card(i, d, p) for i, (d, p) in enumerate(_SOLD_HISTORY))

REDDIT_POSTS: tuple[DemoPost, ...] = (
    DemoPost("demo01", "[USA-EX] [H] RTX 3090 Founders Edition, repasted, original box [W] PayPal, "
             "local cash [DEMO]",
             "Selling my RTX 3090 Founders Edition. Repasted last month, temps are great. Comes in "
             "the original box.\n\n$720 shipped or $700 local in Exampleville.\n\n"
             "Timestamps: demo photos only", "SELLING", "demo-seller-7", 23, 2.0,
             Decimal("720"), "deal"),
    DemoPost("demo02", "[USA-EX] [H] RTX 3090 FE, Demo headset [W] PayPal [DEMO]",
             "Clearing out the desk.\n\n3090 FE $700 shipped, headset $80\n\nComment before PM.",
             "SELLING", "demo-seller-8", 11, 3.5, Decimal("700"), "multi"),
    DemoPost("demo03", "[USA-EX] [H] PayPal, local cash [W] RTX 3090 Founders Edition [DEMO]",
             "Looking for a 3090 FE, budget $650 shipped. Exampleville locals welcome.",
             "BUYING", "demo-buyer-1", 5, 1.0, None, "wanted"),
    DemoPost("demo04", "[USA-EX] [H] RTX 3090 Founders Edition - used for mining [W] PayPal [DEMO]",
             "Ran in a mining rig for a year, undervolted and cool the whole time. Works fine, "
             "no box.\n\n$640 shipped.", "SELLING", "demo-seller-9", 2, 5.0, Decimal("640"),
             "mining"),
    DemoPost("demo05", "[USA-EX] [H] Gaming PC - Ryzen 7 5800X, RTX 3090 FE, 32GB DDR4 [W] PayPal, "
             "local cash [DEMO]",
             "Full build, barely used.\n\nCPU: Ryzen 7 5800X, GPU: RTX 3090 FE, RAM: 32GB DDR4, "
             "1TB NVMe SSD.\n\n$1350 local or $1450 shipped.", "SELLING", "demo-seller-10", 8,
             6.0, Decimal("1450"), "system"),
    DemoPost("demo06", "[USA-EX] [H] RTX 3090 Founders Edition [W] PayPal [DEMO]",
             "$690 shipped.\n\nSold to a fellow demo user, thanks all.", "SOLD",
             "demo-seller-11", 40, 20.0, Decimal("690"), "sold"),
)

CRAIGSLIST_ADS: tuple[DemoAd, ...] = (
    DemoAd("7990000001", "[DEMO] RTX 3090 Founders Edition - like new, local pickup",
           Decimal("760"), "Exampleville", "deal"),
    DemoAd("7990000002", "[DEMO] NVIDIA RTX 3090 FE 24GB", Decimal("975"), "Exampleville Heights",
           "overpriced"),
    DemoAd("7990000003", "[DEMO] RTX 3090 Founders Edition box and packaging only", Decimal("25"),
           "Exampleville", "box"),
    DemoAd("7990000004", "[DEMO] ASUS TUF Gaming RTX 3090 OC 24GB", Decimal("700"),
           "North Exampleville", "partner"),
)


def image_path(source: str, ident: str) -> str:
    """Where the marketplace serves a listing's (placeholder) photo."""
    return f"/demo-images/{source}-{ident}.svg"


def placeholder_image(label: str) -> bytes:
    """A small SVG that says DEMO, standing in for a listing photo."""
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="200">'
        '<rect width="300" height="200" fill="#dde3ea"/>'
        '<text x="150" y="95" font-size="36" text-anchor="middle" font-family="sans-serif">DEMO'
        f'</text><text x="150" y="135" font-size="14" text-anchor="middle">{escape(label)}</text>'
        "</svg>").encode()


def _slug(title: str) -> str:
    words = "".join(c if c.isalnum() else " " for c in title.lower()).split()
    return "-".join(words)[:60].strip("-")


def _usd(amount: Decimal) -> str:
    return f"${amount:,.2f}"


# ---- eBay: 2025 search results, ul.srp-results > li.s-card --------------------------------

_EBAY_CARD = """\
<li id="item{hash}" data-listingid="{id}" data-view="mi:1686|iid:{pos}" \
class="s-card s-card--horizontal s-card--overflow"><div class="su-card-container \
su-card-container--horizontal"><div class="su-card-container__media"><div class="su-media \
su-media--image"><div class="su-media__primary"><div class="su-media__image"><a \
class="image-treatment" href="{href}" target="_blank" tabindex="-1"><img class="s-card__image" \
loading="eager" src="{image}" alt="{title}"></a></div></div></div></div><div \
class="su-card-container__content"><div class="su-card-container__header">{caption}<a class="su-link" \
target="_blank" href="{href}"><div role="heading" aria-level="3" class="s-card__title"><span \
class="su-styled-text primary default">{title}</span><span class="clipped">Opens in a new window \
or tab</span></div></a><div class="s-card__subtitle-row"><div class="s-card__subtitle"><span \
class="su-styled-text secondary default">{condition}</span></div></div></div><div \
class="su-card-container__attributes su-card-container__attributes--has-secondary"><div \
class="su-card-container__attributes__primary">{rows}</div><div \
class="su-card-container__attributes__secondary"><div class="s-card__attribute-row"><span \
class="su-styled-text primary large">{seller} </span><span class="su-styled-text primary \
large">{positive} positive ({feedback})</span></div></div></div></div></div></li>"""
_EBAY_ROW = ('<div class="s-card__attribute-row"><span class="su-styled-text {style}">{text}'
             "</span></div>")


def _ebay_rows(card: DemoCard) -> str:
    how = "Buy It Now" if card.bids is None else f"{card.bids} bids"
    rows = [_EBAY_ROW.format(style="primary bold large-1 s-card__price", text=_usd(card.price)),
            _EBAY_ROW.format(style="primary bold large", text=how)]
    if card.best_offer:
        rows.append(_EBAY_ROW.format(style="secondary large", text="or Best Offer"))
    shipping = "Free delivery" if card.shipping == 0 else f"+{_usd(card.shipping or Decimal(0))} delivery"
    rows.append(_EBAY_ROW.format(style="secondary large", text=shipping))
    rows.append(_EBAY_ROW.format(style="secondary italic large", text=f"Located in {LOCATION}"))
    return "".join(rows)


_EBAY_CAPTION = ('<div class="s-card__caption"><span class="su-styled-text positive default">'
                 "Sold  {day:%b} {day.day}, {day:%Y}</span></div>")


def ebay_search_page(base_url: str, query: str, cards: tuple[DemoCard, ...] = EBAY_CARDS, *,
                     now: datetime | None = None) -> bytes:
    """An eBay search results page (2025 layout) holding ``cards``; a sold card carries its
    "Sold <date>" caption, ``sold_days_ago`` days before ``now``."""
    base = base_url.rstrip("/")
    items = []
    for pos, card in enumerate(cards, start=1):
        caption = ""
        if card.sold_days_ago is not None and now is not None:
            caption = _EBAY_CAPTION.format(day=(now - timedelta(days=card.sold_days_ago)).date())
        href = (f"{base}/itm/{card.item_id}?_skw={quote_plus(query)}&amp;itmmeta=DEMO{pos:04d}"
                f"&amp;hash=item{int(card.item_id):x}%3Ag%3ADEMO")
        items.append(_EBAY_CARD.format(
            caption=caption, hash=f"{int(card.item_id):x}", id=card.item_id, pos=pos, href=href,
            image=base + image_path("ebay", card.item_id), title=escape(card.title),
            condition=escape(card.condition), rows=_ebay_rows(card), seller=escape(card.seller),
            positive=card.positive, feedback=f"{card.feedback:,}"))
    q = escape(query)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{q} for sale | eBay</title></head><body><div id=\"srp-river-main\">"
        '<div class="srp-controls__count"><h1 class="srp-controls__count-heading">'
        f'<span class="BOLD">{len(cards)}</span> results for <span class="BOLD">{q}</span></h1>'
        '</div><div class="srp-river-results clearfix" id="srp-river-results">'
        f'<ul class="srp-results srp-list clearfix">{"".join(items)}</ul></div></div>'
        "</body></html>").encode()


# ---- Reddit: the listing JSON of /r/<sub>/new.json ------------------------------------------

def reddit_listing(base_url: str, now: datetime,
                   posts: tuple[DemoPost, ...] = REDDIT_POSTS) -> bytes:
    """Reddit's listing JSON (``raw_json=1``: titles and bodies unescaped) holding ``posts``."""
    base = base_url.rstrip("/")
    children = []
    for post in posts:
        permalink = f"/r/{SUBREDDIT}/comments/{post.post_id}/{_slug(post.title).replace('-', '_')}/"
        created = (now - timedelta(hours=post.hours_ago)).timestamp()
        children.append({"kind": "t3", "data": {
            "subreddit": SUBREDDIT, "subreddit_name_prefixed": f"r/{SUBREDDIT}",
            "selftext": post.body, "author_fullname": f"t2_{post.post_id}",
            "title": post.title, "link_flair_text": post.flair,
            "link_flair_css_class": post.flair.lower(), "name": f"t3_{post.post_id}",
            "id": post.post_id, "author": post.author,
            "author_flair_text": f"Trades: {post.trades}", "permalink": permalink,
            "url": base + permalink, "created": created, "created_utc": created,
            "is_self": True, "domain": f"self.{SUBREDDIT}", "thumbnail": "self",
            "stickied": False, "pinned": False, "distinguished": None, "over_18": False,
            "removed_by_category": None, "num_comments": 3, "score": 1, "locked": False,
        }})
    doc = {"kind": "Listing", "data": {"after": None, "dist": len(children), "modhash": "",
                                       "geo_filter": "", "children": children, "before": None}}
    return json.dumps(doc, ensure_ascii=False).encode()


# ---- Craigslist: static search results + JSON-LD ItemList -----------------------------------

_CL_CARD = """\
        <li class="cl-static-search-result" title="{title}">
            <a href="{href}">
                <div class="title">{title}</div>

                <div class="details">
                    <div class="price">{price}</div>
                    <div class="location">
                        {location}
                    </div>
                </div>
            </a>
        </li>
"""


def craigslist_href(base_url: str, ad: DemoAd) -> str:
    """A posting's link, in the legacy /<cat>/d/<slug>/<id>.html form."""
    return f"{base_url.rstrip('/')}/{CL_CATEGORY}/d/{_slug(ad.title)}/{ad.post_id}.html"


def craigslist_search_page(base_url: str, query: str,
                           ads: tuple[DemoAd, ...] = CRAIGSLIST_ADS) -> bytes:
    """A Craigslist search page as served to a client without JavaScript."""
    base = base_url.rstrip("/")
    q = escape(query)
    page_url = f"{base}/search/sss?query={quote_plus(query)}"
    ld = {"@type": "ItemList", "itemListElement": [
        {"@type": "ListItem", "position": str(i), "item": {
            "@context": "http://schema.org", "@type": "Product", "name": ad.title,
            "image": [base + image_path("craigslist", ad.post_id)],
            "offers": {"@type": "Offer", "price": f"{ad.price:.2f}", "priceCurrency": "USD",
                       "availableAtOrFrom": {"@type": "Place", "address": {
                           "@type": "PostalAddress", "addressLocality": ad.location,
                           "addressRegion": "EX", "addressCountry": "", "postalCode": "",
                           "streetAddress": ""}}}}}
        for i, ad in enumerate(ads)]}
    # NOTE: "</" inside a script would end it early; JSON allows the escaped "<\/" form
    ld_text = json.dumps(ld, ensure_ascii=False).replace("</", "<\\/")
    cards = "".join(_CL_CARD.format(title=escape(ad.title), href=craigslist_href(base, ad),
                                    price=f"${ad.price:,.0f}", location=escape(ad.location))
                    for ad in ads)
    return f"""<!DOCTYPE html>
<html>
<head>
	<meta charset="UTF-8">
	<meta property="og:site_name" content="craigslist">
	<title>exampleville for sale &quot;{q}&quot; - craigslist</title>
	<link rel="canonical" href="{escape(page_url)}">
<script type="application/ld+json" id="ld_searchpage_results" >
    {ld_text}
</script>
</head>
<body  class="no-js"  >
    <div class="cl-static-header">
        <a href="/">craigslist</a>
            <h1>For Sale &quot;{q}&quot; in Exampleville, EX</h1>
    </div>

    <ol class="cl-static-search-results">
{cards}    </ol>
</body>
</html>
""".encode()
