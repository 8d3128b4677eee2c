"""Recognising pages of marketplaces gpuscout does not read, so errors can name them."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

#: host suffix -> marketplace name, checked against the URL and the page's canonical/og:url
_HOSTS: tuple[tuple[str, str], ...] = (
    ("kijiji.ca", "Kijiji"),
    ("kleinanzeigen.de", "Kleinanzeigen"),
    ("offerup.com", "OfferUp"),
    ("mercari.com", "Mercari"),
    ("gumtree.com", "Gumtree"),
    ("gumtree.com.au", "Gumtree"),
    ("marktplaats.nl", "Marktplaats"),
    ("leboncoin.fr", "leboncoin"),
    ("vinted.com", "Vinted"),
    ("wallapop.com", "Wallapop"),
    ("swappa.com", "Swappa"),
)
_PAGE_URL = re.compile(
    rb'<(?:link[^>]+rel="canonical"[^>]+href|meta[^>]+property="og:url"[^>]+content)="([^"]{1,500})"',
    re.IGNORECASE)
# NOTE: Kijiji's search page is a Next.js page; its Apollo cache names Kijiji's media host and
# its own "kijijica" image rules. Kleinanzeigen's results are article.aditem cards.
_KIJIJI = (b"media.kijiji.ca", b"kijijica-", b"www.kijiji.ca")
_KLEINANZEIGEN_TITLE = re.compile(rb"<title>[^<]{0,300}kleinanzeigen")
_SCAN = 400_000


def identify_unsupported(body: bytes, url: str | None) -> str | None:
    """The name of the unsupported marketplace ``body`` (or ``url``) belongs to, else None."""
    named = _by_url(url)
    if named:
        return named
    head = body[:_SCAN] if isinstance(body, bytes) else b""
    lowered = head.lower()
    if any(marker in lowered for marker in _KIJIJI):
        return "Kijiji"
    if b"kleinanzeigen.de" in lowered and (
            b'class="aditem' in lowered or _KLEINANZEIGEN_TITLE.search(lowered)):
        return "Kleinanzeigen"
    for match in _PAGE_URL.finditer(head):
        named = _by_url(match.group(1).decode("ascii", errors="replace"))
        if named:
            return named
    return None


def _by_url(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return None
    for suffix, name in _HOSTS:
        if host == suffix or host.endswith("." + suffix):
            return name
    return None
