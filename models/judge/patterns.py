"""Literal gates: for a regex, strings one of which every match contains, so that a list of
patterns can skip those that cannot match a text without running them over it.

A gate is computed from the parsed pattern and is conservative: whatever it cannot reason about
(character classes, case-insensitive parts, optional items, lookarounds) it leaves out, and a
pattern with no gate is always run. Skipping a pattern whose gate is absent from the text gives
exactly the results of running it (it finds nothing), only sooner.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Sequence
from typing import Any

#: strings one of which every match contains; None: no such set is known (always run)
Gate = tuple[str, ...] | None

try:
    # NOTE: the stdlib regex parser (``sre_parse`` before 3.11); without it nothing is gated
    _parser: Any = importlib.import_module("re._parser")
except ImportError:  # pragma: no cover - every supported Python has it
    _parser = None

_NO_CASE = re.IGNORECASE


def literal_gate(pattern: re.Pattern[str]) -> Gate:
    """Strings one of which every match of ``pattern`` contains, or None."""
    if _parser is None or pattern.flags & _NO_CASE or not isinstance(pattern.pattern, str):
        return None
    try:
        _exact, gate = _sequence(list(_parser.parse(pattern.pattern, pattern.flags)))
    except Exception:  # NOTE: a parser of another shape gives no gate, never a wrong one
        return None
    # NOTE: a single character is in most texts and would be found at many places: no gate
    return gate if gate is not None and min(map(len, gate)) >= 2 else None


def _better(a: Gate, b: Gate) -> Gate:
    """The more selective gate: the longer shortest string, then the fewer strings."""
    if a is None:
        return b
    if b is None:
        return a
    ka, kb = (min(map(len, a)), -len(a)), (min(map(len, b)), -len(b))
    return b if kb > ka else a


def _sequence(items: Sequence[tuple[Any, Any]]) -> tuple[str | None, Gate]:
    """(the one string the sequence always matches, or None; its best gate)."""
    run: list[str] = []
    exact = True
    best: Gate = None
    for op, av in items:
        text, gate = _item(op.name, av)
        if text is not None:
            run.append(text)
            continue
        exact = False
        if run and "".join(run):
            best = _better(best, ("".join(run),))
        run = []
        best = _better(best, gate)
    whole = "".join(run)
    if exact:
        return whole, (whole,) if whole else None
    if whole:
        best = _better(best, (whole,))
    return None, best


def _item(name: str, av: Any) -> tuple[str | None, Gate]:
    """(the one string the item always matches, or None; its gate)."""
    if name == "LITERAL":
        return chr(av), None
    if name == "SUBPATTERN":
        _group, add_flags, del_flags, body = av
        if (add_flags | del_flags) & _NO_CASE:
            return None, None
        return _sequence(list(body))
    if name == "BRANCH":
        strings: list[str] = []
        for branch in av[1]:
            exact, gate = _sequence(list(branch))
            found = (exact,) if exact else gate
            if not found or not all(found):
                return None, None
            strings.extend(s for s in found if s not in strings)
        return None, tuple(strings)
    if name in ("MAX_REPEAT", "MIN_REPEAT") and av[0] >= 1:
        exact, gate = _sequence(list(av[2]))
        if exact:
            return (exact if av[0] == av[1] == 1 else None), (exact * av[0],)
        return None, gate
    return None, None


def may_match(gate: Gate, text: str) -> bool:
    """Whether a pattern with ``gate`` can match ``text`` at all."""
    return gate is None or any(s in text for s in gate)


def trie_pattern(strings: Iterable[str]) -> str:
    """A regex matching any of ``strings``, the longest one at a position, written as a trie:
    "new|newer|nib" becomes "n(?:ew(?:er)?|ib)".

    NOTE: the regex engine tries the branches of a flat alternation one after another at every
    position; a trie shares their prefixes, so a position costs the depth of the trie instead of
    the number of strings (measured: a tenth of the time on listing texts).
    """
    root: dict[str, Any] = {}
    for s in strings:
        node = root
        for ch in s:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        kids = sorted((ch, sub) for ch, sub in node.items() if ch)
        if not kids:
            return ""
        alts = [re.escape(ch) + build(sub) for ch, sub in kids]
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        # NOTE: a string ending here is tried after every longer one (greedy "?")
        return f"(?:{body})?" if "" in node else body

    return build(root)


class GateIndex:
    """Which of many gated entries may match a text, found in one pass over it.

    NOTE: one pattern of every gate string (a trie, see ``trie_pattern``) is searched from each
    position where a string was found plus one: at any position it finds the longest string
    there, which contains every shorter one starting there, so the strings found and the strings
    inside them are all the strings present.
    """

    def __init__(self, gates: Sequence[Gate]) -> None:
        strings = sorted({s for g in gates if g is not None for s in g}, key=lambda s: (-len(s), s))
        users: dict[str, set[int]] = {s: set() for s in strings}
        always: list[int] = []
        for i, g in enumerate(gates):
            if g is None:
                always.append(i)
            else:
                for s in g:
                    users[s].add(i)
        self.always = frozenset(always)
        self.always_sorted = tuple(sorted(always))
        self.finder = re.compile(trie_pattern(strings)) if strings else None
        self.inside = {s: frozenset().union(*(users[t] for t in strings if t in s))
                       for s in strings}

    def hits(self, text: str) -> list[int]:
        """The indices (ascending) of the entries whose gate is present in ``text``."""
        if self.finder is None:
            return list(self.always_sorted)
        search = self.finder.search
        m = search(text)
        if m is None:
            return list(self.always_sorted)
        found = set(self.always)
        while m is not None:
            found |= self.inside[m.group()]
            m = search(text, m.start() + 1)
        return sorted(found)


class Phrases(tuple[re.Pattern[str], ...]):
    """A tuple of compiled patterns that also knows each one's literal gate."""

    gates: tuple[Gate, ...]
    gate_index: GateIndex

    def __new__(cls, patterns: Iterable[re.Pattern[str]] = ()) -> Phrases:
        self = super().__new__(cls, patterns)
        self.gates = tuple(literal_gate(p) for p in self)
        self.gate_index = GateIndex(self.gates)
        return self

    def candidates(self, text: str) -> list[re.Pattern[str]]:
        """The patterns that may match ``text``, in order."""
        return [self[i] for i in self.gate_index.hits(text)]


