"""eBay HTML on the project's own pages: 2025 s-card search (active and sold), legacy s-item
search, the item page, and their outcomes. Runs without the real captures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from gpuscout.scraper.errors import MarkupDrift, UnsupportedPage
from gpuscout.scraper.listing import RawListing
from gpuscout.scraper.sources import detect_source
from gpuscout.scraper.sources.base import ParseResult
from gpuscout.scraper.sources.ebay.source import EbaySource
from tests.support.pages import by_id, read_page

US = "ebay/search-scard-us.html"
SOLD_UK = "ebay/search-scard-sold-uk.html"
DE = "ebay/search-sitem-de.html"
ITEM = "ebay/item.html"
US_URL = "https://www.ebay.com/sch/i.html?_nkw=rtx+3090&_sacat=0&_ipg=240&rt=nc"
UK_URL = ("https://www.ebay.co.uk/sch/i.html?_nkw=rtx+3090+founders+edition&_sacat=0&LH_Sold=1"
          "&LH_Complete=1")
DE_URL = "https://www.ebay.de/sch/i.html?_from=R40&_nkw=rtx+3090&_sacat=0"
ITEM_URL = "https://www.ebay.com/itm/400000000001?_skw=rtx+3090&hash=item5d21dba001"
D = Decimal


@pytest.fixture(scope="module")
def source() -> EbaySource:
    return EbaySource()


# ---- 2025 s-card, ebay.com ---------------------------------------------------------------------


def test_scard_counts_order_and_next_page(source: EbaySource) -> None:
    result = source.parse(read_page(US), US_URL)
    assert [x.external_id for x in result.listings] == [
        "100000000001", "100000000002", "100000000003", "100000000004", "100000000005"]
    # the two "Shop on eBay" placeholders carry made-up listing ids and are left out
    assert (result.skipped, result.incomplete, result.empty) == (2, 0, False)
    assert "9900000000000001" not in by_id(result)
    assert result.next_url == US_URL + "&_pgn=2"
    assert {x.currency for x in result.listings} == {"USD"}
    assert all(x.status == "active" and x.sold_at is None for x in result.listings)


def test_scard_fixed_price_free_delivery(source: EbaySource) -> None:
    assert by_id(source.parse(read_page(US), US_URL))["100000000001"] == RawListing(
        source="ebay", external_id="100000000001", url="https://www.ebay.com/itm/100000000001",
        title="[EXAMPLE] NVIDIA GeForce RTX 3090 Founders Edition 24GB GDDR6X",
        price=D("699.00"), shipping=D(0), currency="USD", location="United States",
        seller="example-seller-1", seller_feedback=1200, seller_positive_pct=99.8,
        condition="Pre-Owned", buying_format="fixed",
        image_url="https://i.ebayimg.com/images/g/EXAMPLEAAA/s-l500.webp",
        images=("https://i.ebayimg.com/images/g/EXAMPLEAAA/s-l500.webp",),
    )


def test_scard_auction_with_new_listing_highlight(source: EbaySource) -> None:
    listings = by_id(source.parse(read_page(US), US_URL))
    auction = listings["100000000002"]
    assert auction.title == "[EXAMPLE] RTX 3090 FE 24GB - tested, no reserve"  # no "New Listing"
    assert (auction.buying_format, auction.bids, auction.price, auction.shipping) == (
        "auction", 12, D("520.00"), D("18.50"))
    assert (auction.seller, auction.seller_feedback, auction.seller_positive_pct) == (
        "example-seller-2", 87, 100.0)
    single = listings["100000000005"]
    assert (single.bids, single.buying_format, single.condition) == (
        1, "auction", "For parts or not working")
    assert not any("Opens in a new window" in x.title for x in listings.values())


def test_scard_price_range_variation_and_lazy_image(source: EbaySource) -> None:
    bracket = by_id(source.parse(read_page(US), US_URL))["100000000003"]
    assert bracket.title == ("[EXAMPLE] GPU support bracket for RTX 3090 & 4090 cards, "
                             "pick your colour")
    assert (bracket.price, bracket.price_max, bracket.shipping) == (
        D("25.99"), D("34.99"), D("4.99"))
    assert bracket.url == "https://www.ebay.com/itm/100000000003?var=4242"
    assert (bracket.location, bracket.condition) == ("China", "Brand New")
    assert (bracket.seller_feedback, bracket.seller_positive_pct) == (12400, 97.5)
    # the lazy-loading placeholder in src is passed over for the deferred real photo
    assert bracket.image_url == "https://i.ebayimg.com/images/g/EXAMPLECCC/s-l500.webp"


def test_scard_best_offer_list_price_and_tagline(source: EbaySource) -> None:
    ftw3 = by_id(source.parse(read_page(US), US_URL))["100000000004"]
    # the struck-out list price ($899.99) is not the price; the tagline row is not the condition
    assert (ftw3.price, ftw3.price_max, ftw3.buying_format) == (D("749.00"), None, "best_offer")
    assert (ftw3.condition, ftw3.shipping, ftw3.location) == ("Pre-Owned", D(0), "Canada")
    assert (ftw3.seller, ftw3.seller_feedback) == ("example-seller-4", 2000)


def test_scard_next_page_follows_the_page_host(source: EbaySource) -> None:
    local = source.parse(read_page(US), "http://127.0.0.1:8765/sch/i.html?_nkw=rtx+3090")
    assert local.next_url == ("http://127.0.0.1:8765/sch/i.html?_nkw=rtx+3090&_sacat=0&_ipg=240"
                              "&rt=nc&_pgn=2")
    assert local.listings[0].url == "https://www.ebay.com/itm/100000000001"


# ---- s-card, sold listings, ebay.co.uk ---------------------------------------------------------


def test_sold_uk_listings(source: EbaySource) -> None:
    result = source.parse(read_page(SOLD_UK), UK_URL)
    assert (len(result.listings), result.skipped, result.next_url) == (3, 2, None)
    listings = by_id(result)
    assert listings["200000000001"] == RawListing(
        source="ebay", external_id="200000000001", url="https://www.ebay.co.uk/itm/200000000001",
        title="[EXAMPLE] NVIDIA RTX 3090 Founders Edition 24GB graphics card",
        price=D("560.00"), shipping=D(0), currency="GBP", location="Germany",
        seller="example-seller-6", seller_feedback=45, seller_positive_pct=100.0,
        condition="Used", buying_format="fixed", status="sold",
        sold_at=datetime(2025, 8, 3, tzinfo=UTC),
        image_url="https://i.ebayimg.com/images/g/EXAMPLEUK1/s-l500.webp",
        images=("https://i.ebayimg.com/images/g/EXAMPLEUK1/s-l500.webp",),
    )
    auction = listings["200000000002"]
    assert (auction.price, auction.shipping, auction.bids, auction.buying_format) == (
        D("480.00"), D("12.00"), 23, "auction")
    assert (auction.sold_at, auction.seller_feedback) == (datetime(2025, 9, 12, tzinfo=UTC), 3400)
    accepted = listings["200000000003"]  # "Best offer accepted", its price struck through
    assert (accepted.price, accepted.buying_format, accepted.shipping) == (
        D("610.00"), "best_offer", D("9.99"))
    assert accepted.sold_at == datetime(2025, 10, 28, tzinfo=UTC)


def test_sold_page_prices_keep_their_own_currency_on_another_host(source: EbaySource) -> None:
    result = source.parse(read_page(SOLD_UK), "http://127.0.0.1:8765/sch/i.html?_pgn=2")
    assert {x.currency for x in result.listings} == {"GBP"}  # "£" names it, whatever the host


# ---- legacy s-item, ebay.de, EUR ---------------------------------------------------------------


def test_sitem_counts_carousel_and_next_page(source: EbaySource) -> None:
    result = source.parse(read_page(DE), DE_URL)
    assert [x.external_id for x in result.listings] == [
        "300000000001", "300000000002", "300000000003", "300000000004", "300000000005"]
    # two "Shop on eBay" templates and the two cards of the advert carousel
    assert (result.skipped, result.incomplete) == (4, 0)
    assert {x.currency for x in result.listings} == {"EUR"}
    assert result.next_url == DE_URL + "&_pgn=2"


def test_sitem_auction_with_highlight_location_and_seller(source: EbaySource) -> None:
    assert by_id(source.parse(read_page(DE), DE_URL))["300000000001"] == RawListing(
        source="ebay", external_id="300000000001", url="https://www.ebay.de/itm/300000000001",
        title="[BEISPIEL] NVIDIA GeForce RTX 3090 Founders Edition 24 GB",  # "Neues Angebot" gone
        price=D("650.00"), shipping=D("6.99"), currency="EUR", location="Österreich",
        seller="example-seller-9", seller_feedback=1234, seller_positive_pct=99.5,
        condition="Gebraucht", buying_format="auction", bids=5,
        ends_in=timedelta(days=2, hours=5),  # "Noch 2T 5Std"
        image_url="https://i.ebayimg.com/thumbs/images/g/EXAMPLEDE1/s-l225.webp",
        images=("https://i.ebayimg.com/thumbs/images/g/EXAMPLEDE1/s-l225.webp",),
    )


def test_sitem_prices_ranges_offers_and_free_delivery(source: EbaySource) -> None:
    listings = by_id(source.parse(read_page(DE), DE_URL))
    pc = listings["300000000002"]  # "EUR 1.249,00", "Kostenloser Versand"
    assert (pc.price, pc.shipping, pc.buying_format, pc.condition) == (
        D("1249.00"), D(0), "fixed", "Brandneu")
    pads = listings["300000000003"]  # "EUR 14,95 bis EUR 19,95", "oder Preisvorschlag"
    assert (pads.price, pads.price_max, pads.buying_format) == (D("14.95"), D("19.95"), "best_offer")
    refurb = listings["300000000004"]  # no shipping row, only "Gratis 3-Tage-Lieferung"
    assert (refurb.shipping, refurb.condition) == (D(0), "Sehr gut - Refurbished")
    box = listings["300000000005"]  # "1 Gebot"
    assert (box.price, box.bids, box.shipping, box.buying_format) == (
        D("9.00"), 1, D("4.99"), "auction")


# ---- item page ---------------------------------------------------------------------------------


def test_item_page(source: EbaySource) -> None:
    result = source.parse(read_page(ITEM), ITEM_URL)
    assert result == ParseResult(listings=(RawListing(
        source="ebay", external_id="400000000001", url="https://www.ebay.com/itm/400000000001",
        title="[EXAMPLE] NVIDIA GeForce RTX 3090 Founders Edition 24GB, original box",
        # the seller's own currency, not the JSON-LD's USD conversion
        price=D("600.00"), shipping=D("25.00"), currency="GBP",
        location="Exampleton, United Kingdom", seller="example-seller-10",
        seller_feedback=2345, seller_positive_pct=99.6, condition="Used",
        buying_format="best_offer",
        description="Brand: NVIDIA\nChipset/GPU Model: NVIDIA GeForce RTX 3090\nMemory Size: 24 GB",
        image_url="https://i.ebayimg.com/images/g/EXAMPLEIT1/s-l1600.jpg",
        images=("https://i.ebayimg.com/images/g/EXAMPLEIT1/s-l1600.jpg",
                "https://i.ebayimg.com/images/g/EXAMPLEIT2/s-l1600.jpg",
                "https://i.ebayimg.com/images/g/EXAMPLEIT3/s-l1600.jpg"),
    ),))


def test_item_page_json_ld_fallback_and_auction(source: EbaySource) -> None:
    body = read_page(ITEM).replace(b'class="x-price-primary"', b'class="x-price-gone"')
    item = source.parse(body, ITEM_URL).listings[0]
    assert (item.price, item.currency, item.shipping) == (D("760.00"), "USD", D("31.67"))
    bid = read_page(ITEM).replace(b">Make offer<", b">Place bid<")
    assert source.parse(bid, ITEM_URL).listings[0].buying_format == "auction"
    plain = read_page(ITEM).replace(b">Make offer<", b">Add to cart<")
    assert source.parse(plain, ITEM_URL).listings[0].buying_format == "fixed"


def test_item_page_without_title_or_price_is_drift(source: EbaySource) -> None:
    body = read_page(ITEM).replace(b'class="x-price-primary"', b'class="x-price-gone"')
    body = body.replace(b'"price":"760.00",', b"")
    with pytest.raises(MarkupDrift):
        source.parse(body, ITEM_URL)


# ---- outcomes ----------------------------------------------------------------------------------


def test_renamed_card_classes_are_markup_drift(source: EbaySource) -> None:
    body = read_page(US).replace(b'class="s-card ', b'class="x-tile ')
    with pytest.raises(MarkupDrift):
        source.parse(body, US_URL)


def test_renamed_price_class_is_markup_drift(source: EbaySource) -> None:
    body = read_page(US).replace(b"s-card__price", b"s-card__amount")
    with pytest.raises(MarkupDrift):
        source.parse(body, US_URL)


def test_partly_readable_page_counts_incomplete(source: EbaySource) -> None:
    # the second card's price is gone: it counts as incomplete, the rest still parse
    body = read_page(US).replace(b'large-1 s-card__price">$520.00', b'large-1">$520.00')
    result = source.parse(body, US_URL)
    assert (len(result.listings), result.incomplete) == (4, 1)
    assert "100000000002" not in by_id(result)


def test_results_page_without_cards_or_notice_is_drift(source: EbaySource) -> None:
    start, end = read_page(US).index(b"<li "), read_page(US).rindex(b"</li>") + 5
    body = read_page(US)[:start] + read_page(US)[end:]
    with pytest.raises(MarkupDrift):
        source.parse(body, US_URL)
    notice = body.replace(b'<span class="BOLD">5</span> results', b'<span class="BOLD">0</span> results')
    assert source.parse(notice, US_URL) == ParseResult(listings=(), empty=True)


def test_other_marketplaces_are_unsupported(source: EbaySource) -> None:
    with pytest.raises(UnsupportedPage):
        source.parse(read_page("kleinanzeigen/search.html"),
                     "https://www.kleinanzeigen.de/s-pc-zubehoer-software/rtx-3090/k0c225")
    with pytest.raises(UnsupportedPage):
        source.parse(read_page("reddit/hardwareswap-new.json"),
                     "https://www.reddit.com/r/hardwareswap/new.json")


@pytest.mark.parametrize("name", [US, SOLD_UK, DE, ITEM])
def test_own_pages_are_detected_as_ebay(name: str) -> None:
    body = read_page(name)
    assert EbaySource.sniff(body)
    assert isinstance(detect_source(body), EbaySource)
