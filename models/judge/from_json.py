"""One call from a listing's JSON object to its identity and score for a watch."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from gpuscout.models.judge.catalog import DEFAULT, Catalog
from gpuscout.models.judge.identify import Identity, identify
from gpuscout.models.judge.prices import MarketReference
from gpuscout.models.judge.score import DEFAULT_RULES, ListingFacts, Score, ScoreRules, Watch, score_listing

STATUSES = ("active", "sold", "gone", "wanted")
BUYING_FORMATS = ("fixed", "auction", "best_offer")


class EvaluationInputError(ValueError):
    """A listing object that cannot be evaluated (no title, unreadable number)."""


#: beyond any price a marketplace shows (and beyond what Decimal arithmetic here may round)
_MAX_AMOUNT = Decimal(100_000_000)


def _decimal(obj: Mapping[str, Any], key: str) -> Decimal | None:
    value = obj.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise EvaluationInputError(f"{key} = {value!r}: not a number")
    try:
        text = str(value).strip().lstrip("$€£").replace(",", "")
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise EvaluationInputError(f"{key} = {value!r}: not a number") from exc
    if not amount.is_finite() or amount < 0 or amount > _MAX_AMOUNT:
        raise EvaluationInputError(f"{key} = {value!r}: not a price")
    return amount


def _time(obj: Mapping[str, Any], key: str) -> datetime | None:
    value = obj.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str):
        raise EvaluationInputError(f"{key} = {value!r}: not an ISO 8601 time")
    try:
        stamp = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise EvaluationInputError(f"{key} = {value!r}: not an ISO 8601 time") from exc
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _choice(obj: Mapping[str, Any], key: str, choices: tuple[str, ...]) -> str | None:
    value = obj.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value.lower() not in choices:
        raise EvaluationInputError(f"{key} = {value!r}: one of {', '.join(choices)}")
    return value.lower()


def _count(obj: Mapping[str, Any], key: str) -> int | None:
    value = obj.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise EvaluationInputError(f"{key} = {value!r}: not an integer")
    return value


def facts_from_mapping(obj: Mapping[str, Any]) -> ListingFacts:
    """ListingFacts from ``{title, description?, price?, shipping?, price_local?, currency?,
    source?, seller_feedback?, seller_positive_pct?, condition?, status?, buying_format?, bids?,
    ends_at?, price_each?, posted_at?}`` (the fields ``gpuscout parse`` prints)."""
    title = obj.get("title")
    if not isinstance(title, str) or not title.strip():
        raise EvaluationInputError("a listing needs a non-empty string title")
    feedback = _count(obj, "seller_feedback")
    pct = obj.get("seller_positive_pct")
    if pct is not None and (isinstance(pct, bool) or not isinstance(pct, int | float)):
        raise EvaluationInputError(f"seller_positive_pct = {pct!r}: not a number")
    each = obj.get("price_each")
    if each is not None and not isinstance(each, bool):
        raise EvaluationInputError(f"price_each = {each!r}: true or false")

    def text(key: str) -> str | None:
        v = obj.get(key)
        return v if isinstance(v, str) and v else None

    currency = text("currency")
    return ListingFacts(
        title=title, description=text("description"), price=_decimal(obj, "price"),
        shipping=_decimal(obj, "shipping"), price_local=_decimal(obj, "price_local"),
        currency=currency.upper() if currency else None, source=text("source"),
        seller_feedback=feedback, seller_positive_pct=None if pct is None else float(pct),
        condition=text("condition"), buying_format=_choice(obj, "buying_format", BUYING_FORMATS),
        location=text("location"), posted_at=_time(obj, "posted_at"),
        status=_choice(obj, "status", STATUSES), bids=_count(obj, "bids"),
        ends_at=_time(obj, "ends_at"), price_each=bool(each))


@dataclass(frozen=True, slots=True)
class Evaluation:
    """A listing's identity and its score for one watch."""

    identity: Identity
    score: Score

    def to_dict(self) -> dict[str, Any]:
        """The result; ``rank`` is the score a deals list sorts by, None when the listing does
        not fit the watch (``score`` keeps the total for the curious)."""
        s = self.score.to_dict()
        return {
            "model": self.identity.model, "variant": self.identity.variant,
            "kind": self.identity.kind, "quantity": self.identity.quantity,
            "unit_price": s["unit_price"], "currency": s["currency"], "score": s["total"],
            "rank": s["total"] if s["fits"] else None,
            "fits": s["fits"], "unfit_reason": s["unfit_reason"],
            "components": {k: {"points": v["points"], "max": v["max"], "reasons": v["reasons"]}
                           for k, v in s["components"].items()},
            "flags": s["flags"], "reasons": s["reasons"], "reference": s["reference"],
            "evidence": list(self.identity.evidence), "version": s["version"],
            "item": s["item"], "items": [i.to_dict() for i in self.identity.items],
        }


def evaluate(obj: Mapping[str, Any], watch: Watch, *, now: datetime,
             reference: MarketReference | None = None,
             rates: Mapping[str, Decimal] | None = None, flair: str | None = None,
             catalog: Catalog = DEFAULT, rules: ScoreRules = DEFAULT_RULES) -> Evaluation:
    """Identify and score one listing object for ``watch``. A "wanted" status reads as a buying
    post, as a scan stores it."""
    facts = facts_from_mapping(obj)
    flair = flair if flair is not None else (obj.get("flair") if isinstance(obj.get("flair"), str)
                                             else None)
    if flair is None and facts.status == "wanted":
        flair = "BUYING"
    identity = identify(facts.title, facts.description, condition=facts.condition, flair=flair,
                        catalog=catalog)
    score = score_listing(facts, identity, watch, now=now, reference=reference, rates=rates,
                          rules=rules)
    return Evaluation(identity, score)
