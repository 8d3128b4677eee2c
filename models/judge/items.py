"""Item lines of a multi-item post: what each line sells and the price written on it.

Sellers price several items in one post in a handful of layouts: "Item - $X", "Item: X", "$X Item",
"Item $X shipped / $Y local", a Markdown table, an item on one line and its price on the next; sold
items are struck out (~~…~~) or marked SOLD. ``read_lines`` reads them all; which model each line
names is for identification to say. ``per_unit_amounts`` finds the amounts stated per item ("$700
each", "650 ea", "$700/ea", "per card", "a piece").
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from gpuscout.scraper.money import positive_amount
from gpuscout.scraper.text_prices import (
    EACH,
    EACH_BEFORE,
    FILLER,
    LINK,
    SOLD,
    STRUCK,
    TABLE_RULE,
    URL,
    Amount,
    kind,
    lead,
    split_runs,
    tail,
    unmark,
)

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d{1,5}(?:\.\d{1,2})?"
_SYM = r"us\s?\$|c\s?\$|ca\s?\$|cad\s?\$?|usd|eur|€|£|\$"
_QUALIFIER = (r"shipped|shipping|obo|o\.b\.o|firm|each|ea\b|local|cash|\+|plus|or\b|/|"
              r"picked\s*up|pick\s*-?\s*up|delivered")
# NOTE: four ways an amount is written: "$700" / "700$" / "700 usd" (a currency beside it), a
# bare number after a label or dash ("3090 FE: 700", "3090 FE - 700 shipped", "asking 700"), and a
# bare number before a price word ("700 shipped", "650 obo").
_AMOUNT = re.compile(
    rf"(?<![\w.,/#@])(?:{_SYM})\s?(?P<a>{_NUM})(?![\d])"
    rf"|(?<![\w.,/#@$])(?P<b>{_NUM})\s?(?:(?:\$|€|£)(?!\s?\d)|usd\b|cad\b|eur\b|dollars?\b|bucks\b)"
    rf"|(?P<label>[:=|]|\s[-–]|\basking(?:\s*price)?|\bprice[d]?(?:\s*(?:is|at))?|\bfor)\s*"
    rf"(?P<c>\d{{2,5}}(?:\.\d{{1,2}})?)(?=\s*(?:$|[,.;)!]|{_QUALIFIER}))"
    rf"|(?<![\w.,/#@$-])(?P<d>\d{{2,5}}(?:\.\d{{1,2}})?)(?=\s*(?:shipped|obo|o\.b\.o|firm|each|"
    rf"ea\b|local|\+\s*ship|plus\s*ship))")
# Amounts that are no asking price: what was paid, retail, a budget, a comparison.
_NOT_ASKING = re.compile(
    r"(?<![a-z])(?:msrp|retail|paid|bought|purchased|originally|orig|worth|value|budget|cost\s*me|"
    r"spent|sells?\s*for|sold\s*for|goes\s*for|going\s*(?:rate|price)|ebay|amazon|new\s*(?:for|at|is)|"
    r"cheaper|less\s*than|under|below|market|save|saving|launch|off)\b[^\d,.;]{0,20}$")
# A labelled bare number whose label is no price ("temps: 65", "trades: 12", "qty: 2").
_NOT_PRICE_LABEL = re.compile(
    r"(?:temps?|temperature|junction|hot\s*spot|core|clocks?|boost|mhz|fps|score|points|qty|"
    r"quantity|trades?|zip|years?|age|months?|hours?|watts?|power|tdp|rpm|slots?|length|size|"
    r"vram|memory|count|hashrate|mh/?s|id|#)\s*$")
_AFTER_NOT_PRICE = re.compile(r"^\s?(?:k\b|'?s\b|gb|tb|mhz|ghz|w\b|c\b|°|%|x\b|hz|mm|rpm)")
_POST_SHIPPED = re.compile(
    r"(?:all\s*)?prices?\s*(?:are\s*|include\s*|includes\s*|incl\.?\s*)?(?:shipped|shipping)|"
    r"all\s*(?:items\s*)?shipped|shipping\s*(?:is\s*)?included|(?:prices|everything)\s*(?:is\s*)?"
    r"shipped|free\s*shipping\s*on\s*(?:all|everything)")
_WORD = re.compile(r"[a-z][a-z0-9&'+-]*|\d{3,5}[a-z]*")
_DIGIT = re.compile(r"\d")
_MAX_LINES = 200


@dataclass(frozen=True, slots=True)
class ItemLine:
    """One priced item of a post: its words, the asking price (shipped when that is stated),
    a local price, whether the price is shipped (None: not said), per item, and sold."""

    text: str
    price: Decimal | None
    local: Decimal | None = None
    shipped: bool | None = None
    each: bool = False
    sold: bool = False


def _decimal(text: str) -> Decimal | None:
    """An amount written with thousands commas ("1,200"), when it is above zero."""
    return positive_amount(text.replace(",", ""))


def amounts(line: str) -> list[Amount]:
    """Asking amounts on one lowercase line (paid/retail/budget amounts and labels left out)."""
    if not _DIGIT.search(line):
        return []
    found = []
    for m in _AMOUNT.finditer(line):
        group = next(g for g in ("a", "b", "c", "d") if m.group(g))
        start = m.start(group)
        if _NOT_ASKING.search(line[max(0, start - 40):start]):
            continue
        if group in ("c", "d") and _AFTER_NOT_PRICE.match(line[m.end(group):]):
            continue
        if group == "c" and _NOT_PRICE_LABEL.search(line[:m.start()]):
            continue
        value = _decimal(m.group(group))
        if value is not None and (group in ("a", "b") or value >= 20):
            found.append(Amount(start, m.end(group), value))
    return found


def _words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text) if w not in FILLER]


def _plain(raw: str) -> tuple[str, bool]:
    """A Markdown line as plain lowercase text, and whether it is marked sold."""
    sold = bool(SOLD.search(raw))
    if "~~" in raw:
        struck = STRUCK.sub(r"\1", raw)
        sold = sold or (bool(STRUCK.search(raw)) and len(STRUCK.sub("", raw).strip()) < 8)
        raw = struck
    text = unmark(URL.sub(" ", LINK.sub(r"\1", raw)).replace("**", "").replace("__", ""))
    return " ".join(text.lower().split()), sold


def _split(line: str, found: list[Amount]) -> list[tuple[str, list[Amount]]]:
    """The parts of a line that each price one item, amounts counted from the part's start."""
    return [(line[start:end], [Amount(a.start - start, a.end - start, a.value) for a in run])
            for start, end, run in split_runs(line, found, _names_item)]


