"""Reading asking prices out of a post's free text: Markdown lines and sold marks.

The Reddit parser (the price a post asks for its card) and the judge (every priced item line of a
multi-item post, any marketplace) read the same posts with these; each finds amounts its own way.
"""

from __future__ import annotations

import re

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
