"""ORM tables. Importing this package registers every table on ``Base.metadata``."""

from gpuscout.models.storage.tables.alerts import AlertDelivery
from gpuscout.models.storage.tables.base import Base
from gpuscout.models.storage.tables.cluster import ClusterNode, ScanFire
from gpuscout.models.storage.tables.listings import (
    Listing,
    ListingAlias,
    PriceObservation,
    Score,
    SearchHit,
)
from gpuscout.models.storage.tables.market import CurrencyRate, ListingKey, MarketPrice, SameCard
from gpuscout.models.storage.tables.runs import HttpValidator, ScanLock, ScrapeRun

__all__ = ["AlertDelivery", "Base", "ClusterNode", "CurrencyRate", "HttpValidator", "Listing",
           "ListingAlias", "ListingKey", "MarketPrice", "PriceObservation", "SameCard", "ScanFire",
           "ScanLock", "Score", "ScrapeRun", "SearchHit"]
