"""Reading prices as marketplaces print them: symbols, ISO codes, thousands separators, ranges."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from gpuscout.scraper.errors import PriceError

# NOTE: longest prefixes first, so "US $" wins over "$" and "C $" over "$".
_SYMBOLS: tuple[tuple[str, str], ...] = (
    ("US $", "USD"), ("US$", "USD"), ("USD", "USD"),
    ("C $", "CAD"), ("CA $", "CAD"), ("CA$", "CAD"), ("C$", "CAD"), ("CAD", "CAD"),
    ("AU $", "AUD"), ("AU$", "AUD"), ("A$", "AUD"), ("AUD", "AUD"),
    ("NZ $", "NZD"), ("NZ$", "NZD"), ("NZD", "NZD"),
    ("HK $", "HKD"), ("HK$", "HKD"), ("HKD", "HKD"),
    ("S$", "SGD"), ("SGD", "SGD"),
    ("GBP", "GBP"), ("£", "GBP"),
    ("EUR", "EUR"), ("€", "EUR"),
    ("CHF", "CHF"), ("PLN", "PLN"), ("zł", "PLN"), ("SEK", "SEK"), ("NOK", "NOK"),
    ("DKK", "DKK"), ("JPY", "JPY"), ("¥", "JPY"), ("INR", "INR"), ("₹", "INR"),
    ("MXN", "MXN"), ("$", "USD"),
)
# NOTE: only tokens without cased letters can occur in a text that lower-casing leaves unchanged
# ("$1,325"), so such a text is checked against these few, in the same order.
_UNCASED_SYMBOLS = tuple((token, code) for token, code in _SYMBOLS if token == token.lower())
_NUMBER = re.compile(r"\d[\d.,' \u00a0\u202f]*")
_GROUPING = str.maketrans("", "", "' \u00a0\u202f")
_CENT = Decimal("0.01")
_MAX_AMOUNT = Decimal("100000000")
_RANGE = re.compile(r"\s+(?:to|bis|à|a|-|–)\s+", re.IGNORECASE)
_MAX_LEN = 200
#: "1e9" right after the digits: marketplaces never print exponents, and reading the "1" alone
#: would store $1.00
_EXPONENT = re.compile(r"[eE][+-]?\d")
#: what may stand before a negative amount: a minus, and a currency symbol or code on either
#: side of it ("-5", "-$5", "$-5", "USD -5"); anything more is a label ("Was - $5")
_TOKENS = "|".join(re.escape(token) for token, _ in _SYMBOLS)
_NEGATIVE = re.compile(rf"\s*(?:(?:{_TOKENS})\s*)?[-\u2212]\s*(?:(?:{_TOKENS})\s*)?")
_MINUS = ("-", "\u2212")


@dataclass(frozen=True, slots=True)
class Money:
    """An amount with its ISO 4217 currency (None when the text names none)."""

    amount: Decimal
    currency: str | None


def detect_currency(text: str) -> str | None:
    """The ISO code a price text names by symbol or code, or None."""
    for token, code in _SYMBOLS if text != text.lower() else _UNCASED_SYMBOLS:
        if token in text:
            return code
    return None


def parse_amount(text: str) -> Decimal:
    """Read a number written with either decimal convention: "1,234.56", "1.234,56", "1 234".

    A negative amount ("-5", "-$5", "$-5") or one with an exponent ("$1e9") is refused, never
    read as its digits alone.
    """
    match = _NUMBER.search(text)
    if not match:
        raise PriceError(f"no number in price text {text[:60]!r}")
    if _EXPONENT.match(text, match.end()):
        raise PriceError(f"an exponent in price text {text[:60]!r}: not a price")
    start = match.start()
    if start and any(m in text[:start] for m in _MINUS) and _NEGATIVE.fullmatch(text, 0, start):
        raise PriceError(f"a negative amount in price text {text[:60]!r}")
    raw = match.group(0).translate(_GROUPING).rstrip(".,")
    if "," in raw and "." in raw:
        # the later separator is the decimal one
        if raw.rfind(",") > raw.rfind("."):
            raw = raw.replace(".", "").replace(",", ".")
        else:
            raw = raw.replace(",", "")
    elif "," in raw:
        head, _, tail = raw.rpartition(",")
        raw = head.replace(",", "") + ("." + tail if len(tail) != 3 else tail)
    elif raw.count(".") > 1 or (raw.count(".") == 1 and len(raw.rpartition(".")[2]) == 3
                                 and raw.rpartition(".")[0] not in ("0", "")):
        # "1.234" is a thousands grouping in EUR-style text; decimals have 1-2 digits
        raw = raw.replace(".", "")
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise PriceError(f"unreadable amount {text[:60]!r}") from exc
    if not value.is_finite() or value < 0 or value > _MAX_AMOUNT:
        raise PriceError(f"amount out of range in {text[:60]!r}")
    return value.quantize(_CENT)


def parse_price(text: str, default_currency: str | None = None) -> Money:
    """Parse "US $1,234.56", "£12.99", "EUR 1.234,56", "1.234,56 €" (a range gives its low end).

    Raises PriceError for text without a readable amount.
    """
    if not isinstance(text, str) or not text.strip():
        raise PriceError("empty price text")
    if len(text) > _MAX_LEN:
        raise PriceError("price text too long")
    low, _ = parse_price_range(text, default_currency)
    return low


def parse_price_range(text: str, default_currency: str | None = None) -> tuple[Money, Money | None]:
    """Parse a price or a range ("$1.49 to $1.69") into (low, high or None)."""
    if not isinstance(text, str) or not text.strip():
        raise PriceError("empty price text")
    if len(text) > _MAX_LEN:
        raise PriceError("price text too long")
    currency = detect_currency(text) or default_currency
    parts = _RANGE.split(text.strip(), maxsplit=1)
    low = Money(parse_amount(parts[0]), currency)
    high = None
    if len(parts) == 2 and _NUMBER.search(parts[1]):
        high = Money(parse_amount(parts[1]), detect_currency(parts[1]) or currency)
    return low, high


def positive_amount(value: object) -> Decimal | None:
    """``value`` (a number or a plain number's text) as a Decimal when it is finite and above
    zero, else None."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() and amount > 0 else None


def format_amount(amount: Decimal | None) -> str | None:
    """Two-decimal string for JSON output ("715.00"), None stays None."""
    return None if amount is None else f"{amount.quantize(Decimal('0.01'))}"
