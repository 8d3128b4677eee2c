"""A small robots.txt reader after RFC 9309 (groups, Allow/Disallow, longest match, `*` and `$`).

What the RFC asks and what this module does:

* user-agent lines are matched case-insensitively against our product token (the part of the
  User-Agent before the first ``/``); several matching groups are merged; when none matches, the
  ``*`` groups apply; with neither, everything is allowed (section 2.2.1);
* the most specific rule (the longest pattern, in octets) wins; on a tie Allow wins; no matching
  rule means allowed; ``/robots.txt`` itself is always allowed (section 2.2.2);
* ``*`` matches any run of characters, a trailing ``$`` anchors the end; paths and patterns are
  compared after percent-encoding normalisation (section 2.2.3);
* lines that do not parse are skipped and the rest still apply (section 2.3.1.5); only the first
  500 KiB is read (section 2.5).

How the fetch result maps to rules (sections 2.3.1.3 and 2.3.1.4) is decided by the caller,
``gpuscout.scraper.fetch.client``: 4xx means allow all, 5xx or unreachable means disallow all.
``Crawl-delay`` is not part of the RFC but is read and honoured as a politeness floor when present.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

#: section 2.5: a parser must read at least 500 KiB; more than that is ignored
MAX_ROBOTS_BYTES = 500 * 1024

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_TOKEN = re.compile(r"[A-Za-z_-]+")


def product_token(user_agent: str) -> str:
    """``"gpuscout/0.1 (+https://...)"`` -> ``"gpuscout"`` (lower case), as robots.txt names it."""
    match = _TOKEN.match(user_agent.strip())
    return match.group(0).lower() if match else ""


def normalize_path(value: str) -> str:
    """Percent-encoding normal form: non-ASCII is UTF-8 encoded, escapes of unreserved characters
    are decoded, other escapes get upper-case hex. ``*`` and ``$`` pass through unchanged."""
    out: list[str] = []
    for char in value:
        if ord(char) > 0x7F or char in " \t":
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8"))
        else:
            out.append(char)
    encoded = "".join(out)

    def _fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else "%" + match.group(1).upper()

    return _PERCENT.sub(_fix, encoded)


@dataclass(frozen=True, slots=True)
class Rule:
    """One Allow or Disallow line, its pattern already normalised."""

    allow: bool
    pattern: str
    regex: re.Pattern[str] = field(compare=False, repr=False)

    @classmethod
    def build(cls, allow: bool, raw: str) -> Rule:
        pattern = normalize_path(raw)
        anchored = pattern.endswith("$")
        body = re.sub(r"\*+", "*", pattern[:-1] if anchored else pattern)
        regex = ".*".join(re.escape(part) for part in body.split("*"))
        return cls(allow, pattern, re.compile(regex + ("$" if anchored else ""), re.DOTALL))

    def matches(self, path: str) -> bool:
        return self.regex.match(path) is not None


@dataclass(frozen=True, slots=True)
class RobotsRules:
    """The rules that apply to one user agent on one origin."""

    rules: tuple[Rule, ...] = ()
    crawl_delay: float | None = None
    #: why these rules: "parsed", "unavailable" (4xx: allow all), "unreachable" (disallow all)
    origin: str = "parsed"

    @classmethod
    def allow_all(cls, origin: str = "unavailable") -> RobotsRules:
        return cls((), None, origin)

    @classmethod
    def disallow_all(cls, origin: str = "unreachable") -> RobotsRules:
        return cls((Rule.build(False, "/"),), None, origin)

    def is_allowed(self, url_or_path: str) -> bool:
        """True when the path (and query) of ``url_or_path`` may be fetched."""
        path = _path_of(url_or_path)
        if path == "/robots.txt":
            return True
        best: Rule | None = None
        for rule in self.rules:
            if not rule.matches(path):
                continue
            if (best is None or len(rule.pattern) > len(best.pattern)
                    or (len(rule.pattern) == len(best.pattern) and rule.allow)):
                best = rule
        return best is None or best.allow


def _path_of(url_or_path: str) -> str:
    parts = urlsplit(url_or_path)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return normalize_path(path)


@dataclass(slots=True)
class _Group:
    agents: list[str] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    crawl_delay: float | None = None


def _split_groups(text: str) -> list[_Group]:
    groups: list[_Group] = []
    current: _Group | None = None
    in_rules = False
    for raw_line in text.splitlines():
        line = raw_line.split("#", 1)[0].strip()
        key, sep, value = line.partition(":")
        if not sep:
            continue  # not a key: value line (section 2.3.1.5: skip it, keep going)
        key = key.strip().lower()
        value = value.strip()
        if key == "user-agent":
            if current is None or in_rules:
                current = _Group()
                groups.append(current)
                in_rules = False
            current.agents.append(value)
        elif key in ("allow", "disallow"):
            if current is None:
                continue  # a rule before any user-agent line belongs to no group
            in_rules = True
            if value:  # an empty rule has no effect
                current.rules.append(Rule.build(key == "allow", value))
        elif key == "crawl-delay":
            if current is None:
                continue
            in_rules = True
            try:
                delay = float(value)
            except ValueError:
                continue
            if delay >= 0:
                current.crawl_delay = delay
        # sitemap and unknown keys neither open nor close a group
    return groups


def _agent_matches(agent: str, token: str) -> bool:
    found = _TOKEN.match(agent)
    return found is not None and found.group(0).lower() == token


def parse_robots(body: bytes | str, user_agent: str) -> RobotsRules:
    """The rules of ``body`` (a robots.txt) that apply to ``user_agent`` (a full User-Agent or
    its product token)."""
    if isinstance(body, bytes):
        text = body[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace")
    else:
        text = body[:MAX_ROBOTS_BYTES]
    text = text.lstrip("\ufeff")
    token = product_token(user_agent)
    groups = _split_groups(text)
    chosen = [g for g in groups if token and any(_agent_matches(a, token) for a in g.agents)]
    if not chosen:
        chosen = [g for g in groups if any(a == "*" for a in g.agents)]
    rules = tuple(rule for group in chosen for rule in group.rules)
    delays = [g.crawl_delay for g in chosen if g.crawl_delay is not None]
    return RobotsRules(rules, max(delays) if delays else None, "parsed")
