"""eBay HTML: search pages (s-card, s-item), the item page, outcomes, search URLs and sniffing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpuscout.scraper.errors import Blocked, MarkupDrift, ScrapeError, UnsupportedPage
from gpuscout.scraper.listing import RawListing
from gpuscout.scraper.sources import detect_source, get_source
from gpuscout.scraper.sources.base import ParseResult
from gpuscout.scraper.sources.ebay.html import canonical_url, parse_date, parse_seller, time_left
from gpuscout.scraper.sources.ebay.source import EbaySource
from tests.support.pages import by_id

Reader = Callable[[str], bytes]

US_SOLD = "ebay-html/search-scard-sold-us-2025-11.html"
UK = "ebay-html/search-scard-uk-2025-08.html"
DE = "ebay-html/search-sitem-de-2022-11.html"
ITEM = "ebay-html/item-rtx-5090-fe-2025-06.html"
US_URL = ("https://www.ebay.com/sch/i.html?_nkw=Charizard+Base+Set&_sacat=183454&LH_Sold=1"
          "&LH_Complete=1")
UK_URL = "https://www.ebay.co.uk/sch/i.html?_nkw=blu+ray&_sacat=0"
DE_URL = "https://www.ebay.de/sch/i.html?_from=R40&_nkw=apple&_sacat=58058"
ITEM_URL = "https://www.ebay.com/itm/226771798286"


@pytest.fixture(scope="module")
def source() -> EbaySource:
    return EbaySource()


# ---- 2025 s-card, sold listings, ebay.com ----------------------------------------------------


def test_us_sold_counts(source: EbaySource, read_fixture: Reader) -> None:
    result = source.parse(read_fixture(US_SOLD), US_URL)
    assert len(result.listings) == 60
    assert result.skipped == 2  # the two hidden "Shop on eBay" template cards
    assert result.incomplete == 0
    assert not result.empty
    assert all(listing.status == "sold" and listing.sold_at for listing in result.listings)
    assert all(listing.currency == "USD" for listing in result.listings)
    assert "2500219655424533" not in by_id(result)  # the placeholder's made-up id
    assert all(listing.title != "Shop on eBay" for listing in result.listings)


def test_us_sold_fixed_price_free_delivery(source: EbaySource, read_fixture: Reader) -> None:
    listing = by_id(source.parse(read_fixture(US_SOLD), US_URL))["116546998102"]
    assert listing == RawListing(
        source="ebay", external_id="116546998102", url="https://www.ebay.com/itm/116546998102",
        title="Charizard 004/102 Base Set Holo", price=Decimal("399.99"), shipping=Decimal(0),
        currency="USD", location="United States", seller="bigsilverado00", seller_feedback=388,
        seller_positive_pct=98.6, condition="Pre-Owned", buying_format="fixed", status="sold",
        sold_at=datetime(2025, 8, 28, tzinfo=UTC),
        image_url="https://i.ebayimg.com/images/g/QZ0AAeSwqBdn71Fl/s-l500.webp",
        images=("https://i.ebayimg.com/images/g/QZ0AAeSwqBdn71Fl/s-l500.webp",),
    )


def test_us_sold_price_range_and_entities(source: EbaySource, read_fixture: Reader) -> None:
    listing = by_id(source.parse(read_fixture(US_SOLD), US_URL))["197681979388"]
    assert listing.title == "2011 Pokemon Black & White Base Set Pick Your Card"
    assert (listing.price, listing.price_max) == (Decimal("1.49"), Decimal("1.69"))
    assert listing.shipping == Decimal("0.79")
    assert (listing.seller, listing.seller_feedback, listing.seller_positive_pct) == (
        "legendmakers", 13, 100.0)
    assert listing.sold_at == datetime(2025, 10, 11, tzinfo=UTC)
    assert listing.buying_format == "fixed"


def test_us_sold_auction_with_bids(source: EbaySource, read_fixture: Reader) -> None:
    listing = by_id(source.parse(read_fixture(US_SOLD), US_URL))["317542503719"]
    assert listing.title == "Ludicolo 095/094 Illustration Rare Phantasmal Flames Pokemon Card"
    assert listing.buying_format == "auction"
    assert listing.bids == 15
    assert listing.price == Decimal("6.50")
    assert listing.shipping == Decimal("1.32")
    assert listing.seller == "keen.cards"
    assert listing.seller_feedback == 699
    assert listing.sold_at == datetime(2025, 11, 20, tzinfo=UTC)
    single_bid = by_id(source.parse(read_fixture(US_SOLD), US_URL))["306600669430"]
    assert (single_bid.bids, single_bid.buying_format) == (1, "auction")


def test_us_sold_best_offer_and_feedback_in_thousands(source: EbaySource,
                                                      read_fixture: Reader) -> None:
    listings = by_id(source.parse(read_fixture(US_SOLD), US_URL))
    offer = listings["236470331797"]
    assert offer.title == "1999 Pokemon Game #4 Charizard Holo Base Set NM-MT PSA 8 - New Cert"
    assert (offer.price, offer.shipping) == (Decimal("845.00"), Decimal("5.24"))
    assert offer.buying_format == "best_offer"
    assert offer.condition == "New (Other)"
    accepted = listings["326856932046"]  # "Best offer accepted"
    assert accepted.buying_format == "best_offer"
    thousands = listings["116401295784"]
    assert (thousands.seller, thousands.seller_feedback, thousands.seller_positive_pct) == (
        "the.tradingcardguy", 2300, 99.9)
    assert listings["167941997682"].seller_feedback == 2000  # "99.8% positive (2K)"


def test_us_sold_title_highlight_and_list_price(source: EbaySource, read_fixture: Reader) -> None:
    listings = by_id(source.parse(read_fixture(US_SOLD), US_URL))
    # "New Listing" highlight and the clipped "Opens in a new window or tab" are not the title
    assert listings["286955451586"].title == (
        "Vintage Pokemon Card Collection! Over 150+ Rare Vintage Cards. (See Description)")
    assert not any("Opens in a new window" in item.title for item in listings.values())
    # a struck-out list price ($299.99) is not the price
    mewtwo = listings["167941997682"]
    assert (mewtwo.price, mewtwo.price_max) == (Decimal("75.00"), None)
    # the seller's tagline row sits above the condition row
    assert listings["156967936119"].condition == "New (Other)"


def test_us_sold_shipping_estimate_and_location(source: EbaySource, read_fixture: Reader) -> None:
    listing = by_id(source.parse(read_fixture(US_SOLD), US_URL))["157226785094"]
    assert listing.shipping == Decimal("22.11")  # "+$22.11 shipping estimate"
    assert listing.location == "United Kingdom"
    assert listing.price == Decimal("11.75")


def test_us_sold_next_url(source: EbaySource, read_fixture: Reader) -> None:
    result = source.parse(read_fixture(US_SOLD), US_URL)
    assert result.next_url == (
        "https://www.ebay.com/sch/i.html?_nkw=Charizard+Base+Set&_sacat=183454&_ipg=60&RT=nc"
        "&LH_Sold=1&LH_Complete=1&_pgn=2")
    local = source.parse(read_fixture(US_SOLD), "http://127.0.0.1:8765/sch/i.html?_nkw=x")
    assert local.next_url is not None
    assert local.next_url.startswith("http://127.0.0.1:8765/sch/i.html?_nkw=Charizard+Base+Set")


# ---- s-card, ebay.co.uk, GBP -------------------------------------------------------------------


def test_uk_counts_and_currency(source: EbaySource, read_fixture: Reader) -> None:
    result = source.parse(read_fixture(UK), UK_URL)
    # NOTE: the page says "0 results" for UK sellers, then lists international sellers' items
    assert len(result.listings) == 60
    assert result.skipped == 2
    assert not result.empty
    assert result.next_url is None
    assert {listing.currency for listing in result.listings} == {"GBP"}
    assert all(listing.status == "active" and listing.sold_at is None
               for listing in result.listings)


def test_uk_listing_fields(source: EbaySource, read_fixture: Reader) -> None:
    listings = by_id(source.parse(read_fixture(UK), UK_URL))
    creep = listings["357137470627"]
    assert creep == RawListing(
        source="ebay", external_id="357137470627", url="https://www.ebay.co.uk/itm/357137470627",
        title="Umbrella CREEP Blu-ray Limited Collector’s Edition Brand New Sealed",
        price=Decimal("68.90"), shipping=Decimal(0), currency="GBP", location="Germany",
        seller="avant-garde-cinema", seller_feedback=2900, seller_positive_pct=100.0,
        condition="Brand new", buying_format="fixed",
        image_url="https://i.ebayimg.com/images/g/LrIAAOSwk3RoU5m1/s-l500.webp",
        images=("https://i.ebayimg.com/images/g/LrIAAOSwk3RoU5m1/s-l500.webp",),
    )
    gorge = listings["236238189851"]
    assert gorge.buying_format == "best_offer"
    assert (gorge.price, gorge.location, gorge.seller, gorge.seller_feedback) == (
        Decimal("13.51"), "Malaysia", "ls_legacy", 3)
    scream = listings["275918723039"]
    assert (scream.seller, scream.seller_feedback, scream.seller_positive_pct) == (
        "kabukicatjapan", 22900, 97.7)
    assert (scream.price, scream.location) == (Decimal("31.29"), "Japan")


# ---- legacy s-item, ebay.de, EUR, auctions -----------------------------------------------------


def test_de_counts(source: EbaySource, read_fixture: Reader) -> None:
    result = source.parse(read_fixture(DE), DE_URL)
    assert len(result.listings) == 60
    # two "Shop on eBay" templates + seven cards of the "Refurbished" advert carousel
    assert result.skipped == 9
    assert result.incomplete == 0
    assert {listing.currency for listing in result.listings} == {"EUR"}
    assert sum(listing.buying_format == "auction" for listing in result.listings) == 27
    assert result.next_url == (
        "https://www.ebay.de/sch/i.html?_from=R40&_nkw=apple&_sacat=58058&_pgn=2")


def test_de_fixed_price_free_shipping(source: EbaySource, read_fixture: Reader) -> None:
    listing = by_id(source.parse(read_fixture(DE), DE_URL))["144278067683"]
    assert listing == RawListing(
        source="ebay", external_id="144278067683", url="https://www.ebay.de/itm/144278067683",
        title="3x 2m Ladekabel NYLON für Original iPhone 6 7 8 11 12 X XS XR Pro Max USB Apple",
        price=Decimal("10.79"), shipping=Decimal(0), currency="EUR", condition="Brandneu",
        buying_format="fixed",
        image_url="https://i.ebayimg.com/thumbs/images/g/MMcAAOSwYLBjfqw~/s-l225.webp",
        images=("https://i.ebayimg.com/thumbs/images/g/MMcAAOSwYLBjfqw~/s-l225.webp",),
    )


def test_de_auctions(source: EbaySource, read_fixture: Reader) -> None:
    listings = by_id(source.parse(read_fixture(DE), DE_URL))
    macbook = listings["125633387556"]  # "Neues Angebot" highlight stripped
    assert macbook.title == (
        'Apple MacBook Pro 15" A1398, 16GB/256GB - MJLQ2D/A - OVP - Juni 2015 - Silber')
    assert (macbook.price, macbook.shipping, macbook.bids) == (
        Decimal("152.00"), Decimal("6.99"), 0)
    assert macbook.buying_format == "auction"
    assert macbook.condition == "Gebraucht"
    assert macbook.ends_in is not None and macbook.ends_at is None
    busy = listings["175507481308"]
    assert (busy.price, busy.shipping, busy.bids) == (Decimal("135.00"), Decimal("9.00"), 33)
    auctions = [x for x in listings.values() if x.buying_format == "auction"]
    assert all(x.ends_in is not None for x in auctions) and len(auctions) == 27
    assert max(x.ends_in for x in auctions if x.ends_in) == timedelta(days=9, hours=21)
    assert min(x.ends_in for x in auctions if x.ends_in) == timedelta(hours=23, minutes=39)


@pytest.mark.parametrize(("text", "left"), [
    ("Noch 6T 23Std", timedelta(days=6, hours=23)),
    ("6d 23h left", timedelta(days=6, hours=23)),
    ("2h left (Today 09:12 PM)", timedelta(hours=2)),
    ("Time left: 2h 5m", timedelta(hours=2, minutes=5)),
    ("Il reste 3j 4h", timedelta(days=3, hours=4)),
    ("12 bids", None),
    ("5 left", None),
])
def test_time_left(text: str, left: timedelta | None) -> None:
    assert time_left(text) == left


def test_de_best_offer_ranges_and_thousands(source: EbaySource, read_fixture: Reader) -> None:
    listings = by_id(source.parse(read_fixture(DE), DE_URL))
    offer = listings["403962570232"]  # "oder Preisvorschlag"
    assert (offer.price, offer.buying_format, offer.shipping) == (
        Decimal("3.79"), "best_offer", Decimal(0))
    ipad = listings["373649272098"]  # "EUR 234,95 bis EUR 269,95"
    assert (ipad.price, ipad.price_max) == (Decimal("234.95"), Decimal("269.95"))
    air = listings["185522153738"]  # "EUR 1.249,00"
    assert (air.title, air.price) == ('Apple MacBook Air Ret. 13" (2022)', Decimal("1249.00"))
    refurb = listings["185076426382"]  # no shipping row, only "Gratis 3-Tage-Lieferung"
    assert (refurb.shipping, refurb.condition) == (Decimal(0), "Sehr gut - Refurbished")


# ---- item page ---------------------------------------------------------------------------------


def test_item_page(source: EbaySource, read_fixture: Reader) -> None:
    result = source.parse(read_fixture(ITEM), ITEM_URL)
    assert len(result.listings) == 1
    item = result.listings[0]
    assert item.external_id == "226771798286"
    assert item.url == "https://www.ebay.com/itm/226771798286"
    assert item.title == "NVIDIA GeForce RTX 5090 FE Founders Edition"
    # the seller's own currency, not the JSON-LD's USD conversion (3971.45)
    assert (item.price, item.currency, item.shipping) == (
        Decimal("3500.00"), "EUR", Decimal("150.00"))
    assert item.location == "Paris, France"
    assert (item.seller, item.seller_feedback, item.seller_positive_pct) == (
        "salomon0651", 113, 100.0)
    assert item.condition == "New"
    assert item.buying_format == "fixed"
    assert item.image_url == "https://i.ebayimg.com/images/g/qvsAAOSwwLFoMPT6/s-l1600.jpg"
    assert item.images == ("https://i.ebayimg.com/images/g/qvsAAOSwwLFoMPT6/s-l1600.jpg",)
    assert item.description is not None
    assert "Modèle du chipset/processeur graphique: RTX 5090" in item.description
    assert "Marque: NVIDIA" in item.description.splitlines()


def test_item_page_json_ld_fallback(source: EbaySource, read_fixture: Reader) -> None:
    body = read_fixture(ITEM).replace(b"class=x-price-primary", b"class=x-price-gone")
    item = source.parse(body, ITEM_URL).listings[0]
    # the JSON-LD offer: the buyer site's USD conversion with its shipping rate
    assert (item.price, item.currency, item.shipping) == (
        Decimal("3971.45"), "USD", Decimal("170.21"))


@pytest.mark.parametrize(("text", "expected"), [
    ("bigsilverado00 98.6% positive (388)", ("bigsilverado00", 388, 98.6)),
    ("kabukicatjapan 97.7% positive (22.9K)", ("kabukicatjapan", 22900, 97.7)),
    ("sanchcollectables 99% positive (1K)", ("sanchcollectables", 1000, 99.0)),
    ("haendler_de 99,5 % positiv (1.234)", ("haendler_de", 1234, 99.5)),
    ("oldstyle (12,345) 99.8%", ("oldstyle", 12345, 99.8)),
    ("Save up to 15% when you buy more", None),
])
def test_parse_seller(text: str, expected: tuple[str, int, float] | None) -> None:
    assert parse_seller(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Sold  Nov 3, 2025", datetime(2025, 11, 3, tzinfo=UTC)),
    ("Sold  3 Aug 2025", datetime(2025, 8, 3, tzinfo=UTC)),
    ("Verkauft  3. Okt. 2025", datetime(2025, 10, 3, tzinfo=UTC)),
    ("Sold  Feb 30, 2025", None),
    ("Sold recently", None),
])
def test_parse_date(text: str, expected: datetime | None) -> None:
    assert parse_date(text) == expected


def test_canonical_url_strips_tracking_keeps_variation() -> None:
    assert canonical_url("https://www.ebay.com/itm/116546998102?_skw=x&hash=item1b:g:Q&itmprp=enc",
                         "") == "https://www.ebay.com/itm/116546998102"
    assert canonical_url("/itm/Some-Title/116546998102?var=4242&_trkparms=x",
                         "https://www.ebay.de/sch/i.html") == (
        "https://www.ebay.de/itm/116546998102?var=4242")


# ---- outcomes ----------------------------------------------------------------------------------

# Synthetic pages (not captures), shaped like the eBay pages they stand for.
SYNTHETIC_NO_RESULTS = b"""<!DOCTYPE html><html><head>
<title>xyzzyq plugh for sale | eBay</title>
<link rel="stylesheet" href="https://ir.ebaystatic.com/rs/c/srp.css"></head><body>
<div class="srp-controls__control srp-controls__count"><h1 class="srp-controls__count-heading">
<span class="BOLD">0</span> results for <span class="BOLD">xyzzyq plugh</span></h1></div>
<div class="srp-river-results clearfix"><div class="srp-river-answer srp-river-answer--SAVE_CARD">
<div class="srp-save-null-search"><h3>No exact matches found</h3></div></div>
<ul class="srp-results srp-list clearfix"></ul></div></body></html>"""
SYNTHETIC_CAPTCHA = b"""<!DOCTYPE html><html><head><title>Security Measure | eBay</title>
<script src="https://hcaptcha.com/1/api.js" async defer></script></head><body>
<h1>Please verify yourself to continue</h1><div class="h-captcha" data-sitekey="x"></div>
</body></html>"""
SYNTHETIC_BOT_CHECK = b"""<!DOCTYPE html><html><head><title>Pardon Our Interruption...</title>
</head><body><h1>Pardon Our Interruption</h1><p>As you were browsing something about your browser
made us think you were a bot.</p><img src="https://ir.ebaystatic.com/pictures/aw/pics/logo.png">
</body></html>"""
SYNTHETIC_SIGN_IN = b"""<!DOCTYPE html><html><head><title>Sign in or Register | eBay</title></head>
<body><form id="signin-form"></form></body></html>"""


def test_no_results_page_is_empty(source: EbaySource) -> None:
    result = source.parse(SYNTHETIC_NO_RESULTS, "https://www.ebay.com/sch/i.html?_nkw=xyzzyq")
    assert result == ParseResult(listings=(), empty=True)


def test_captcha_is_blocked(source: EbaySource) -> None:
    with pytest.raises(Blocked) as caught:
        source.parse(SYNTHETIC_CAPTCHA, "https://www.ebay.com/sch/i.html?_nkw=rtx+3090")
    assert caught.value.reason == "captcha"
    assert EbaySource.sniff(SYNTHETIC_CAPTCHA)


@pytest.mark.parametrize(("body", "url", "reason"), [
    (SYNTHETIC_BOT_CHECK, "https://www.ebay.com/sch/i.html?_nkw=rtx", "bot_check"),
    (b"<html></html>", "https://www.ebay.com/splashui/challenge?ap=1&ru=x", "bot_check"),
    (b"<html></html>", "https://www.ebay.com/splashui/captcha?ap=1&ru=x", "captcha"),
    (b"<html></html>", "https://signin.ebay.com/ws/eBayISAPI.dll?SignIn&ru=x", "login"),
    (SYNTHETIC_SIGN_IN, "https://www.ebay.com/sch/i.html?_nkw=rtx", "login"),
])
def test_challenges_are_blocked(source: EbaySource, body: bytes, url: str, reason: str) -> None:
    with pytest.raises(Blocked) as caught:
        source.parse(body, url)
    assert caught.value.reason == reason


def test_renamed_card_classes_are_markup_drift(source: EbaySource, read_fixture: Reader) -> None:
    body = read_fixture(US_SOLD).replace(b'class="s-card ', b'class="x-tile ')
    with pytest.raises(MarkupDrift):
        source.parse(body, US_URL)


def test_renamed_price_class_is_markup_drift(source: EbaySource, read_fixture: Reader) -> None:
    body = read_fixture(UK).replace(b"s-card__price", b"s-card__amount")
    with pytest.raises(MarkupDrift):
        source.parse(body, UK_URL)


def test_partly_readable_page_counts_incomplete(source: EbaySource, read_fixture: Reader) -> None:
    # the first price in the document belongs to a "Shop on eBay" template card
    body = read_fixture(DE).replace(b"<span class=s-item__price>", b"<span>", 6)
    result = source.parse(body, DE_URL)
    assert (len(result.listings), result.incomplete) == (55, 5)


def test_unsupported_pages(source: EbaySource, read_fixture: Reader) -> None:
    with pytest.raises(UnsupportedPage):
        source.parse(b"<html><body><p>hello</p></body></html>", "https://example.com/")
    with pytest.raises(UnsupportedPage):
        source.parse(read_fixture("kleinanzeigen/search-2026-04.html"),
                     "https://www.kleinanzeigen.de/s-grafikkarten/rtx-3090/k0")
    with pytest.raises(UnsupportedPage):
        source.parse(read_fixture("reddit/hardwareswap-new-2023-02.json"),
                     "https://www.reddit.com/r/hardwareswap/new.json")


@settings(max_examples=300, deadline=None)
@given(st.one_of(
    st.binary(max_size=3000),
    st.binary(max_size=500).map(lambda b: b"<html><title>| eBay</title>" + b),
    st.binary(max_size=500).map(lambda b: b'<ul class="srp-results"><li class="s-card">' + b),
    st.binary(max_size=500).map(lambda b: b"[{" + b),
    st.binary(max_size=500).map(lambda b: b'{"itemSummaries": [' + b),
))
def test_arbitrary_bytes_raise_only_scrape_errors(body: bytes) -> None:
    try:
        result = EbaySource().parse(body, "https://www.ebay.com/sch/i.html?_nkw=x")
    except ScrapeError as exc:
        # the last-resort guard (reason "error") must never be what handled the input
        assert not (isinstance(exc, MarkupDrift) and exc.reason == "error")
    else:
        assert isinstance(result, ParseResult)


# ---- sniffing and registry ---------------------------------------------------------------------


@pytest.mark.parametrize("name", [US_SOLD, UK, DE, ITEM])
def test_sniff_ebay_pages(read_fixture: Reader, name: str) -> None:
    body = read_fixture(name)
    assert EbaySource.sniff(body)
    assert isinstance(detect_source(body), EbaySource)


@pytest.mark.parametrize("name", [
    "reddit/hardwareswap-new-2023-02.json", "craigslist/search-static-2026-05.html",
    "craigslist/posting-2026-05.html", "craigslist/sapi-search-2026-04.json",
    "facebook/item-login-wall-2025-04.html", "facebook/bulk-route-definitions-2025-04.json",
    "kijiji/search-next-data-2026-08.json", "kleinanzeigen/search-2026-04.html",
])
def test_sniff_rejects_other_marketplaces(read_fixture: Reader, name: str) -> None:
    assert not EbaySource.sniff(read_fixture(name))


def test_sniff_by_host() -> None:
    assert EbaySource.sniff(b"", "https://www.ebay.co.uk/sch/i.html?_nkw=x")
    assert not EbaySource.sniff(b"", "https://www.notebay.com/")
    assert isinstance(get_source("ebay"), EbaySource)
