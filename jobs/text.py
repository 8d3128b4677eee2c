"""Text from marketplaces made safe to show: one line for headers and tables, a terminal without
escape sequences, CSV cells that a spreadsheet will not run as formulas.

Listing titles, sellers, descriptions and locations are hostile input. ``ESC`` and the other
control characters (which carry colour changes, screen clears and OSC 8 links), and bidirectional
overrides (which disguise text), are removed wherever text is printed.
"""

from __future__ import annotations

import re
import unicodedata

#: bidirectional overrides and isolates can disguise text; remove them with the control characters
BIDI = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: an escape sequence as a whole (CSI, OSC up to BEL or ST, or ESC and one character), so that
#: its parameters do not remain as visible garbage once ESC is gone
_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])"
                     r"|\x9b[0-?]*[ -/]*[@-~]|\x9d[^\x07\x9c]*[\x07\x9c]?")
#: what a spreadsheet may read as the start of a formula (OWASP's list)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _visible(text: str, *, keep_newlines: bool) -> str:
    text = _ESCAPE.sub("", text)
    out: list[str] = []
    for ch in text:
        if ch == "\n" and keep_newlines:
            out.append(ch)
        elif ch.isspace():
            out.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cs") or ch in BIDI:
            continue
        else:
            out.append(ch)
    return "".join(out)


def clean_text(value: object, limit: int = 120) -> str:
    """One safe line: escapes and control and bidi characters dropped, every run of whitespace
    (CR, LF, tabs, U+2028 ...) one space, ``=?`` broken so no RFC 2047 encoded word can be
    smuggled into a header, cut at ``limit`` characters with an ellipsis."""
    text = "" if value is None else str(value)
    text = " ".join(_visible(text, keep_newlines=False).split())
    # NOTE: Python's header parser decodes "=?charset?q?...?=" found in a value and may write the
    # decoded text (line breaks included) back out; a space keeps such text literal.
    text = text.replace("=?", "= ?")
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def terminal_text(value: object) -> str:
    """Text for a terminal or a log: line breaks kept, escapes and control characters removed."""
    return _visible("" if value is None else str(value), keep_newlines=True)


def csv_cell(value: str) -> str:
    """A CSV cell a spreadsheet shows as text: a leading ``=``, ``+``, ``-``, ``@``, tab or CR
    gets a ``'`` in front (numbers are written as numbers and never come here)."""
    value = terminal_text(value)
    risky = value.startswith(_FORMULA_START) or value.lstrip().startswith(_FORMULA_START)
    return "'" + value if risky else value
