"""Condition phrases in listing text: good and bad signals, with negation and memory temperatures."""

from __future__ import annotations

import re
from dataclasses import dataclass

from gpuscout.models.judge.catalog import normalize
from gpuscout.models.judge.patterns import GateIndex, literal_gate

_CLAUSE_END = re.compile(r"[.;!?,:\n()\[\]|]|\bbut\b|\bhowever\b|\bexcept\b")
_NEGATORS = re.compile(
    r"(?<![a-z0-9])(?:no|not|never|without|zero|nor|none|nothing|free\s*of|neither|"
    r"\w+n't|cannot|(?:do|does|did|is|was|are|were|has|have|had|wo|ca|could|would)nt)(?![a-z0-9])")
_NEGATED_AFTER = re.compile(r"^\s*-?\s*(?:free|less)(?![a-z0-9])")


def is_negated(text: str, start: int, end: int | None = None, *, window: int = 4) -> bool:
    """Whether the phrase at text[start:end] is denied: "never mined", "no coil whine",
    "not used for mining", "artifact-free". Looks back at most ``window`` words in the clause."""
    before = text[:start]
    ends = [m.end() for m in _CLAUSE_END.finditer(before)]
    if ends:
        before = before[ends[-1]:]
    words = before.split()[-window:]
    if _NEGATORS.search(" ".join(words)):
        return True
    return end is not None and bool(_NEGATED_AFTER.match(text[end:]))


@dataclass(frozen=True, slots=True)
class ConditionSignal:
    """One matched phrase: the rule it fired, its weight (+ good, - bad) and the text matched."""

    rule: str
    weight: int
    phrase: str

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
    def net(self) -> int:
        return sum(s.weight for s in self.signals)

    @property
    def evidence(self) -> tuple[str, ...]:
        return tuple(f"{s.rule}: {s.phrase!r}" for s in self.signals)


@dataclass(frozen=True, slots=True)
class _Rule:
    name: str
    weight: int
    pattern: re.Pattern[str]
    # When the phrase is denied: None ignores it, else the (rule, weight) it becomes.
    negated: tuple[str, int] | None = None


def _r(name: str, weight: int, pattern: str, negated: tuple[str, int] | None = None) -> _Rule:
    return _Rule(name, weight, re.compile(rf"(?<![a-z0-9])(?:{pattern})(?![a-z0-9])"), negated)


