"""The GPU catalogue: model patterns, maker markers and listing phrases, loaded from TOML data."""

from __future__ import annotations

import copy
import html
import re
import tomllib
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from gpuscout.models.judge.patterns import GateIndex, Phrases, literal_gate

T = TypeVar("T")

_EDGE_L = r"(?<![a-z0-9])"
_EDGE_R = r"(?![a-z0-9])"
# NOTE: "4080 16GB SUPER" is a common eBay word order, so a size may sit before a suffix.
_MEMORY_GAP = r"(?:\s*\d{1,2}\s*gb?)?"
_SUFFIXES: dict[str, str] = {
    "ti": r"\s*-?\s*ti",
    "super": r"\s*-?\s*(?:super|s)",
    "xt": r"\s*-?\s*xt",
    "xtx": r"\s*-?\s*xtx",
    "gre": r"\s*-?\s*gre",
    "d": r"\s*-?\s*d",
    "ada": r"\s*-?\s*ada",
    "sff": r"\s*-?\s*sff",
}
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"), "-")
_DROP = dict.fromkeys(map(ord, "\u2122\u00ae\u00a9\ufffd\u200b\u200c\u200d\ufe0f"), " ")
_SPACES = re.compile(r"\s+")


class CatalogError(ValueError):
    """The catalogue data (shipped or user-supplied) is malformed."""


