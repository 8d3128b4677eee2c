"""Identification: which GPU model a listing offers, who made it, what is actually sold, and the
items a multi-item post prices line by line."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from gpuscout.models.judge.catalog import DEFAULT, Catalog, ModelSpec, normalize
from gpuscout.models.judge.items import Item, read_lines
from gpuscout.models.judge.kinds import KindInput, decide_kind
from gpuscout.models.judge.patterns import Phrases, earliest, every, sub_each

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
    #: the priced item lines of a multi-item post, as identified
    items: tuple[Item, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"model": self.model, "variant": self.variant, "kind": self.kind,
                               "quantity": self.quantity, "evidence": list(self.evidence)}
        if self.items:
            out["items"] = [i.to_dict() for i in self.items]
        return out


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
# "2x RTX 3090", "(2) RTX 3090", "two RTX 3090", "pair of" before a mention.
_QTY_BEFORE = re.compile(r"(?:^|[^a-z0-9])(?:(\d{1,2})\s*[x×]|\(\s*(\d{1,2})\s*\)|(two|three|four|pair\s*of))"
                         r"\s*$")
# "2 RTX 3090 FE cards": a bare count before a mention, believed when a plural follows.
_QTY_BARE = re.compile(r"(?:^|[^a-z0-9.#-])([2-9])\s+$")
_PLURAL = re.compile(r"(?<![a-z0-9])(?:cards|gpus|units|pcs|fes|\d{4}s)(?![a-z0-9])")
# "RTX 3090 x2", "3090 FE (x2)", "RTX 3090 24GB ×2" after a mention.
_QTY_AFTER = re.compile(r"^\s*(?:founders?\s*edition|founders|fe|\d{1,2}\s*gb)?\s*\(?\s*[x×]\s*(\d{1,2})"
                        r"\s*\)?(?![a-z0-9])")
# "... 8GB x2" ending a title: the count of what the title describes.
_QTY_AT_END = re.compile(r"(?<![a-z0-9])\(?\s*[x×]\s*([2-9])\s*\)?\s*$")
# NOTE: Inno3D names its coolers X2, X3, X4 ("iChill X4", "Twin X2"): after the model, not counts.
_X_COOLERS = re.compile(r"inno\s*3d|ichill|twin\s*x\d")
_QTY_WORDS = {"two": 2, "three": 3, "four": 4}
# NOTE: "Ventus 3X", "3X WINDFORCE" and "Inspire 3X" are cooler names, not counts.
_COOLER_BEFORE_X = re.compile(r"(?:ventus|inspire|windforce|eagle|shadow|trio|vision|aero|gaming|"
                              r"frozr|fans?)\s*$")
_NOT_A_COUNT_BEFORE = re.compile(r"(?:gen|pcie|v|version|mk|series|edition|slot|fan|fans|rev|x)\s*$")
_LETTERS = re.compile(r"[a-z]{2,}")
_PAIR_OF = re.compile(r"(?<![a-z0-9])pair\s*of(?![a-z0-9])")
_STRONG_FE = re.compile(r"(?<![a-z0-9])founders?\s*edition(?![a-z0-9])")
# Words between two mentions that make them two models rather than one model named twice.
_LIST_SEPARATOR = re.compile(r",|;|&|\+|(?<![a-z])(?:and|or|vs|versus|plus)(?![a-z])")
_SEGMENT = re.compile(r",|;|\||&|\+|(?<![a-z])and(?![a-z])")


def _bait_tails(catalog: Catalog) -> Phrases:
    """A bait phrase right before a mention ("for", "like", "compatible with")."""
    return Phrases(re.compile(rf"(?:^|[^a-z0-9])(?:{b.pattern})\s*$")
                   for b in catalog.kind.get("bait", ()))


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
    mentions = _named_twice(mentions, text)
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
        part = catalog.laptop_part(resolved)
        if laptop and final.laptop:
            resolved = f"{resolved} laptop"
        elif part is not None and len(memory) == 1 and memory <= set(part.memory):
            # NOTE: a size only the laptop part has ("RTX A5000 16GB") names the laptop part
            resolved = part.name
        if resolved not in names:
            names.append(resolved)
    # a refined model named alongside its parent ("4070 Ti ... 4070 Ti Super") is the refinement
    parents = {found.refines for n in names
               if (found := catalog.model(n)) is not None and found.refines}
    return [n for n in names if n not in parents]


def _named_twice(mentions: Sequence[Mention], text: str) -> Sequence[Mention]:
    """One model named twice, its suffix left off once ("RTX 4080 SUPER 16G ... RTX 4080"), is
    that model, unless a list separator stands between the two ("3090, 3090 Ti")."""
    names = {m.spec.name for m in mentions}
    if len(names) < 2:
        return mentions
    dropped = set()
    for short in names:
        longer = [m for m in mentions if m.spec.name.startswith(short + " ")]
        shorts = [m for m in mentions if m.spec.name == short]
        if longer and not any(_LIST_SEPARATOR.search(text[min(x.end, y.end):max(x.start, y.start)])
                              for x in shorts for y in longer):
            dropped.add(short)
    return [m for m in mentions if m.spec.name not in dropped] if dropped else mentions


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
    m = earliest(catalog.kind.get("quantity", ()), text)
    if m:
        return int(m.group(1)), m.group(0).strip()
    if mentions and _PAIR_OF.search(text):
        return 2, "pair of"
    x_coolers = _X_COOLERS.search(text) is not None
    for mention in mentions:
        before = text[max(0, mention.start - 30):mention.start]
        b = _QTY_BEFORE.search(before)
        if b and not _COOLER_BEFORE_X.search(before[:b.start() + 1]):
            word = b.group(3)
            n = int(b.group(1) or b.group(2) or 0) if not word else _QTY_WORDS.get(word, 2)
            return n, b.group(0).strip()
        bare = _QTY_BARE.search(before)
        if bare and not _NOT_A_COUNT_BEFORE.search(before[:bare.start() + 1]) \
                and _PLURAL.search(text, mention.start):
            return int(bare.group(1)), bare.group(0).strip()
        a = _QTY_AFTER.match(text[mention.end:])
        if a and not x_coolers:
            return int(a.group(1)), a.group(0).strip()
    end = _QTY_AT_END.search(text)
    if mentions and end and not x_coolers:
        return int(end.group(1)), end.group(0).strip()
    return 1, ""


def _variant(scope: str, names: Sequence[str], catalog: Catalog) -> tuple[str, str]:
    v = catalog.variant
    negated = [m.span() for m in every(v.get("fe_negations", ()), scope)]
    fe = [m for m in every(v.get("fe", ()), scope)
          if not any(s <= m.start() < e for s, e in negated)]
    if any((catalog.model(n.split(" laptop")[0]) or _NO_SPEC).vendor == "amd" for n in names):
        fe += every(v.get("fe_amd", ()), scope)
    partner = earliest(v.get("partner", ()), scope)
    oem = earliest(v.get("oem", ()), scope)
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
        gpu_words = kind.get("gpu_words", ())
        if not wanted and not find_mentions(have, catalog) and (
                find_mentions(want, catalog)
                or (earliest(gpu_words, want) and not earliest(gpu_words, have))):
            wanted = True
            ev.append("kind: the GPU is on the [W] side")
        scope = want if wanted else have
        items = len(_items(scope, catalog))
    else:
        scope = t
        w = earliest(kind.get("wanted", ()), t)
        if not wanted and w:
            wanted = True
            ev.append(f"kind: {w.group(0).strip()!r}")
    mentions, source = find_mentions(scope, catalog), scope
    if not mentions and d and not wanted and earliest(kind.get("gpu_words", ()), scope):
        mentions, source = find_mentions(d, catalog), d
        if mentions:
            ev.append("model: from the description")
    laptop = earliest(kind.get("laptop", ()), scope)
    names = _resolve_names(mentions, source, catalog, laptop is not None)
    model = "multiple" if len(names) > 1 else (names[0] if names else "none")
    if mentions:
        ev.append("model: " + ", ".join(repr(m.text) for m in mentions))
    gpu_context = bool(mentions) or earliest(kind.get("gpu_words", ()), scope) is not None
    quantity, qty_phrase = _quantity(scope, mentions, catalog)
    k, why = decide_kind(KindInput(
        scope, d, cond, wanted=wanted, gpu=gpu_context, model=model, items=items,
        quantity=quantity, mention_at=mentions[0].start if mentions and source is scope else -1,
        trade=sides is not None), catalog)
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
    read = _read_items(description, scope, model, variant, catalog) \
        if k not in ("wanted", "other", "system") else ()
    if read:
        ev.append("items: " + "; ".join(i.describe() for i in read))
    return Identity(model, variant, k, max(1, quantity), tuple(ev), read)


def _read_items(description: str | None, scope: str, model: str, variant: str,
                catalog: Catalog) -> tuple[Item, ...]:
    """The priced lines of the description, each identified; none unless one names a GPU."""
    lines = read_lines(description)
    if not lines:
        return ()
    out: list[Item] = []
    for line in lines:
        text = normalize(line.text)
        mentions = find_mentions(text, catalog)
        names = _resolve_names(mentions, text, catalog,
                               earliest(catalog.kind.get("laptop", ()), text) is not None)
        name = "multiple" if len(names) > 1 else (names[0] if names else "none")
        v = "unknown"
        if name not in ("none", "multiple"):
            v, _why = _variant(text, names, catalog)
            if v == "unknown":
                v = _title_variant(name, scope, model, variant, catalog)
        qty = _quantity(text, mentions, catalog)[0] if mentions else 1
        out.append(Item(line.text, name, v, line.price, line.local, line.shipped, line.each,
                        line.sold, max(1, qty)))
    return tuple(out) if any(i.model != "none" for i in out) else ()


def _title_variant(name: str, scope: str, model: str, variant: str, catalog: Catalog) -> str:
    """An item line's maker when the line names none: the title's for that model ("[H] 3090 FE"
    then "3090: 700"), read from the title's own piece that names it in a multi-item title."""
    if model == name:
        return variant
    for piece in _SEGMENT.split(scope):
        mentions = find_mentions(piece, catalog)
        if mentions and _resolve_names(mentions, piece, catalog, False) == [name]:
            return _variant(piece, [name], catalog)[0]
    return "unknown"


def _description_variant(d: str, names: Sequence[str], catalog: Catalog) -> tuple[str, str]:
    """A maker named in the description when the title names none; strong markers only."""
    v = catalog.variant
    strong_fe = _STRONG_FE.search(d)
    partner = earliest(v.get("partner", ()), d)
    oem = earliest(v.get("oem", ()), d)
    found = [x for x in (("fe", strong_fe), ("partner", partner), ("oem", oem)) if x[1]]
    if len(found) == 1:
        name, m = found[0]
        assert m is not None
        return name, f"description: {m.group(0)}"
    return "unknown", ""
