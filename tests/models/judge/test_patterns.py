"""Literal gates: a pattern is skipped only where it cannot match, so every result is unchanged."""

from __future__ import annotations

import dataclasses
import html
import re
import unicodedata
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpuscout.models.judge.catalog import DEFAULT, Catalog, normalize
from gpuscout.models.judge.condition_rules import RULES
from gpuscout.models.judge.identify import Mention, find_mentions
from gpuscout.models.judge.patterns import GateIndex, Phrases, literal_gate, may_match, sub_each

PATTERNS = (
    [p for spec in DEFAULT.models for p in spec.patterns]
    + [p for spec in DEFAULT.models for _mem, p in spec.part_numbers]
    + [p for phrases in DEFAULT.kind.values() for p in phrases]
    + [p for phrases in DEFAULT.variant.values() for p in phrases]
    + [rule.pattern for rule in RULES]
)
ALL = Phrases(PATTERNS)
# NOTE: the characters the catalogue's phrases are made of, so random texts hit them often
ALPHABET = "abcdefgilmnoprstuvwx0123456789 -&/()[]"
WORDS = ["rtx", "gtx", "3090", "4070 ti", "super", "founders edition", "fe", "box only", "no",
         "for parts", "mined", "never", "tested", "pc", "laptop", "cooler", "with", "2x", "msi",
         "zotac", "tesla v100", "16gb", "24gb", "[h]", "[w]", "paypal", "water block", "oem"]
texts = st.one_of(
    st.text(alphabet=ALPHABET, max_size=60),
    st.lists(st.sampled_from(WORDS), max_size=12).map(" ".join),
)


@pytest.mark.parametrize(("pattern", "gate"), [
    (r"(?<![a-z0-9])(?:(?:nvidia\s*)?(?:rtx|gtx)?\s*-?\s*3090s?)(?![a-z0-9])", ("3090",)),
    (r"(?:tesla\s*)?a100", ("a100",)),
    (r"mined|mining|ex\s*-?\s*mining", ("mined", "mining")),
    (r"(?i:rtx) 3090", (" 3090",)),
    (r"abx{2,3}", ("ab",)),
    (r"(?:card){2,}", ("cardcard",)),
    (r"(?:pcie)+ card", (" card",)),
    (r"[a-z]\d[a-z]\d\d[a-z]", None),  # character classes only
    (r"(?i)rtx 3090", None),  # case-insensitive
    (r"f\s*&\s*f", None),  # single characters
    (r"rtx|", None),  # an empty alternative matches anywhere
    (r"(?:founders)?\s*edition|fe", ("edition", "fe")),
])
def test_literal_gate(pattern: str, gate: tuple[str, ...] | None) -> None:
    assert literal_gate(re.compile(pattern)) == gate


def test_every_catalogue_pattern_that_matches_passes_its_gate(dev_labels: list[dict[str, Any]]) -> None:
    texts = [normalize(row["title"]) for row in dev_labels]
    gates = [literal_gate(p) for p in PATTERNS]
    assert sum(g is not None for g in gates) > len(PATTERNS) * 0.9
    for pattern, gate in zip(PATTERNS, gates, strict=True):
        for text in texts:
            if pattern.search(text):
                assert may_match(gate, text), (pattern.pattern, gate, text)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_gate_index_finds_exactly_the_gates_present(text: str) -> None:
    expected = [i for i, g in enumerate(ALL.gates) if may_match(g, text)]
    assert ALL.gate_index.hits(text) == expected
    for i, pattern in enumerate(PATTERNS):
        if pattern.search(text):
            assert i in expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["ab", "abc", "bcd", "cd", "d e", "e"]), max_size=8).map(" ".join))
def test_gate_index_with_overlapping_strings(text: str) -> None:
    gates: list[tuple[str, ...] | None] = [("ab",), ("abc",), ("bcd", "cd"), ("d e",), None]
    expected = [i for i, g in enumerate(gates) if may_match(g, text)]
    assert GateIndex(gates).hits(text) == expected


def test_phrases_is_the_tuple_of_its_patterns() -> None:
    patterns = [re.compile("rtx"), re.compile(r"[a-z]\d"), re.compile("rtx")]
    phrases = Phrases(patterns)
    assert phrases == tuple(patterns) and len(phrases) == 3
    assert phrases.index(patterns[1]) == 1 and phrases.count(patterns[0]) == 2
    assert phrases.candidates("a1 gtx") == [patterns[1]]
    assert Phrases() == ()


@settings(max_examples=200, deadline=None)
@given(texts)
def test_sub_each_is_each_sub_in_turn(text: str) -> None:
    words = DEFAULT.kind["payment_words"]
    expected = text
    for p in words:
        expected = p.sub(" ", expected)
    assert sub_each(words, " ", text) == expected
    assert sub_each(tuple(words), " ", text) == expected


def _mentions_by_every_pattern(text: str, catalog: Catalog) -> list[Mention]:
    """find_mentions as written before gates: every pattern of every model over the text."""
    found: list[tuple[int, int, Mention]] = []
    for spec in catalog.models:
        for pattern in spec.patterns:
            for m in pattern.finditer(text):
                found.append((m.end() - m.start(), spec.suffix_count,
                              Mention(spec, m.start(), m.end(), m.group(0).strip())))
        for memory, pn in spec.part_numbers:
            for m in pn.finditer(text):
                found.append((m.end() - m.start(), spec.suffix_count,
                              Mention(spec, m.start(), m.end(), m.group(0), memory)))
    found.sort(key=lambda f: (-f[0], -f[1], f[2].start))
    kept: list[Mention] = []
    for _, _, mention in found:
        if any(mention.start < k.end and k.start < mention.end for k in kept):
            continue
        before = text[max(0, mention.start - 24):mention.start]
        if any(re.search(rf"(?:^|[^a-z0-9])(?:{b.pattern})\s*$", before)
               for b in catalog.kind.get("bait", ())):
            continue
        kept.append(mention)
    return sorted(kept, key=lambda k: k.start)


def test_find_mentions_is_unchanged_by_gates(dev_labels: list[dict[str, Any]]) -> None:
    for row in dev_labels:
        text = normalize(row["title"])
        assert find_mentions(text) == _mentions_by_every_pattern(text, DEFAULT), text


@settings(max_examples=200, deadline=None)
@given(texts)
def test_find_mentions_is_unchanged_by_gates_on_any_text(text: str) -> None:
    assert find_mentions(text) == _mentions_by_every_pattern(text, DEFAULT)


def test_catalogue_lookups_are_the_linear_ones() -> None:
    for spec in DEFAULT.models:
        assert DEFAULT.model(spec.name) is next(s for s in DEFAULT.models if s.name == spec.name)
        assert DEFAULT.refinements(spec.name) == tuple(
            s for s in DEFAULT.models if s.refines == spec.name)
    assert DEFAULT.model("no such card") is None


def test_a_changed_catalogue_does_not_share_what_was_derived() -> None:
    assert DEFAULT.model("rtx 3090") is not None
    fewer = dataclasses.replace(DEFAULT, models=DEFAULT.models[:3])
    assert fewer.model("rtx 3090") is None
    assert find_mentions("rtx 3090", fewer) == []


def _normalize_in_full(text: str) -> str:
    t = html.unescape(html.unescape(text)).translate(dict.fromkeys(map(ord, "\u2122\u00ae"), " "))
    t = unicodedata.normalize("NFKC", t)
    return re.sub(r"\s+", " ", t.lower()).strip()


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=40))
def test_normalize_of_plain_ascii_is_the_full_normalisation(text: str) -> None:
    assert normalize(text) == _normalize_in_full(text)