def normalize(text: str | None) -> str:
    """Lowercase text with entities decoded, trademark signs dropped and dashes unified."""
    if not text:
        return ""
    if text.isascii() and "&" not in text:
        # NOTE: no entity to decode and nothing the translations or NFKC would change
        return _SPACES.sub(" ", text.lower()).strip()
    t = html.unescape(html.unescape(text)).translate(_DROP).translate(_DASHES)
    t = unicodedata.normalize("NFKC", t).replace("\u2019", "'").replace("\u201d", '"')
    return _SPACES.sub(" ", t.lower()).strip()


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One model: canonical name, the patterns that mention it, and how memory refines it."""

    name: str
    patterns: tuple[re.Pattern[str], ...]
    memory: tuple[int, ...] = ()
    memory_in_name: bool = False
    refines: str | None = None
    laptop: bool = False
    vendor: str = "nvidia"
    suffix_count: int = 0
    part_numbers: tuple[tuple[int, re.Pattern[str]], ...] = ()
    #: for a laptop part ("rtx a5000 laptop"): the desktop model whose mention it can be
    laptop_of: str | None = None


@dataclass(frozen=True, slots=True)
class MarketBand:
    """A default price band for a model, with the published figures it comes from."""

    low: Decimal
    high: Decimal
    currency: str
    source: str


@dataclass(frozen=True)
class Catalog:
    """Compiled catalogue. ``raw`` keeps the data it was built from, for merging."""

    models: tuple[ModelSpec, ...]
    variant: Mapping[str, tuple[re.Pattern[str], ...]]
    kind: Mapping[str, tuple[re.Pattern[str], ...]]
    flairs: Mapping[str, tuple[str, ...]]
    market: Mapping[str, MarketBand]
    raw: Mapping[str, Any] = field(repr=False)
    #: what is derived from the fields once and kept (see ``memo``)
    _memo: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def memo(self, key: str, build: Callable[[Catalog], T]) -> T:
        """``build(self)``, computed on the first call for ``key`` and kept with the catalogue."""
        if key not in self._memo:
            self._memo[key] = build(self)
        value: T = self._memo[key]
        return value

    def model(self, name: str) -> ModelSpec | None:
        return self.memo("by_name", _by_name).get(name)

    def refinements(self, name: str) -> tuple[ModelSpec, ...]:
        return self.memo("refinements", _refinements).get(name, ())

    def laptop_part(self, name: str) -> ModelSpec | None:
        """The laptop part of desktop model ``name`` ("rtx a5000" -> "rtx a5000 laptop")."""
        return self.memo("laptop_parts", _laptop_parts).get(name)

    def mention_patterns(self, text: str) -> list[MentionPattern]:
        """The model patterns and part numbers that may match ``text``, in catalogue order."""
        entries, index = self.memo("mention_patterns", _mention_patterns)
        return [entries[i] for i in index.hits(text)]

    def band(self, model: str) -> MarketBand | None:
        return self.market.get(model)


@dataclass(frozen=True, slots=True)
class MentionPattern:
    """One pattern that mentions ``spec``: a name pattern, or a part number implying ``memory``."""

    spec: ModelSpec
    pattern: re.Pattern[str]
    memory: int | None = None


def _by_name(catalog: Catalog) -> dict[str, ModelSpec]:
    found: dict[str, ModelSpec] = {}
    for spec in catalog.models:
        found.setdefault(spec.name, spec)
    return found


def _refinements(catalog: Catalog) -> dict[str, tuple[ModelSpec, ...]]:
    found: dict[str, tuple[ModelSpec, ...]] = {}
    for spec in catalog.models:
        if spec.refines is not None:
            found[spec.refines] = (*found.get(spec.refines, ()), spec)
    return found


def _laptop_parts(catalog: Catalog) -> dict[str, ModelSpec]:
    return {spec.laptop_of: spec for spec in catalog.models if spec.laptop_of is not None}


def _mention_patterns(catalog: Catalog) -> tuple[tuple[MentionPattern, ...], GateIndex]:
    out: list[MentionPattern] = []
    for spec in catalog.models:
        out.extend(MentionPattern(spec, p) for p in spec.patterns)
        out.extend(MentionPattern(spec, p, memory) for memory, p in spec.part_numbers)
    return tuple(out), GateIndex([literal_gate(e.pattern) for e in out])


def _compile(pattern: str, *, edges: bool = True) -> re.Pattern[str]:
    try:
        return re.compile(f"{_EDGE_L}(?:{pattern}){_EDGE_R}" if edges else pattern)
    except re.error as exc:
        raise CatalogError(f"bad pattern {pattern!r}: {exc}") from exc


def _derived_pattern(name: str, prefix: str, strict: str | None) -> tuple[str, int]:
    words = name.split()
    if len(words) < 2:
        raise CatalogError(f"family model {name!r} needs a series word and a number")
    number, suffixes = words[1], words[2:]
    parts = []
    for i, suffix in enumerate(suffixes):
        if suffix not in _SUFFIXES:
            raise CatalogError(f"unknown suffix {suffix!r} in {name!r}")
        parts.append((_MEMORY_GAP if i == 0 else "") + _SUFFIXES[suffix])
    head = strict if (strict and not suffixes) else prefix
    tail = "".join(parts) if suffixes else "s?"  # plural "3090s"
    return f"{head}{re.escape(number)}{tail}", len(suffixes)


def _vendor(name: str) -> str:
    if name.startswith(("rx ", "radeon")):
        return "amd"
    return "intel" if name.startswith("arc ") else "nvidia"


def _str_list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CatalogError(f"{where} must be a list of strings")
    return value


def _build_models(raw: Mapping[str, Any]) -> tuple[ModelSpec, ...]:
    entries: dict[str, dict[str, Any]] = {}
    for fam in raw.get("family", []):
        prefix, strict = str(fam.get("prefix", "")), fam.get("strict_prefix")
        for name in _str_list(fam.get("models", []), f"family {fam.get('id')} models"):
            pattern, n = _derived_pattern(name, prefix, strict)
            entries[name] = {"patterns": [pattern], "laptop": bool(fam.get("laptop", False)),
                             "memory_in_name": bool(fam.get("memory_in_name", False)),
                             "suffix_count": n}
    for m in raw.get("model", []):
        name = m.get("name")
        if not isinstance(name, str):
            raise CatalogError(f"model entry without a name: {m!r}")
        entry = entries.setdefault(name, {"patterns": [], "suffix_count": len(name.split()) - 2})
        entry["patterns"] = entry["patterns"] + _str_list(m.get("patterns", []), name)
        for key in ("memory", "memory_in_name", "refines", "laptop", "part_numbers"):
            if key in m:
                entry[key] = m[key]
    for lap in raw.get("laptop", []):
        of = lap.get("of")
        if not isinstance(of, str) or of not in entries:
            raise CatalogError(f"laptop entry for an unknown model: {lap!r}")
        entries[f"{of} laptop"] = {"patterns": [], "laptop_of": of,
                                   "memory": list(lap.get("memory", [])),
                                   "suffix_count": entries[of].get("suffix_count", 0)}
    specs = []
    for name, e in entries.items():
        pns = tuple((int(mem), re.compile(_EDGE_L + re.escape(pn)))
                    for mem, numbers in dict(e.get("part_numbers", {})).items()
                    for pn in _str_list(numbers, f"{name} part_numbers"))
        specs.append(ModelSpec(
            name=name, patterns=tuple(_compile(p) for p in e["patterns"]),
            memory=tuple(int(x) for x in e.get("memory", ())),
            memory_in_name=bool(e.get("memory_in_name", False)), refines=e.get("refines"),
            laptop=bool(e.get("laptop", False)), vendor=_vendor(name),
            suffix_count=max(0, int(e.get("suffix_count", 0))), part_numbers=pns,
            laptop_of=e.get("laptop_of")))
    return tuple(specs)


# Phrase lists compiled as-is (they carry their own anchors) rather than between word edges.
_RAW_LISTS = frozenset({"bait", "inclusion", "quantity"})


def build_catalog(raw: Mapping[str, Any]) -> Catalog:
    """Compile catalogue data (the TOML structure) into a Catalog."""
    variant = {k: Phrases(_compile(p) for p in _str_list(v, f"variant.{k}"))
               for k, v in dict(raw.get("variant", {})).items()}
    kind: dict[str, tuple[re.Pattern[str], ...]] = {}
    flairs: dict[str, tuple[str, ...]] = {}
    for k, v in dict(raw.get("kind", {})).items():
        if k.endswith("_flairs"):
            flairs[k.removesuffix("_flairs")] = tuple(s.lower() for s in _str_list(v, k))
        else:
            kind[k] = Phrases(_compile(p, edges=k not in _RAW_LISTS) for p in _str_list(v, k))
    market = {}
    for model, band in dict(raw.get("market", {})).items():
        try:
            market[model] = MarketBand(Decimal(str(band["low"])), Decimal(str(band["high"])),
                                       str(band.get("currency", "USD")), str(band.get("source", "")))
        except (KeyError, ArithmeticError) as exc:
            raise CatalogError(f"market.{model}: needs numeric low and high") from exc
    return Catalog(models=_build_models(raw), variant=variant, kind=kind, flairs=flairs,
                   market=market, raw=raw)


def merge_catalog(base: Catalog, extra: Mapping[str, Any]) -> Catalog:
    """Base catalogue plus user entries: families and models are added (a model of the same name
    gains patterns and settings), phrase lists are extended, market bands replaced per model."""
    raw: dict[str, Any] = copy.deepcopy(dict(base.raw))
    for key in ("family", "model", "laptop"):
        raw[key] = list(raw.get(key, [])) + list(extra.get(key, []))
    for section in ("variant", "kind"):
        merged = dict(raw.get(section, {}))
        for k, v in dict(extra.get(section, {})).items():
            merged[k] = list(merged.get(k, [])) + _str_list(v, f"{section}.{k}")
        raw[section] = merged
    raw["market"] = {**dict(raw.get("market", {})), **dict(extra.get("market", {}))}
    return build_catalog(raw)


def _read_data(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(f"cannot read catalogue: {exc}") from exc


@cache
def shipped_data() -> Mapping[str, Any]:
    """The shipped catalogue as data (read once; nothing compiled)."""
    return _read_data(Path(__file__).with_name("catalog.toml"))


def load_catalog(path: Path | None = None) -> Catalog:
    """The shipped catalogue, or the TOML file at ``path``."""
    return build_catalog(shipped_data() if path is None else _read_data(path))


def model_names(raw: Mapping[str, Any]) -> frozenset[str]:
    """Every model name identification can give from catalogue data, without compiling it: the
    models, their memory-size names ("tesla v100 32gb") and laptop names ("rtx 3080 laptop")."""
    names: set[str] = set()
    for fam in raw.get("family", []):
        for name in fam.get("models", []):
            names.add(name)
            if fam.get("laptop"):
                names.add(f"{name} laptop")
    for m in raw.get("model", []):
        name = m.get("name")
        if not isinstance(name, str):
            continue
        names.add(name)
        if m.get("memory_in_name"):
            names.update(f"{name} {int(size)}gb" for size in m.get("memory", ()))
        if m.get("laptop"):
            names.add(f"{name} laptop")
    laptop_families = {n for fam in raw.get("family", []) if fam.get("laptop")
                       for n in fam.get("models", [])}
    names.update(f"{m['name']} laptop" for m in raw.get("model", [])
                 if m.get("refines") in laptop_families and isinstance(m.get("name"), str))
    return frozenset(names)


#: keys a user's model entry may carry (the catalogue's [[model]] keys)
USER_MODEL_KEYS = frozenset({"name", "patterns", "memory", "memory_in_name", "refines", "laptop"})


def user_model(entry: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, Any]:
    """A user's model entry, checked, as a catalogue [[model]] table. Without ``patterns`` the
    pattern is derived like a family's from a name such as "rtx 5070 ti super": the family
    whose models share its series word lends its vendor prefix."""
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise CatalogError("name: a model name like 'rtx 5070 ti super' is required")
    name = " ".join(name.lower().split())
    unknown = set(entry) - USER_MODEL_KEYS
    if unknown:
        allowed = ", ".join(sorted(USER_MODEL_KEYS))
        raise CatalogError(f"{sorted(unknown)[0]}: unknown key; allowed: {allowed}")
    out: dict[str, Any] = {k: v for k, v in entry.items() if k != "name"}
    out["name"] = name
    if "patterns" in entry:
        for pattern in _str_list(entry["patterns"], "patterns"):
            _compile(pattern)
        return out
    series = name.split()[0]
    for fam in base.get("family", []):
        if any(str(m).split()[0] == series for m in fam.get("models", [])):
            pattern, _ = _derived_pattern(name, str(fam.get("prefix", "")), fam.get("strict_prefix"))
            out["patterns"] = [pattern]
            return out
    raise CatalogError(f"name = {name!r}: no pattern can be derived from it; give patterns = ['...']")


#: the shipped catalogue, compiled on first use (``from ... import DEFAULT``): reading names and
#: checking a user's entries (``model_names``, ``user_model``) never compiles it
DEFAULT: Catalog


def __getattr__(name: str) -> Any:
    if name == "DEFAULT":
        catalog = globals()["DEFAULT"] = load_catalog()
        return catalog
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
