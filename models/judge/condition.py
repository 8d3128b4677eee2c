"""Condition phrases in listing text: good and bad signals, with negation (before the phrase or
as an answer after it: "Mined? No."), hedges ("not to my knowledge"), faults and memory temperatures.
The phrases themselves are in ``condition_rules``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from gpuscout.models.judge.catalog import normalize
from gpuscout.models.judge.condition_rules import FAULTS, RULES, Rule
from gpuscout.models.judge.patterns import GateIndex, literal_gate

_CLAUSE_END = re.compile(r"[.;!?,:\n()\[\]|]|\bbut\b|\bhowever\b|\bexcept\b|\baber\b|\bmais\b|\bpero\b")
_SENTENCE_END = re.compile(r"[.;!?\n|]")
_LINE_BREAK = re.compile(r"\s*\n\s*")
_NEGATORS = re.compile(
    r"(?<![a-z0-9])(?:no|not|never|without|zero|nor|none|nothing|free\s*of|neither|"
    r"\w+n't|cannot|(?:do|does|did|is|was|are|were|has|have|had|wo|ca|could|would)nt|"
    r"kein\w*|nie|niemals|nicht|ohne|jamais|pas|sans|aucune?|nunca|jam[áa]s|sin|ning[úu]n\w*)"
    r"(?![a-z0-9])")
_NEGATED_AFTER = re.compile(r"^\s*-?\s*(?:free|less)(?![a-z0-9])")
# NOTE: an answer after the phrase: "Mining: no", "Mined? No.", "Artifacts - none", "Coil whine:
# nope". The answer must end its clause: "mining - no issues though" is no denial of mining.
_ANSWER_NO = re.compile(
    r"^\s*[?:\-=]+\s*(?:no|none|nope|never|nah|n/?a|zero|0|nein|keine?|nie|non|aucun\w*|jamais|"
    r"nunca|ninguno)(?=\s*$|\s*[.,;!)\n|]|\s+(?:at\s*all|ever|whatsoever)\b)")
# The seller does not know: "not sure if it was mined", "I believe it was never mined", an answer
# "Mined? Not to my knowledge."
_HEDGE_BEFORE = re.compile(
    r"(?<![a-z0-9])(?:not\s*sure|unsure|no\s*idea|(?:don'?t|do\s*not|dont)\s*know|"
    r"(?:can'?t|cannot)\s*(?:say|tell|confirm|guarantee|verify)|unknown|no\s*clue|not\s*certain|"
    r"(?:may|might|could)\s*(?:have|or\s*(?:may|might)\s*not)|possibly|probably|i\s*(?:think|believe|"
    r"assume|guess)|as\s*far\s*as\s*i\s*know|afaik|to\s*my\s*knowledge|supposedly|apparently|"
    r"(?:was|were)\s*told|keine\s*ahnung|wei(?:ss|ß)\s*nicht|je\s*ne\s*sais\s*pas|no\s*s[ée])"
    r"(?![a-z0-9])")
_HEDGE_AFTER = re.compile(
    r"^\s*[?:\-=]*\s*(?:not\s*to\s*my\s*knowledge|not\s*that\s*i\s*(?:know|am\s*aware|'?m\s*aware)|"
    r"(?:i\s*)?don'?t\s*think\s*so|probably\s*not|not\s*sure|unsure|unknown|no\s*idea|no\s*clue|"
    r"maybe|possibly|not\s*by\s*me|not\s*while\s*i\s*(?:had|owned)\s*it|afaik\s*no|"
    r"(?:i\s*)?(?:can'?t|cannot)\s*(?:say|tell|confirm))(?![a-z0-9])")
# "warranty seal broken", "the sticker is broken": the seal is broken, not the card
_NOT_THE_CARD = re.compile(r"(?:seal|sticker|tab|box|packaging|latch|clip|label)s?\s*"
                           r"(?:is\s*|was\s*|are\s*|were\s*|has\s*been\s*|got\s*)?$")


def is_negated(text: str, start: int, end: int | None = None, *, window: int = 4) -> bool:
    """Whether the phrase at text[start:end] is denied: "never mined", "no coil whine",
    "not used for mining", "artifact-free", or answered "no" ("Mining: no", "Mined? No.").
    Looks back at most ``window`` words in the clause."""
    # NOTE: a clause is short; the look-back never needs more than the text just before
    before = text[max(0, start - 160):start]
    ends = [m.end() for m in _CLAUSE_END.finditer(before)]
    if ends:
        before = before[ends[-1]:]
    words = before.split()[-window:]
    if _NEGATORS.search(" ".join(words)):
        return True
    if end is None:
        return False
    after = text[end:end + 40]
    return bool(_NEGATED_AFTER.match(after) or _ANSWER_NO.match(after))


def is_hedged(text: str, start: int, end: int) -> bool:
    """Whether the seller says they do not know: a hedge earlier in the sentence ("not sure if it
    was mined", "I believe it was never mined") or as the answer ("Mined? Not to my knowledge")."""
    if _HEDGE_AFTER.match(text[end:end + 40]):
        return True
    before = text[max(0, start - 120):start]
    ends = [m.end() for m in _SENTENCE_END.finditer(before)]
    if ends:
        before = before[ends[-1]:]
    return bool(_HEDGE_BEFORE.search(" ".join(before.split()[-10:])))


@dataclass(frozen=True, slots=True)
class ConditionSignal:
    """One matched phrase: the rule it fired, its weight (+ good, - bad) and the text matched."""

    rule: str
    weight: int
    phrase: str
    #: a fault a buyer should not pay a working card's price for (see ``condition_rules.FAULTS``)
    fault: bool = False

    @property
    def good(self) -> bool:
        return self.weight > 0


@dataclass(frozen=True, slots=True)
class ConditionResult:
    """Every condition signal found in a text, and a quoted memory junction temperature."""

    signals: tuple[ConditionSignal, ...] = ()
    junction_temp_c: int | None = None

    @property
    def good(self) -> tuple[ConditionSignal, ...]:
        return tuple(s for s in self.signals if s.weight > 0)

    @property
    def bad(self) -> tuple[ConditionSignal, ...]:
        return tuple(s for s in self.signals if s.weight < 0)

    @property
    def faults(self) -> tuple[ConditionSignal, ...]:
        return tuple(s for s in self.signals if s.fault)

    @property
    def net(self) -> int:
        return sum(s.weight for s in self.signals)

    @property
    def evidence(self) -> tuple[str, ...]:
        return tuple(f"{s.rule}: {s.phrase!r}" for s in self.signals)


_TEMP = re.compile(
    r"(?<![a-z0-9])(?:mem(?:ory)?\s*(?:junction|jct|temps?|temperature)|vram|junction|"
    r"hot\s*spot\s*memory|gddr6x)\D{0,30}?(\d{2,3})\s*(?:°|º|deg(?:rees)?\.?)?\s*c(?![a-z0-9])")
_TEMP_GOOD, _TEMP_BAD = 90, 100
_RULE_INDEX = GateIndex([literal_gate(rule.pattern) for rule in RULES])


def _read(rule: Rule, t: str, start: int, end: int) -> tuple[str, int, bool] | None:
    """(rule name, weight, fault) of a phrase as the words around it qualify it, or None."""
    name, weight = rule.name, rule.weight
    if weight < 0:
        if name == "broken" and _NOT_THE_CARD.search(t[max(0, start - 30):start]):
            return None
        if is_hedged(t, start, end):
            name, weight = rule.hedged or (name, -(-weight // 2))
            return name, weight, rule.name in FAULTS
        if is_negated(t, start, end):
            return None if rule.negated is None else (*rule.negated, False)
        return name, weight, rule.name in FAULTS
    if rule.negated is not None and is_negated(t, start, end):
        return (*rule.negated, False)
    if _ANSWER_NO.match(t[end:end + 40]) or (
            rule.name in ("warranty", "original box", "receipt", "tested", "new")
            and is_negated(t, start, end, window=2)):
        return None
    if weight > 1 and is_hedged(t, start, end):
        name, weight = rule.hedged or (name, 1)
    return name, weight, False


def assess_condition(text: str | None) -> ConditionResult:
    """Condition signals in ``text`` (title, description or marketplace condition, any case)."""
    # NOTE: a line break ends a clause ("Mining: no\nBox: yes"); normalising would join the lines
    t = normalize(_LINE_BREAK.sub(" | ", text) if text and "\n" in text else text)
    if not t:
        return ConditionResult()
    taken: list[tuple[int, int]] = []
    signals: list[ConditionSignal] = []
    seen: set[str] = set()
    for i in _RULE_INDEX.hits(t):
        rule = RULES[i]
        for m in rule.pattern.finditer(t):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            phrase = m.group(0).strip()
            if not phrase:
                continue
            taken.append((m.start(), m.end()))
            read = _read(rule, t, m.start(), m.end())
            if read is None:
                continue
            name, weight, fault = read
            if name in seen:
                continue
            seen.add(name)
            signals.append(ConditionSignal(name, weight, phrase, fault))
    temp = max((int(m.group(1)) for m in _TEMP.finditer(t)), default=None)
    if temp is not None and 30 <= temp <= 130:
        if temp <= _TEMP_GOOD:
            signals.append(ConditionSignal("memory temperature ok", 2, f"{temp}°C"))
        elif temp >= _TEMP_BAD:
            signals.append(ConditionSignal("memory temperature high", -6, f"{temp}°C"))
    else:
        temp = None
    return ConditionResult(tuple(signals), temp)
