"""What a listing sells: a card, a bundle, a system, parts, a box, an accessory, a buying post, a
picture or something else, decided from the catalogue's phrase lists."""

from __future__ import annotations

import re
from dataclasses import dataclass

from gpuscout.models.judge.catalog import Catalog
from gpuscout.models.judge.condition import is_negated
from gpuscout.models.judge.patterns import Phrases, earliest, every

_CARD_WORDS = re.compile(r"(?<![a-z0-9])(?:card|gpu|graphics|accelerator|module|video)(?![a-z0-9])")
_WITHOUT = re.compile(r"(?:^|[^a-z0-9])(?:no|without|w/o|ohne|sans|sin|senza)\s*$")
# "Hybrid cooler", "AIO cooler": the card's own cooling, not a cooler sold alone.
_COOLER_KIND = re.compile(r"(?:hybrid|aio|liquid|air|stock|original|blower|fans?)\s*$")
_INCLUDED_AFTER = re.compile(r"\s*(?:included|incl)")
_PARTS_CONDITION = re.compile(r"for\s*parts|not\s*working")
# NOTE: a card with a water block fitted, its own cooler in the box, is still the card: "EK block
# installed, stock cooler included", "water cooled", "under water".
_FITTED = re.compile(
    r"(?<![a-z0-9])(?:(?:stock|original|orig|og|oem|factory|air|fe)\s*(?:air\s*)?(?:cooler|heatsink|"
    r"heat\s*sink|shroud)\s*(?:is\s*|also\s*)?(?:included|incl\.?|in\s*(?:the\s*)?box|too|as\s*well|"
    r"comes?\s*with)|(?:installed|fitted|mounted|attached|pre\s*-?\s*installed)|water\s*-?\s*cooled|"
    r"under\s*water|(?:with|w/|\+|and|&|plus|incl\.?|including)\s*(?:the\s*)?(?:stock|original|orig|og|"
    r"oem|factory|air)\s*(?:air\s*)?(?:cooler|heatsink|shroud))(?![a-z0-9])")
# "Lüfter dreht nicht", "fans are loud": the card's own part described, not a part for sale
_DESCRIBED = re.compile(r"\s*(?:dreh|spin|not|n't|is\b|are\b|was\b|were\b|work|make|noise|loud|rattl|"
                        r"defekt|kaputt|ne\s|no\s|doesn|don|won|stopp|sometimes|occasionally)")
# "warranty seal broken", "sticker is broken": the seal is broken, not the card
_NOT_THE_CARD = re.compile(r"(?:seal|sticker|tab|box|packaging|latch|clip|label|fan|led|rgb|light"
                           r"|bearing|pixel)s?\s*(?:is\s*|was\s*|are\s*|were\s*|has\s*been\s*|"
                           r"got\s*)?$")
# "tested with a 5800X3D": the other part is what the card was tried in, not what is sold
_NOT_SOLD_WITH = re.compile(r"(?:tested|benchmarked|paired|used|ran|run|running|works|worked|fits|"
                            r"compatible|pulled)\s*(?:with|w/)?\s*$")
_BOX_TITLE = re.compile(r"(?<![a-z0-9])(?:box|packaging|ovp)\s*$")
# Items of a trade post's [H] side that stand apart: a "+" or "&" inside one of them joins parts.
_SEGMENTS = re.compile(r",|;|\|")


@dataclass(frozen=True, slots=True)
class KindInput:
    """What the kind is decided from (normalised): the scope (title, or the side of a trade post
    that sells), the description, a marketplace condition, and what identification found."""

    scope: str
    description: str
    condition: str
    wanted: bool
    gpu: bool
    model: str
    items: int
    quantity: int
    #: where the first model mention starts in ``scope`` (-1: none)
    mention_at: int = -1
    trade: bool = False


def _inclusion_heads(catalog: Catalog) -> Phrases:
    """An inclusion phrase before an accessory ("with", "comes with")."""
    return Phrases(re.compile(rf"(?:^|[^a-z0-9])(?:{p.pattern})(?:\s|[a-z0-9])")
                   for p in catalog.kind.get("inclusion", ()))


def _accessory(text: str, catalog: Catalog) -> re.Match[str] | None:
    inclusion = catalog.memo("inclusion_heads", _inclusion_heads)
    fitted: bool | None = None  # NOTE: read only when a weak accessory word is found
    for key in ("accessory", "accessory_weak"):
        for m in every(catalog.kind.get(key, ()), text):
            if key == "accessory_weak":
                if fitted is None:
                    fitted = _FITTED.search(text) is not None
                if _CARD_WORDS.search(text) or fitted:
                    continue
            before = text[max(0, m.start() - 30):m.start()]
            if _WITHOUT.search(before) or (key == "accessory_weak" and _COOLER_KIND.search(before)):
                continue
            if any(p.search(before) for p in inclusion.candidates(before)):
                continue
            after = text[m.end():m.end() + 12]
            if _INCLUDED_AFTER.match(after) or (key == "accessory_weak" and _DESCRIBED.match(after)):
                continue
            return m
    return None


