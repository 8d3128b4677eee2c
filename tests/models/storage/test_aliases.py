"""One listing per post whichever id a page shows (Craigslist's numeric post id or its token)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from gpuscout.models.storage.aliases import remember, resolve
from gpuscout.models.storage.records import ListingRecord
from gpuscout.models.storage.store import upsert_listings
from gpuscout.models.storage.tables.listings import Listing, ListingAlias

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TOKEN, POST_ID = "Ex_aMpLe-T0k3n_A1", "7900000001"


def record(ext: str, price: int = 70_000) -> ListingRecord:
    return ListingRecord(source="craigslist", external_id=ext, title="RTX 3090 FE",
                         url=f"https://www.craigslist.org/view/d/x/{ext}", price=price,
                         currency="USD")


def store(sessions: Any, rec: ListingRecord, aliases: tuple[str, ...] = (),
          at: datetime = NOW) -> tuple[str, dict[tuple[str, str], int]]:
    """Resolve, upsert and remember one record as a scan does; its stored id and the ids."""
    with sessions() as s, s.begin():
        (resolved,), pending = resolve(s, [rec], {(rec.source, rec.external_id): aliases}
                                       if aliases else {})
        result = upsert_listings(s, [resolved], now=at, search="cl")
        remember(s, result.ids, pending)
    return resolved.external_id, result.ids


def count(sessions: Any) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count(Listing.id))) or 0)


def test_token_first_then_both_then_the_number_alone_stay_one_listing(sessions: Any) -> None:
    stored, ids = store(sessions, record(TOKEN))                 # a search card: the token
    listing_id = ids[("craigslist", TOKEN)]
    # the posting page (or sapi) shows the number with the token: the stored listing, renamed
    stored, ids = store(sessions, record(POST_ID, 69_000), (TOKEN,), NOW + timedelta(hours=1))
    assert stored == TOKEN and ids == {("craigslist", TOKEN): listing_id}
    # a legacy card with the number alone now finds it through the alias
    stored, ids = store(sessions, record(POST_ID, 68_000), at=NOW + timedelta(hours=2))
    assert stored == TOKEN and ids == {("craigslist", TOKEN): listing_id}
    assert count(sessions) == 1
    with sessions() as s:
        aliases = s.execute(select(ListingAlias.alias, ListingAlias.listing_id)).all()
        listing = s.get(Listing, listing_id)
        assert listing is not None and listing.price == 68_000  # every sighting updated it
    assert [tuple(a) for a in aliases] == [(POST_ID, listing_id)]


def test_number_first_then_the_token_through_a_page_that_shows_both(sessions: Any) -> None:
    _, ids = store(sessions, record(POST_ID))
    listing_id = ids[("craigslist", POST_ID)]
    stored, _ = store(sessions, record(POST_ID), (TOKEN,))
    assert stored == POST_ID
    stored, ids = store(sessions, record(TOKEN))                # a token-only card
    assert stored == POST_ID and ids == {("craigslist", POST_ID): listing_id}
    assert count(sessions) == 1


def test_records_without_aliases_of_unknown_posts_are_left_as_they_are(sessions: Any) -> None:
    with sessions() as s:
        records = [record("a1"), record("a2")]
        out, pending = resolve(s, records, {})
    assert out == records and pending == {}


def test_an_alias_known_for_one_listing_is_not_moved_to_another(sessions: Any) -> None:
    _, first = store(sessions, record(POST_ID), (TOKEN,))
    _, second = store(sessions, record("7900000002"))
    with sessions() as s, s.begin():
        added = remember(s, {("craigslist", "7900000002"): second[("craigslist", "7900000002")]},
                         {("craigslist", "7900000002"): {TOKEN}})
    assert added == 0
    with sessions() as s:
        owner = s.scalar(select(ListingAlias.listing_id).where(ListingAlias.alias == TOKEN))
    assert owner == first[("craigslist", POST_ID)]