def _names_item(text: str) -> bool:
    """Words naming an item stand in ``text``; a model number counts ("$700, 3080 $500")."""
    return bool(_words(text))


def _without(text: str, run: list[Amount]) -> str:
    """``text`` with the amounts of ``run`` taken out."""
    for amount in reversed(run):
        text = text[:amount.start] + " " + text[amount.end:]
    return text


def _item(text: str, run: list[Amount], *, shipped_default: bool, sold: bool) -> ItemLine:
    local: Decimal | None = None
    price: Decimal | None = None
    shipped: bool | None = None
    previous_end = 0
    for i, amount in enumerate(run):
        following = run[i + 1].start if i + 1 < len(run) else len(text)
        said = kind(lead(text[previous_end:amount.start]), tail(text[amount.end:following]))
        previous_end = amount.end
        if said == "plus":
            if price is None:
                price, shipped = amount.value, False
        elif said == "shipped":
            price, shipped = amount.value, True
        elif said == "local":
            local = amount.value if local is None else local
        elif price is None:
            price = amount.value
    if price is None:
        price, local = local, None
    elif shipped is None and shipped_default:
        shipped = True
    label = " ".join(w.strip(" -–:|=,") for w in _without(text, run).split()
                     if w.strip(" -–:|=,$"))
    return ItemLine(label, price, local, shipped, bool(EACH.search(text)), sold)


