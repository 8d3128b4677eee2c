"""Plain rows for people and scripts: a deal, a listing, a score, with money as decimals in the
listing's currency (shared by the command line and the demo)."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def age(then: datetime | None, now: datetime) -> str:
    if then is None:
        return ""
    seconds = max(0, int((now - then).total_seconds()))
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def deal_row(deal: Any, now: datetime) -> dict[str, Any]:
    """A ``models.storage.deals.Deal`` as a table or JSON row (money as a decimal in its currency)."""
    from gpuscout.models.storage.records import from_minor

    return {
        "id": deal.listing_id, "score": deal.total,
        "unit_price": from_minor(deal.unit_price, deal.currency),
        "currency": deal.currency, "title": deal.title, "source": deal.source,
        "age": age(deal.posted_at or deal.first_seen, now),
        "location": deal.location, "reasons": list(deal.reasons[:3]), "url": deal.url,
        "model": deal.model, "variant": deal.variant, "external_id": deal.external_id,
    }


def listing_dict(listing: Any) -> dict[str, Any]:
    """Everything stored about a listing, money as decimals in its currency, the item lines of a
    multi-item post as a list."""
    from gpuscout.models.judge.items import items_from_json
    from gpuscout.models.storage.records import from_minor

    cur = listing.currency
    out: dict[str, Any] = {}
    for col in [c.key for c in listing.__table__.columns]:
        value = getattr(listing, col)
        if col in ("price", "shipping", "price_local", "price_max"):
            value = from_minor(value, cur)
        elif col == "items":
            value = [i.to_dict() for i in items_from_json(value)]
        out[col] = value
    return out


def components_of(components: Any) -> list[tuple[str, dict[str, Any]]]:
    """Stored components as (name, {points, max, reasons}) pairs."""
    if isinstance(components, dict):
        return [(str(k), v) for k, v in components.items()]
    return [(str(c.get("name")), c) for c in components or []]


def score_dict(score: Any) -> dict[str, Any]:
    from gpuscout.models.storage.records import from_minor

    return {"watch": score.watch, "version": score.version, "total": score.total,
            "fits": score.fits, "unfit_reason": score.unfit_reason,
            "unit_price": from_minor(score.unit_price, score.currency),
            "currency": score.currency, "components": score.components, "flags": score.flags,
            "reasons": score.reasons, "reference": score.reference,
            "computed_at": score.computed_at}