def candidates(patterns: Iterable[re.Pattern[str]], text: str) -> Iterable[re.Pattern[str]]:
    """``patterns`` without those that cannot match ``text`` (when they are Phrases)."""
    return patterns.candidates(text) if isinstance(patterns, Phrases) else patterns


def sub_each(patterns: Iterable[re.Pattern[str]], repl: str, text: str) -> str:
    """Each pattern in turn replaced by ``repl`` in what the ones before it left."""
    if not isinstance(patterns, Phrases):
        for p in patterns:
            text = p.sub(repl, text)
        return text
    for p, g in zip(patterns, patterns.gates, strict=True):
        # NOTE: the gate is checked on the text as it is now: a replacement may join words
        if may_match(g, text):
            text = p.sub(repl, text)
    return text


def earliest(patterns: Iterable[re.Pattern[str]], text: str) -> re.Match[str] | None:
    """The match of any of ``patterns`` that starts first in ``text``."""
    best: re.Match[str] | None = None
    for p in candidates(patterns, text):
        m = p.search(text)
        if m and (best is None or m.start() < best.start()):
            best = m
    return best


def every(patterns: Iterable[re.Pattern[str]], text: str) -> list[re.Match[str]]:
    """Every match of every one of ``patterns`` in ``text``, pattern by pattern."""
    return [m for p in candidates(patterns, text) for m in p.finditer(text)]


class Gated:
    """A pattern searched only in texts that hold its literal gate (see ``literal_gate``)."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.gate = literal_gate(pattern)

    def search(self, text: str) -> re.Match[str] | None:
        return self.pattern.search(text) if may_match(self.gate, text) else None
