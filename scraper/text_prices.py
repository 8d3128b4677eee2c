"""Reading asking prices out of a post's free text: Markdown lines, sold marks, the words that
qualify an amount (shipped, plus shipping, local, per item, best offer), and a line split into
the items it prices.

The Reddit parser (the price a post asks for its card) and the judge (every priced item line of a
multi-item post, any marketplace) read the same posts with these; each finds amounts its own way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import TypeVar

# --- Markdown ------------------------------------------------------------------------------

LINK = re.compile(r"\[([^\]\n]*)\]\((?:[^()\s]|\([^()\s]*\))*\)")
# NOTE: case-blind "(?:https?://|www\.)\S+" written first-letter-first: a pattern that starts
# with a plain (case-sensitive) character class lets the regex engine skip ahead to the next
# candidate in C, where a case-blind letter first has it try the whole pattern at every position.
URL = re.compile(r"[hHwW](?:(?<=[hH])(?i:ttps?://)|(?<=[wW])(?i:ww\.))\S+")
STRUCK = re.compile(r"~~(.*?)~~")
LINE_MARK = re.compile(r"^\s*(?:#+|>+|[-*+•]|\d{1,2}[.)])\s+")
TABLE_RULE = re.compile(r"^[\s|:\-]*-[\s|:\-]*$")
# NOTE: sellers mark sold lines "SOLD", "(sold)", "- sold", "sold to …", "sold pending" or strike
# them through (~~…~~); every form spells "sold" in some case.
SOLD = re.compile(r"\bSOLD\b|[(\[]\s*(?i:sold)\s*[)\]]|[-–]\s*(?i:sold)\b|(?i:\bsold\s*(?:to|pending))")


def unmark(line: str) -> str:
    """One Markdown line without its list or heading mark, a table row as its cells joined by
    " | "."""
    mark = LINE_MARK.match(line)
    line = (line[mark.end():] if mark else line).strip()
    if "|" in line:
        line = " | ".join(cell.strip() for cell in line.strip("|").split("|"))
    return line


# --- what qualifies an amount ---------------------------------------------------------------

SHIPPED = re.compile(
    r"\bshipped\b|\bshipping\s+included\b|\b(?:incl(?:uding|udes|\.)?|with|w/)\s*shipping\b"
    r"|\bfree\s+shipping\b|\bships?\s+free\b|\bdelivered\b", re.IGNORECASE)
PLUS_SHIP = re.compile(
    r"(?:\+|\bplus\b)\s*(?:\$?\d+(?:\.\d{1,2})?\s*)?(?:shipping|ship|s/h|s&h)\b"
    r"|\b(?:not\s+including|excluding|excl\.?|before|w/o|without)\s+shipping\b"
    r"|\bshipping\s+(?:not\s+included|extra|excluded|separate)", re.IGNORECASE)
LOCAL = re.compile(r"\blocal(?:ly)?\b|\bpick\s*-?\s*up\b|\bpicked\s+up\b|\bin\s+person\b|\bcash\b",
                   re.IGNORECASE)
# "each", "$700/ea", "650ea", "a piece", "per card": a price per item
EACH = re.compile(r"(?<![a-z])(?:each|ea|apiece|a\s*piece|per\s*(?:card|unit|gpu|piece|item|one))"
                  r"(?![a-z])|/\s*ea(?![a-z])", re.IGNORECASE)
# "each for $690", "ea: $650": the words before a per-item amount
EACH_BEFORE = re.compile(r"\b(?:each|ea)\s*(?:for|at|is|:)?\s*\$?$", re.IGNORECASE)
# NOTE: case-blind "\bobo\b|\bo\.b\.o\b|\bor\s+best\s+offer|\bopen\s+to\s+(?:\w+\s+)?offers\b",
# first-letter-first as URL is: the "o" taken first, the word boundary checked behind it, the
# rest case-blind. ("o", like the other letters written this way, has no case variant but "O".)
OBO = re.compile(r"[oO](?<!\w[oO])(?i:bo\b|\.b\.o\b|r\s+best\s+offer|pen\s+to\s+(?:\w+\s+)?offers\b)")
_SEPARATOR = re.compile(r"\s(?:or)\s|[/,;|]|\.\s|\n", re.IGNORECASE)
WINDOW = 40


def lead(before: str) -> str:
    """The words just before an amount that still belong to it (after the last separator)."""
    pieces = _SEPARATOR.split(before[-200:])
    return pieces[-1][-WINDOW:] if pieces else ""


def tail(after: str) -> str:
    """The words just after an amount that still belong to it (before the next separator)."""
    return _SEPARATOR.split(after[:200], maxsplit=1)[0][:WINDOW]


def kind(before: str, after: str) -> str:
    """What the words around an amount make of it: "plus" (shipping extra), "shipped", "local",
    or "" (not said). ``before`` and ``after`` are its ``lead`` and ``tail``."""
    if PLUS_SHIP.search(after):
        return "plus"
    if SHIPPED.search(after):
        return "shipped"
    if LOCAL.search(after):
        return "local"
    if SHIPPED.search(before) and not PLUS_SHIP.search(before):
        return "shipped"
    if LOCAL.search(before):
        return "local"
    return ""


# --- one line, several items ----------------------------------------------------------------

_FILLER_WORDS = """
a an the and or of to for is it its it's i i'm im am my me we you are be will would can do
asking ask price prices priced looking look get sell selling sale want go let now just also
shipped shipping ship ships included include includes including incl free conus usa us lower
states continental local locally cash pickup pick picked up in person only obo best offer
offers firm each ea per plus with at via paypal pp g&s gs f&f ff venmo zelle goods services
fee fees zip area near both please pm dm comment new if then usd cad eur dollars bucks
"""
#: words that name no item: price, shipping, payment, offer and currency words
FILLER = frozenset(_FILLER_WORDS.split())
# A place after a local price ("local to 95014", "pickup in Toronto"): no item of its own.
_PLACE = re.compile(r"\b(?:local(?:ly)?|pick\s*-?\s*up|cash)\s*(?:only\s*)?(?:in|to|near|around|at"
                    r"|from)\s+(?:\d{5}|[A-Za-z]+(?:\s+[A-Za-z]+)?)|\b\d{5}\b", re.IGNORECASE)
_OR_END = re.compile(r"(?:\bor|/)\s*\$?\s*$", re.IGNORECASE)


@dataclass(slots=True)
class Amount:
    """An amount stated in a line at [start, end)."""

    start: int
    end: int
    value: Decimal


A = TypeVar("A", bound=Amount)


def split_runs(line: str, found: Sequence[A],
               names_item: Callable[[str], bool]) -> list[tuple[int, int, list[A]]]:
    """One line may price several items ("3090 FE $700, 3080 $500"): the runs of ``found``
    (non-empty, in order) that each price one item, with the span of the line each run covers.
    A new run starts where words ``names_item`` accepts stand between two amounts; qualifier
    words ("local or") keep amounts together."""
    runs: list[list[A]] = [[found[0]]]
    for previous, amount in pairwise(found):
        between = _PLACE.sub(" ", line[previous.end:amount.start])
        # NOTE: "$950 local in Toronto or $990 shipped": "or" offers the same item another way
        if names_item(between) and not _OR_END.search(between):
            runs.append([amount])
        else:
            runs[-1].append(amount)
    out = []
    for number, run in enumerate(runs):
        start = 0 if number == 0 else runs[number - 1][-1].end
        end = len(line) if number == len(runs) - 1 else run[-1].end
        out.append((start, end, run))
    return out