def _parts(title: str, description: str, condition: str, catalog: Catalog) -> str | None:
    kind = catalog.kind
    if condition and _PARTS_CONDITION.search(condition):
        return f"condition {condition!r}"
    for m in every(kind.get("parts", ()), title):
        if _NOT_THE_CARD.search(title[max(0, m.start() - 30):m.start()]):
            continue
        if not is_negated(title, m.start(), window=2) and not earliest(
                kind.get("parts_negations", ()), title):
            return m.group(0).strip()
    bare = earliest(kind.get("no_cooler", ()), title)
    if bare and not earliest(kind.get("no_cooler_exceptions", ()), title):
        return bare.group(0).strip()
    for m in every(kind.get("parts_description", ()), description):
        if not is_negated(description, m.start(), m.end(), window=3):
            return f"description: {m.group(0).strip()}"
    return None


def _system(k: KindInput, catalog: Catalog) -> re.Match[str] | None:
    kind, scope = catalog.kind, k.scope
    system = earliest(kind.get("system", ()), scope)
    if system and earliest(kind.get("system_negations", ()), scope[:system.end() + 20]):
        system = None
    if not system and not _CARD_WORDS.search(scope):
        system = earliest(kind.get("system_brands", ()), scope)
    cpu = None if system else earliest(kind.get("system_cpu", ()), scope)
    if cpu is not None:
        ram = earliest(kind.get("system_ram", ()), scope) is not None
        storage = earliest(kind.get("system_storage", ()), scope) is not None
        # NOTE: a CPU beside memory or storage is a computer, unless a trade post lists them
        # apart ("[H] 3090 FE, 5800X3D, 32GB DDR4") or joins them into a bundle ("3090 + 12700K");
        # a CPU, memory and storage together are one whatever the punctuation
        apart = (k.trade and _SEGMENTS.search(scope)) or earliest(kind.get("bundle", ()), scope)
        if (ram and storage) or ((ram or storage) and not apart):
            system = cpu
    if system and earliest(kind.get("system_exceptions", ()), scope):
        return None
    return system


def _segment(k: KindInput) -> str:
    """The part of the scope that sells the card: in a trade post listing items apart, the item
    that names the model (a "+" there joins what is sold together)."""
    if not k.trade or k.mention_at < 0 or not _SEGMENTS.search(k.scope):
        return k.scope
    start = 0
    for m in _SEGMENTS.finditer(k.scope):
        if m.start() >= k.mention_at:
            return k.scope[start:m.start()]
        start = m.end()
    return k.scope[start:]


def decide_kind(k: KindInput, catalog: Catalog) -> tuple[str, str]:
    """(kind, why) of a listing."""
    kind = catalog.kind
    if k.wanted:
        return "wanted", ""
    photo = earliest(kind.get("photo", ()), k.scope) or earliest(
        kind.get("photo_description", ()), k.description[:600])
    if photo and (k.gpu or k.model != "none"):
        return "other", f"a picture, not a card ({photo.group(0).strip()!r})"
    system = _system(k, catalog)
    if system and (k.model != "none" or k.items <= 1):
        return "system", repr(system.group(0).strip())
    if not k.gpu:
        return "other", ""
    for key, name in (("box_only", "box_only"), ("no_board", "accessory")):
        m = earliest(kind.get(key, ()), k.scope)
        if m:
            return name, repr(m.group(0).strip())
    if _BOX_TITLE.search(k.scope):
        # NOTE: "RTX 3090 FE box": what the box holds is for the description to say
        m = earliest(kind.get("box_only", ()), k.description[:400])
        if m:
            return "box_only", f"description: {m.group(0).strip()!r}"
    m = _accessory(k.scope, catalog)
    if m:
        return "accessory", repr(m.group(0).strip())
    why = _parts(k.scope, k.description, k.condition, catalog)
    if why:
        return "parts", why
    segment = _segment(k)
    b = earliest(kind.get("bundle", ()), segment)
    if b and not _NOT_SOLD_WITH.search(segment[max(0, b.start() - 16):b.start()]):
        return "bundle", repr(b.group(0).strip())
    if k.quantity > 1 and k.model != "none":
        return "bundle", f"{k.quantity} cards"
    if k.model == "none":
        return "other", ""
    return "card", ""
