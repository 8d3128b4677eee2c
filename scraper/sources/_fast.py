"""Cheaper equivalents of two calls the HTML parsers make once per card: ``urljoin`` for links
that are already absolute, and several ``css_first`` lookups in one walk of a card's subtree.

Both answer exactly what the call they replace answers; where that cannot be told cheaply
(unusual markup or URLs), they say so and the caller makes the original call.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborNode

# NOTE: urljoin returns an absolute http(s) link unchanged (or re-assembled from its own parts,
# which gives it back as it was) unless it holds something urlsplit rewrites or rejects: tabs
# and newlines, an empty "?" or "#", a ";" in the path (an empty parameter is dropped),
# brackets in the host (IPv6), non-ASCII (host checks), or no host (the base's host is used).
_PLAIN_ABSOLUTE = re.compile(
    r"https?://[^/?#\[\]\t\n\r]+(?:/[^?#;\t\n\r]*)?(?:\?[^#\t\n\r]+)?(?:#[^\t\n\r]+)?\Z")


class Joiner:
    """``urljoin(base, href)`` for many links on one page."""

    __slots__ = ("_base_ok", "base")

    def __init__(self, base: str) -> None:
        self.base = base
        try:
            urlsplit(base)
        except ValueError:
            # NOTE: urljoin raises on such a base; every link then goes through it.
            self._base_ok = False
        else:
            self._base_ok = bool(base)

    def join(self, href: str) -> str:
        if self._base_ok and href.isascii() and _PLAIN_ABSOLUTE.match(href):
            return href
        return urljoin(self.base, href)


# NOTE: CSS matches class names split at ASCII whitespace, case-blind in quirks mode; Python's
# split() also splits at other whitespace. Class values outside printable ASCII plus those five
# spaces are left to the selector engine.
_ODD_CLASS = re.compile(r"[^\x21-\x7e \t\n\r\f]")
_LINK = "a[href]"


def first_nodes(root: LexborNode, classes: tuple[str, ...]) -> dict[str, LexborNode] | None:
    """The first node (``root`` included, in document order) with each class name in
    ``classes`` (keyed by that name) and the first ``<a href>`` (key "a[href]"), as
    ``css_first`` finds them; None when the markup leaves a match in doubt (odd class values,
    a class name matching only case-blind, an ``href`` in a namespace), for the caller to
    query instead.

    ``classes`` must be lower-case ASCII names.
    """
    found: dict[str, LexborNode] = {}
    wanted = len(classes) + 1
    for node in root.traverse():
        attrs = node.attributes
        if not attrs:
            continue
        value = attrs.get("class")
        if value:
            if not (value.isascii() and value.isprintable()) and _ODD_CLASS.search(value):
                return None
            for token in value.split():
                if token in classes:
                    if token not in found:
                        found[token] = node
                elif not token.islower() and token.lower() in classes:
                    return None
        if node.tag == "a" and _LINK not in found:
            if "href" in attrs:
                found[_LINK] = node
            elif any(name.endswith(":href") for name in attrs):
                return None
        if len(found) == wanted:
            break
    return found