def read_lines(description: str | None) -> tuple[ItemLine, ...]:
    """Every priced item line of a post body, in order (an unpriced item line followed by a line
    holding only prices takes those prices)."""
    if not description or not _DIGIT.search(description):
        return ()
    shipped_default = _POST_SHIPPED.search(description.lower()) is not None
    items: list[ItemLine] = []
    pending: str | None = None  # the last line without a digit (read only when needed)
    pending_plain: tuple[str, bool] | None = None  # a line whose amounts were no asking price
    for raw in description.replace("\u200b", "").splitlines()[:_MAX_LINES]:
        if not _DIGIT.search(raw):
            if raw.strip():
                pending, pending_plain = raw, None
            continue
        if TABLE_RULE.match(raw):
            continue
        text, sold = _plain(raw)
        found = amounts(text)
        if not found:
            pending, pending_plain = None, (text, sold)
            continue
        before = pending_plain if pending is None else _plain(pending)
        if before is not None and not _words(before[0]):
            before = None
        for part, run in _split(text, found):
            if before is not None and not _words(_without(part, run)):
                part, sold = f"{before[0]} {part}", sold or before[1]
                # NOTE: the item's own words come first, so amounts move by the prefix length
                shift = len(before[0]) + 1
                run = [Amount(a.start + shift, a.end + shift, a.value) for a in run]
            items.append(_item(part, run, shipped_default=shipped_default, sold=sold))
        pending = pending_plain = None
    return tuple(items)


def per_unit_amounts(text: str | None) -> set[Decimal]:
    """Amounts the text states per item: "$700 each", "650 ea", "$700/ea", "each $700",
    "$700 per card", "700 a piece"."""
    lower = text.lower() if text else ""
    if not lower or not EACH.search(lower) or not _DIGIT.search(lower):
        return set()
    out: set[Decimal] = set()
    for raw in lower.splitlines():
        line = " ".join(raw.split())
        if not EACH.search(line):
            continue
        for amount in amounts(line):
            after = line[amount.end:amount.end + 24]
            before = line[max(0, amount.start - 12):amount.start]
            if EACH.match(after.lstrip(" $")) or re.match(
                    r"^\s*(?:usd|dollars?|\$)?\s*(?:shipped|local|obo|firm|cash|plus\s*ship\w*)?\s*"
                    r"(?:each|ea\b|/\s*ea|apiece|a\s*piece|per\s*(?:card|unit|gpu|piece|item))", after) \
                    or EACH_BEFORE.search(before):
                out.add(amount.value)
    return out


@dataclass(frozen=True, slots=True)
class Item:
    """An item line as identified: what it names (model, variant, quantity) and its prices."""

    text: str
    model: str
    variant: str
    price: Decimal | None
    local: Decimal | None = None
    shipped: bool | None = None
    each: bool = False
    sold: bool = False
    quantity: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "model": self.model, "variant": self.variant,
                "quantity": self.quantity,
                "price": None if self.price is None else str(self.price),
                "local": None if self.local is None else str(self.local),
                "shipped": self.shipped, "each": self.each, "sold": self.sold}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Item:
        def money(key: str) -> Decimal | None:
            value = data.get(key)
            return None if value in (None, "") else _decimal(str(value))

        shipped = data.get("shipped")
        return cls(text=str(data.get("text", "")), model=str(data.get("model", "none")),
                   variant=str(data.get("variant", "unknown")), price=money("price"),
                   local=money("local"), shipped=shipped if isinstance(shipped, bool) else None,
                   each=bool(data.get("each")), sold=bool(data.get("sold")),
                   quantity=max(1, int(data.get("quantity") or 1)))

    def describe(self) -> str:
        """"rtx 3090 fe: 700 shipped (sold)" as shown by ``show`` and ``explain``."""
        what = self.model if self.model != "none" else "other item"
        if self.variant not in ("unknown", "") and self.model != "none":
            what += f" {self.variant}"
        if self.quantity > 1:
            what = f"{self.quantity}x {what}"
        price = "no price" if self.price is None else str(self.price)
        if self.price is not None and self.shipped:
            price += " shipped"
        if self.each:
            price += " each"
        if self.local is not None:
            price += f", {self.local} local"
        return f"{what} ({self.text!r}): {price}" + (" (sold)" if self.sold else "")


def items_to_json(items: Sequence[Item]) -> str | None:
    """The stored form of a listing's items (None when there are none)."""
    return json.dumps([i.to_dict() for i in items], ensure_ascii=False) if items else None


def items_from_json(text: str | None) -> tuple[Item, ...]:
    """Items back from their stored form; unreadable text gives none."""
    if not text:
        return ()
    try:
        data = json.loads(text)
    except ValueError:
        return ()
    return tuple(Item.from_dict(d) for d in data if isinstance(d, dict)) \
        if isinstance(data, list) else ()
