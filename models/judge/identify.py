"""Identification: which GPU model a listing offers, who made it, and what is actually sold."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from gpuscout.models.judge.catalog import DEFAULT, Catalog, ModelSpec, normalize
from gpuscout.models.judge.condition import is_negated
from gpuscout.models.judge.patterns import Phrases, candidates, sub_each

Variant = Literal["fe", "partner", "oem", "unknown"]
Kind = Literal["card", "bundle", "system", "parts", "box_only", "accessory", "wanted", "other"]


@dataclass(frozen=True, slots=True)
class Identity:
    """What a listing is: canonical model, variant, kind, quantity, and the phrases that decided."""

    model: str
    variant: str
    kind: str
    quantity: int = 1
    evidence: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "variant": self.variant, "kind": self.kind,
                "quantity": self.quantity, "evidence": list(self.evidence)}


@dataclass(frozen=True, slots=True)
class Mention:
    """A model named in text at [start, end); ``memory`` when a part number implies the size."""

    spec: ModelSpec
    start: int
    end: int
    text: str
    memory: int | None = None


_MEMORY = re.compile(r"(?<![a-z0-9])(\d{1,3})\s*-?\s*(?:gb|g|gig)(?![a-z0-9])"
                     r"(?!\s*(?:ddr\d|ssd|nvme|hdd|storage|emmc|unified|lte|sim))")
_MEMORY_PAIR = re.compile(r"(?<![a-z0-9])(\d{1,3})\s*/\s*(\d{1,3})\s*gb(?![a-z0-9])")
_TRADE = re.compile(r"\[\s*h\s*\](.*?)\[\s*w\s*\](.*)$")
_TRADE_REVERSED = re.compile(r"\[\s*w\s*\](.*?)\[\s*h\s*\](.*)$")
_ITEM_SPLIT = re.compile(r",|;|\s+and\s+|\s+&\s+|\s+\+\s+|\s*/\s*(?=[a-z])")
_PARENS = re.compile(r"\([^)]*\)")
# "2x RTX 3090", "(2) RTX 3090", "two RTX 3090", "pair of", and "RTX 3090 x2" after a mention.
_QTY_BEFORE = re.compile(r"(?:^|[^a-z0-9])(?:(\d{1,2})\s*x|\(\s*(\d{1,2})\s*\)|(two|three|four|pair\s*of))"
                         r"\s*$")
# NOTE: a bare "X4" after the model is a cooler name (Inno3D iChill X4); only "(x2)" counts.
_QTY_AFTER = re.compile(r"^\s*\(\s*x\s*(\d{1,2})\s*\)")
_QTY_WORDS = {"two": 2, "three": 3, "four": 4}
# NOTE: "Ventus 3X", "3X WINDFORCE" and "Inspire 3X" are cooler names, not counts.
_COOLER_BEFORE_X = re.compile(r"(?:ventus|inspire|windforce|eagle|shadow|trio|vision|aero|gaming|"
                              r"frozr|fans?)\s*$")
_CARD_WORDS = re.compile(r"(?<![a-z0-9])(?:card|gpu|graphics|accelerator|module|video)(?![a-z0-9])")
_WITHOUT = re.compile(r"(?:^|[^a-z0-9])(?:no|without|w/o|ohne|sans|sin|senza)\s*$")
# "Hybrid cooler", "AIO cooler": the card's own cooling, not a cooler sold alone.
_COOLER_KIND = re.compile(r"(?:hybrid|aio|liquid|air|stock|original|blower|fans?)\s*$")
_LETTERS = re.compile(r"[a-z]{2,}")
_PAIR_OF = re.compile(r"(?<![a-z0-9])pair\s*of(?![a-z0-9])")
_INCLUDED_AFTER = re.compile(r"\s*(?:included|incl)")
_PARTS_CONDITION = re.compile(r"for\s*parts|not\s*working")
_STRONG_FE = re.compile(r"(?<![a-z0-9])founders?\s*edition(?![a-z0-9])")


def _any(patterns: Iterable[re.Pattern[str]], text: str) -> re.Match[str] | None:
    best: re.Match[str] | None = None
    for p in candidates(patterns, text):
        m = p.search(text)
        if m and (best is None or m.start() < best.start()):
            best = m
    return best


def _all(patterns: Iterable[re.Pattern[str]], text: str) -> list[re.Match[str]]:
    return [m for p in candidates(patterns, text) for m in p.finditer(text)]


def _bait_tails(catalog: Catalog) -> Phrases:
    """A bait phrase right before a mention ("for", "like", "compatible with")."""
    return Phrases(re.compile(rf"(?:^|[^a-z0-9])(?:{b.pattern})\s*$")
                   for b in catalog.kind.get("bait", ()))


def _inclusion_heads(catalog: Catalog) -> Phrases:
    """An inclusion phrase before an accessory ("with", "comes with")."""
    return Phrases(re.compile(rf"(?:^|[^a-z0-9])(?:{p.pattern})(?:\s|[a-z0-9])")
                   for p in catalog.kind.get("inclusion", ()))


def find_mentions(text: str, catalog: Catalog = DEFAULT) -> list[Mention]:
    """Model mentions in normalised ``text``, longest first when they overlap, bait dropped."""
    found: list[tuple[int, int, Mention]] = []
    for entry in catalog.mention_patterns(text):
        spec, memory = entry.spec, entry.memory
        for m in entry.pattern.finditer(text):
            phrase = m.group(0) if memory is not None else m.group(0).strip()
            found.append((m.end() - m.start(), spec.suffix_count,
                          Mention(spec, m.start(), m.end(), phrase, memory)))
    found.sort(key=lambda f: (-f[0], -f[1], f[2].start))
    kept: list[Mention] = []
    bait = catalog.memo("bait_tails", _bait_tails)
    for _, _, mention in found:
        if any(mention.start < k.end and k.start < mention.end for k in kept):
            continue
        before = text[max(0, mention.start - 24):mention.start]
        if any(b.search(before) for b in bait.candidates(before)):
            continue
        kept.append(mention)
    return sorted(kept, key=lambda k: k.start)


def stated_memory(text: str) -> set[int]:
    """Memory sizes (GB) the text states: "24GB", "16G", "16/32GB"."""
    sizes = {int(m.group(1)) for m in _MEMORY.finditer(text)}
    for m in _MEMORY_PAIR.finditer(text):
        sizes.update((int(m.group(1)), int(m.group(2))))
    return {s for s in sizes if 1 <= s <= 256}


def _resolve_names(mentions: Sequence[Mention], text: str, catalog: Catalog,
                   laptop: bool) -> list[str]:
    memory = stated_memory(text)
    by_spec: dict[str, list[Mention]] = {}
    for m in mentions:
        by_spec.setdefault(m.spec.name, []).append(m)
    names: list[str] = []
    for name, group in by_spec.items():
        spec = group[0].spec
        resolved = name
        refinements = [r for r in catalog.refinements(name) if len(memory) == 1
                       and memory <= set(r.memory)]
        if len(refinements) == 1:
            resolved = refinements[0].name
        elif spec.memory_in_name:
            from_pn = {m.memory for m in group if m.memory is not None}
            size = None
            if len(memory) == 1 and memory <= set(spec.memory):
                size = next(iter(memory))
            elif not memory and len(from_pn) == 1:
                size = from_pn.pop()
            if size is not None:
                resolved = f"{name} {size}gb"
        final = catalog.model(resolved) or spec
        if laptop and final.laptop:
            resolved = f"{resolved} laptop"
        if resolved not in names:
            names.append(resolved)
    # a refined model named alongside its parent ("4070 Ti ... 4070 Ti Super") is the refinement
    parents = {found.refines for n in names
               if (found := catalog.model(n)) is not None and found.refines}
    return [n for n in names if n not in parents]


def _trade_sides(title: str) -> tuple[str, str] | None:
    m = _TRADE.search(title)
    if m:
        return m.group(1), m.group(2)
    m = _TRADE_REVERSED.search(title)
    return (m.group(2), m.group(1)) if m else None


def _payment_only(side: str, catalog: Catalog) -> bool:
    rest = sub_each(catalog.kind.get("payment_words", ()), " ", side)
    return not _LETTERS.search(rest)


def _items(side: str, catalog: Catalog) -> list[str]:
    flat = _PARENS.sub(" ", side)
    return [i for i in _ITEM_SPLIT.split(flat) if i.strip() and not _payment_only(i, catalog)]


def _quantity(text: str, mentions: Sequence[Mention], catalog: Catalog) -> tuple[int, str]:
    m = _any(catalog.kind.get("quantity", ()), text)
    if m:
        return int(m.group(1)), m.group(0)
    if mentions and _PAIR_OF.search(text):
        return 2, "pair of"
    for mention in mentions:
        before = text[max(0, mention.start - 30):mention.start]
        b = _QTY_BEFORE.search(before)
        if b and not _COOLER_BEFORE_X.search(before[:b.start() + 1]):
            word = b.group(3)
            n = int(b.group(1) or b.group(2) or 0) if not word else _QTY_WORDS.get(word, 2)
            return n, b.group(0).strip()
        a = _QTY_AFTER.match(text[mention.end:])
        if a:
            return int(a.group(1)), a.group(0).strip()
    return 1, ""


def _accessory(text: str, catalog: Catalog) -> re.Match[str] | None:
    inclusion = catalog.memo("inclusion_heads", _inclusion_heads)
    for key in ("accessory", "accessory_weak"):
        for m in _all(catalog.kind.get(key, ()), text):
            if key == "accessory_weak" and _CARD_WORDS.search(text):
                continue
            before = text[max(0, m.start() - 30):m.start()]
            if _WITHOUT.search(before) or (key == "accessory_weak" and _COOLER_KIND.search(before)):
                continue
            if any(p.search(before) for p in inclusion.candidates(before)):
                continue
            after = text[m.end():m.end() + 12]
            if _INCLUDED_AFTER.match(after):
                continue
            return m
    return None


def _parts(title: str, description: str, condition: str, catalog: Catalog) -> str | None:
    kind = catalog.kind
    if condition and _PARTS_CONDITION.search(condition):
        return f"condition {condition!r}"
    for m in _all(kind.get("parts", ()), title):
        if not is_negated(title, m.start(), window=2) and not _any(kind.get("parts_negations", ()),
                                                                    title):
            return m.group(0).strip()
    bare = _any(kind.get("no_cooler", ()), title)
    if bare and not _any(kind.get("no_cooler_exceptions", ()), title):
        return bare.group(0).strip()
    for m in _all(kind.get("parts_description", ()), description):
        if not is_negated(description, m.start(), window=3):
            return f"description: {m.group(0).strip()}"
    return None


def _variant(scope: str, names: Sequence[str], catalog: Catalog) -> tuple[str, str]:
    v = catalog.variant
    negated = [m.span() for m in _all(v.get("fe_negations", ()), scope)]
    fe = [m for m in _all(v.get("fe", ()), scope)
          if not any(s <= m.start() < e for s, e in negated)]
    if any((catalog.model(n.split(" laptop")[0]) or _NO_SPEC).vendor == "amd" for n in names):
        fe += _all(v.get("fe_amd", ()), scope)
    partner = _any(v.get("partner", ()), scope)
    oem = _any(v.get("oem", ()), scope)
    if oem and fe:
        return "unknown", f"conflict: {fe[0].group(0)!r} and {oem.group(0)!r}"
    if oem:
        return "oem", oem.group(0)
    if partner:
        return "partner", partner.group(0)
    if fe:
        return "fe", fe[0].group(0)
    return "unknown", ""


_NO_SPEC = ModelSpec(name="", patterns=())


def identify(title: str, description: str | None = None, *, condition: str | None = None,
             flair: str | None = None, catalog: Catalog = DEFAULT) -> Identity:
    """Identify a listing from its title (and description, marketplace condition, Reddit flair)."""
    t, d, cond = normalize(title), normalize(description), normalize(condition)
    fl = normalize(flair)
    kind = catalog.kind
    ev: list[str] = []
    if fl and fl in catalog.flairs.get("other", ()):
        return Identity("none", "unknown", "other", 1, (f"kind: flair {flair!r}",))
    wanted = bool(fl) and fl in catalog.flairs.get("wanted", ())
    if wanted:
        ev.append(f"kind: flair {flair!r}")
    sides = _trade_sides(t)
    items = 1
    if sides is not None:
        have, want = sides
        if not wanted and not find_mentions(have, catalog) and _payment_only(have, catalog):
            wanted = True
            ev.append(f"kind: [H] side is payment only ({have.strip()!r})")
        if not wanted and not find_mentions(have, catalog) and find_mentions(want, catalog):
            wanted = True
            ev.append("kind: the GPU is on the [W] side")
        scope = want if wanted else have
        items = len(_items(scope, catalog))
    else:
        scope = t
        w = _any(kind.get("wanted", ()), t)
        if not wanted and w:
            wanted = True
            ev.append(f"kind: {w.group(0).strip()!r}")
    mentions, source = find_mentions(scope, catalog), scope
    if not mentions and d and _any(kind.get("gpu_words", ()), scope):
        mentions, source = find_mentions(d, catalog), d
        if mentions:
            ev.append("model: from the description")
    laptop = _any(kind.get("laptop", ()), scope)
    names = _resolve_names(mentions, source, catalog, laptop is not None)
    model = "multiple" if len(names) > 1 else (names[0] if names else "none")
    if mentions:
        ev.append("model: " + ", ".join(repr(m.text) for m in mentions))
    gpu_context = bool(mentions) or _any(kind.get("gpu_words", ()), scope) is not None
    quantity, qty_phrase = _quantity(scope, mentions, catalog)
    k, why = _kind(scope, d, cond, catalog, wanted=wanted, gpu=gpu_context, model=model,
                   items=items, quantity=quantity)
    if why:
        ev.append(f"kind: {why}")
    if k != "bundle":
        quantity = 1
    elif qty_phrase:
        ev.append(f"quantity: {qty_phrase!r}")
    variant, vwhy = "unknown", ""
    if model != "none" and k not in ("system", "other"):
        variant, vwhy = _variant(scope, names, catalog)
        if variant == "unknown" and not vwhy and d and k != "wanted":
            variant, vwhy = _description_variant(d, names, catalog)
    if vwhy:
        ev.append(f"variant: {vwhy!r}" if not vwhy.startswith("conflict") else f"variant: {vwhy}")
    return Identity(model, variant, k, max(1, quantity), tuple(ev))


def _description_variant(d: str, names: Sequence[str], catalog: Catalog) -> tuple[str, str]:
    """A maker named in the description when the title names none; strong markers only."""
    v = catalog.variant
    strong_fe = _STRONG_FE.search(d)
    partner = _any(v.get("partner", ()), d)
    oem = _any(v.get("oem", ()), d)
    found = [x for x in (("fe", strong_fe), ("partner", partner), ("oem", oem)) if x[1]]
    if len(found) == 1:
        name, m = found[0]
        assert m is not None
        return name, f"description: {m.group(0)}"
    return "unknown", ""


def _kind(scope: str, d: str, cond: str, catalog: Catalog, *, wanted: bool, gpu: bool,
          model: str, items: int, quantity: int) -> tuple[str, str]:
    kind = catalog.kind
    if wanted:
        return "wanted", ""
    system = _any(kind.get("system", ()), scope)
    if not system and all(_any(kind.get(k, ()), scope) for k in
                          ("system_cpu", "system_ram", "system_storage")):
        system = _any(kind.get("system_cpu", ()), scope)
    if system and _any(kind.get("system_exceptions", ()), scope):
        system = None
    if system and (model != "none" or items <= 1):
        return "system", repr(system.group(0))
    if not gpu:
        return "other", ""
    for key, name in (("box_only", "box_only"), ("no_board", "accessory")):
        m = _any(kind.get(key, ()), scope)
        if m:
            return name, repr(m.group(0).strip())
    m = _accessory(scope, catalog)
    if m:
        return "accessory", repr(m.group(0).strip())
    why = _parts(scope, d, cond, catalog)
    if why:
        return "parts", why
    b = _any(kind.get("bundle", ()), scope)
    if b:
        return "bundle", repr(b.group(0).strip())
    if quantity > 1 and model != "none":
        return "bundle", f"{quantity} cards"
    if model == "none":
        return "other", ""
    return "card", ""
