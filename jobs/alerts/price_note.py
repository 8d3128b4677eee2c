"""What an alert says about the price: the unit price against the market reference it was scored
on, and the few reasons that carried the score (for the email and the push message alike)."""

from __future__ import annotations

from typing import Any

from gpuscout.jobs.text import clean_text
from gpuscout.models.storage.records import to_minor
from gpuscout.scraper.money import positive_amount

#: reasons a push message has room for (the email lists them all)
PUSH_REASONS = 3


def market_note(score: Any, money: Any) -> str | None:
    """``"$700 per card, 3 % below the market ($725: the middle of the watch's band)"``: the
    score's unit price against its stored reference; None without either. ``money(minor,
    currency)`` formats an amount."""
    reference = score.reference if isinstance(score.reference, dict) else {}
    median = positive_amount(reference.get("median"))
    currency = reference.get("currency") or score.currency
    if score.unit_price is None or median is None or currency != score.currency:
        return None
    reference_minor = to_minor(median, currency)
    if not reference_minor:
        return None
    pct = (score.unit_price - reference_minor) * 100 / reference_minor
    side = "below" if pct < 0 else "above"
    where = "at" if round(pct) == 0 else f"{abs(pct):.0f} % {side}"
    basis = _basis(reference)
    return (f"{money(score.unit_price, score.currency)} per card, {where} the market "
            f"({money(reference_minor, currency)}: {basis})")


def top_reasons(score: Any, limit: int = PUSH_REASONS) -> list[str]:
    """Why it scored, in a line's worth: the points of each component ("price 43/50"), then the
    first ``limit`` reasons of condition and risk (the price against the market is said apart);
    without components, the score's own reasons."""
    components = score.components if isinstance(score.components, dict) else {}
    parts: list[str] = []
    points = [f"{name} {item.get('points')}/{item.get('max')}"
              for name, item in components.items()
              if isinstance(item, dict) and item.get("points") is not None and item.get("max")]
    if points:
        parts.append(", ".join(clean_text(p, 30) for p in points))
    notes = [str(r) for name in ("condition", "risk")
             for r in (components.get(name) or {}).get("reasons") or [] if r]
    if not notes and not points:
        notes = [str(r) for r in (score.reasons if isinstance(score.reasons, list) else []) if r]
    parts += [clean_text(note, 160) for note in notes[:limit]]
    return parts


def _basis(reference: dict[str, Any]) -> str:
    """What the reference rests on, in a few words: sales and asks seen, or the band alone."""
    if reference.get("source") != "market":
        return "the middle of the watch's price band"
    days = reference.get("window_days", "?")
    sold, asks = int(reference.get("sold_count") or 0), int(reference.get("ask_count") or 0)
    seen = [f"{n} {word}{'' if n == 1 else 's'}" for n, word in ((sold, "sale"), (asks, "ask"))
            if n]
    return f"{' and '.join(seen) or 'listings'} seen over {days} days"