# Weights: good up to +4, bad down to -15. Order matters: a span matched by an earlier rule is not
# matched again ("lightly mined" is not also "mined").
RULES: tuple[_Rule, ...] = (
    # -- negative phrasings that are good news, matched first so their words are consumed
    _r("never mined", 3, r"(?:never|not|wasn'?t|was\s*not)\s*(?:been\s*)?(?:used\s*(?:for|in)\s*"
       r"(?:crypto\s*)?mining|mined)|no\s*mining|non\s*-?\s*mining|not\s*a\s*mining\s*card"),
    _r("never overclocked", 1, r"never\s*(?:been\s*)?(?:overclocked|oc'?d)"),
    _r("no issues", 2, r"(?:zero|no|without\s*any)\s*(?:issues|problems)|works\s*(?:perfectly|flawlessly"
       r"|great|100\s*%)|flawless(?:ly)?|perfect\s*(?:working\s*)?condition"),
    # -- good
    _r("new thermal pads", 3, r"(?:new|fresh|replaced(?:\s*the)?|upgraded)\s*(?:thermal\s*)?pads|"
       r"re\s*-?\s*padded|pads\s*(?:were\s*|have\s*been\s*)?replaced"),
    _r("repasted", 2, r"re\s*-?\s*pasted|(?:new|fresh)\s*(?:thermal\s*)?paste|ptm\s*-?\s*7950|"
       r"paste\s*(?:was\s*|has\s*been\s*)?replaced"),
    _r("original box", 2, r"(?:original|orig|retail|complete)\s*(?:retail\s*)?(?:box|packaging)|"
       r"(?:with|w/|comes\s*with(?:\s*the)?|incl\.?|including)\s*(?:the\s*)?box|box\s*included|"
       r"in\s*(?:the\s*)?box"),
    _r("receipt", 2, r"receipts?|invoice|proof\s*of\s*purchase"),
    _r("warranty", 3, r"(?:remaining|transferable|active|valid|still\s*(?:under|has|have)|under)?"
       r"\s*warranty(?:\s*(?:until|till|through|left|remaining))?",
       negated=None),
    _r("untested", -3, r"untested|not\s*(?:been\s*)?tested|unable\s*to\s*test"),
    _r("tested", 2, r"(?:stress\s*-?\s*)?tested|benchmarked|3d\s*mark|time\s*spy|furmark|occt|"
       r"superposition", negated=("untested", -3)),
    _r("gaming only", 2, r"(?:used\s*(?:only\s*)?(?:for|in)\s*)?(?:light\s*|casual\s*)?gaming\s*only|"
       r"only\s*(?:been\s*)?used\s*for\s*gaming|(?:strictly|just|only)\s*(?:for\s*)?(?:light\s*|casual\s*)?gaming|"
       r"(?:light|casual)\s*gaming|used\s*(?:only\s*)?(?:to|for)\s*gam(?:e|ing)"),
    _r("non-smoking", 2, r"non\s*-?\s*smok(?:ing|er)|smoke\s*-?\s*free|no\s*smok(?:ing|ers?)|"
       r"pet\s*-?\s*free"),
    _r("new", 3, r"brand\s*-?\s*new|new\s*in\s*box|bnib|factory\s*sealed|sealed|unopened|nib"),
    _r("like new", 2, r"like\s*-?\s*new|mint|pristine|excellent\s*condition"),
    # -- bad
    _r("lightly mined", -5, r"(?:lightly|briefly)\s*mined|mined\s*(?:lightly|briefly|for\s*a\s*"
       r"(?:few|couple)\s*(?:weeks|months))|light\s*mining|undervolted\s*(?:for\s*)?mining"),
    _r("mined", -10, r"mined|mining|ex\s*-?\s*mining|crypto\s*farm|mining\s*rig", negated=("never mined", 3)),
    _r("artifacts", -12, r"artifact(?:s|ing)?|artefact(?:s|ing)?", negated=("no artifacts", 1)),
    _r("crashes", -8, r"crash(?:es|ing|ed)?|black\s*screens?|freez(?:es|ing)|blue\s*screens?|bsod",
       negated=("no crashes", 1)),
    _r("repaired", -8, r"repaired|reflow(?:ed)?|reball(?:ed)?|re\s*-?\s*worked|replaced\s*(?:the\s*)?"
       r"(?:vram|memory\s*chips?|gpu\s*core|capacitors?|mosfets?|power\s*stages?)"),
    _r("fan noise", -4, r"fan\s*(?:noise|rattle|rattles|rattling|clicks|clicking|grinding|is\s*loud|"
       r"wobble)|noisy\s*fans?|rattl(?:e|es|ing)|bearing\s*noise|fan\s*(?:not|doesn'?t)\s*spin",
       negated=("quiet fans", 1)),
    _r("coil whine", -2, r"coil\s*-?\s*whine|whines?", negated=("no coil whine", 1)),
    _r("shunt mod", -6, r"shunt\s*-?\s*mod(?:ded)?|shunted"),
    _r("bios flashed", -4, r"(?:cross\s*-?\s*)?flashed\s*(?:the\s*)?(?:v?bios)|"
       r"v?bios\s*(?:was\s*)?flash(?:ed)?|"
       r"(?:xoc|modded|custom|1000\s*w)\s*v?bios"),
    _r("no stock cooler", -8, r"(?:no|without(?:\s*the)?|missing(?:\s*the)?)\s*(?:stock|original|"
       r"air)\s*(?:cooler|heatsink|heat\s*sink)|(?:stock|original)\s*(?:cooler|heatsink)\s*(?:is\s*)?"
       r"(?:not\s*included|missing|lost)|water\s*-?\s*block\s*only|only\s*(?:with\s*)?(?:the\s*)?"
       r"water\s*-?\s*block"),
    _r("as is", -10, r"sold\s*as\s*-?\s*is|as\s*-?\s*is(?=\s*$|\s*[^\w\s])|"
       r"as\s*-?\s*is\s*(?:condition|no\s*returns)"),
    _r("broken", -15, r"broken(?!\s*(?:box|packaging|seal|in))|dead(?!\s*(?:space|island|by|rising|cells))|"
       r"not\s*working|doesn'?t\s*work|does\s*not\s*work|no\s*(?:display|signal|video\s*output)|"
       r"won'?t\s*(?:post|boot)|faulty|defective|for\s*parts", negated=None),
    _r("damaged", -5, r"damaged(?!\s*(?:box|packaging))|cracked\s*(?:pcb|board)|bent\s*(?:pins|pcb)|"
       r"missing\s*(?:fan|screws|backplate)"),
)
_TEMP = re.compile(
    r"(?<![a-z0-9])(?:mem(?:ory)?\s*(?:junction|jct|temps?|temperature)|vram|junction|"
    r"hot\s*spot\s*memory|gddr6x)\D{0,30}?(\d{2,3})\s*(?:°|º|deg(?:rees)?\.?)?\s*c(?![a-z0-9])")
_TEMP_GOOD, _TEMP_BAD = 90, 100
_RULE_INDEX = GateIndex([literal_gate(rule.pattern) for rule in RULES])


def assess_condition(text: str | None) -> ConditionResult:
    """Condition signals in ``text`` (title, description or marketplace condition, any case)."""
    t = normalize(text)
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
            name, weight = rule.name, rule.weight
            if weight < 0 and is_negated(t, m.start(), m.end()):
                if rule.negated is None:
                    continue
                name, weight = rule.negated
            elif weight > 0 and rule.negated is not None and is_negated(t, m.start(), m.end()):
                name, weight = rule.negated
            elif weight > 0 and rule.name in ("warranty", "original box", "receipt", "tested") \
                    and is_negated(t, m.start(), m.end(), window=2):
                continue
            if name in seen:
                continue
            seen.add(name)
            signals.append(ConditionSignal(name, weight, phrase))
    temp = max((int(m.group(1)) for m in _TEMP.finditer(t)), default=None)
    if temp is not None and 30 <= temp <= 130:
        if temp <= _TEMP_GOOD:
            signals.append(ConditionSignal("memory temperature ok", 2, f"{temp}°C"))
        elif temp >= _TEMP_BAD:
            signals.append(ConditionSignal("memory temperature high", -6, f"{temp}°C"))
    else:
        temp = None
    return ConditionResult(tuple(signals), temp)
