"""What an incremental poll of a search needs to know: the ids it has seen, and its successes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, union
from sqlalchemy.orm import Session

from gpuscout.models.storage.rawtime import from_stored
from gpuscout.models.storage.tables.listings import Listing, ListingAlias, SearchHit
from gpuscout.models.storage.tables.runs import ScrapeRun

#: outcomes of a scan that read its pages (the scrape run's outcome column)
SUCCESS = ("ok", "empty")


@dataclass(frozen=True, slots=True)
class SearchHistory:
    """``known``: every id (and alias) of the listings ``search`` has seen; ``last_success``: when
    its latest successful scan started; ``successes``: how many it has had."""

    known: frozenset[str]
    last_success: datetime | None
    successes: int


def search_history(session: Session, search: str) -> SearchHistory:
    hits = select(SearchHit.listing_id).where(SearchHit.search == search).scalar_subquery()
    ids = union(select(Listing.external_id).where(Listing.id.in_(hits)),
                select(ListingAlias.alias).where(ListingAlias.listing_id.in_(hits)))
    known = frozenset(session.scalars(select(ids.subquery().c[0])))
    last, count = session.execute(
        select(func.max(ScrapeRun.started_at), func.count(ScrapeRun.id))
        .where(ScrapeRun.search == search, ScrapeRun.outcome.in_(SUCCESS))).one()
    # NOTE: an aggregate skips the column's type: SQLite gives naive text or datetimes
    return SearchHistory(known=known, last_success=from_stored(last), successes=int(count or 0))
