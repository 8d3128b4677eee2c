"""Load a browser cookie export (Netscape cookies.txt or a JSON list) into httpx cookies.

Two formats are read, chosen by the first non-blank character of the file:

* Netscape ``cookies.txt`` (curl, wget, yt-dlp, "Get cookies.txt" extensions): one cookie per line,
  seven tab-separated fields ``domain  include-subdomains  path  secure  expires  name  value``;
  ``#`` lines are comments except the ``#HttpOnly_`` prefix, which marks an HttpOnly cookie;
* JSON: a list of objects with ``name``, ``value``, ``domain`` and optionally ``path``,
  ``secure``, ``hostOnly``, ``expirationDate`` (Cookie-Editor, EditThisCookie) or ``expires``
  (-1: the cookie ends with the browser), or an object holding such a list under ``"cookies"``
  (a browser automation storage state).

A file that cannot be read raises CookieFileError naming the file and the line or entry at fault.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from http.cookiejar import Cookie, CookieJar
from pathlib import Path

import httpx

from gpuscout.scraper.errors import ScrapeError

log = logging.getLogger("gpuscout.fetch")


class CookieFileError(ScrapeError):
    """A cookie file is missing, unreadable or not in a format we know."""


def _make_cookie(
    *, name: str, value: str, domain: str, path: str, secure: bool,
    expires: int | None, include_subdomains: bool, http_only: bool,
) -> Cookie:
    domain = domain.strip().lower()
    if include_subdomains and not domain.startswith("."):
        domain = "." + domain
    # NOTE: http.cookiejar marks HttpOnly by the presence of the key; its value is unused
    rest: dict[str, str] = {"HttpOnly": ""} if http_only else {}
    return Cookie(
        version=0, name=name, value=value, port=None, port_specified=False,
        domain=domain, domain_specified=include_subdomains,
        domain_initial_dot=domain.startswith("."),
        path=path or "/", path_specified=True, secure=secure, expires=expires,
        discard=expires is None, comment=None, comment_url=None, rest=rest,
    )


def _flag(value: str, *, path: Path, lineno: int, field: str) -> bool:
    upper = value.strip().upper()
    if upper in ("TRUE", "FALSE"):
        return upper == "TRUE"
    raise CookieFileError(f"{path}: line {lineno}: {field} must be TRUE or FALSE, not {value!r}")


def parse_netscape(text: str, path: Path) -> list[Cookie]:
    """Cookies from the text of a Netscape cookies.txt file."""
    cookies: list[Cookie] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r\n")
        http_only = False
        if line.startswith("#HttpOnly_"):
            http_only = True
            line = line[len("#HttpOnly_"):]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) == 1:
            fields = line.split(None, 6)  # NOTE: some hand-edited files use spaces, not tabs
        if len(fields) == 6:
            fields.append("")  # a cookie with an empty value loses its trailing tab
        if len(fields) != 7:
            raise CookieFileError(
                f"{path}: line {lineno}: expected 7 tab-separated fields "
                f"(domain, subdomains, path, secure, expires, name, value), found {len(fields)}")
        domain, subdomains, cookie_path, secure, expires, name, value = fields
        if not domain.strip() or not name:
            raise CookieFileError(f"{path}: line {lineno}: a cookie needs a domain and a name")
        try:
            expiry = int(float(expires)) if expires.strip() else 0
        except ValueError:
            raise CookieFileError(
                f"{path}: line {lineno}: expiry must be a Unix time, not {expires!r}") from None
        cookies.append(_make_cookie(
            name=name, value=value, domain=domain, path=cookie_path,
            secure=_flag(secure, path=path, lineno=lineno, field="secure"),
            expires=expiry or None,
            include_subdomains=_flag(subdomains, path=path, lineno=lineno,
                                     field="include-subdomains"),
            http_only=http_only,
        ))
    return cookies


def _json_expiry(entry: Mapping[str, object]) -> int | None:
    if entry.get("session") is True:
        return None
    for key in ("expirationDate", "expires", "expiry"):
        value = entry.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return int(value)
    return None


def parse_json(text: str, path: Path) -> list[Cookie]:
    """Cookies from a JSON export: a list of cookie objects or {"cookies": [...]}."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CookieFileError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    if isinstance(data, dict) and isinstance(data.get("cookies"), list):
        data = data["cookies"]
    if not isinstance(data, list):
        raise CookieFileError(
            f"{path}: expected a JSON list of cookies (or {{\"cookies\": [...]}})")
    cookies: list[Cookie] = []
    for index, entry in enumerate(data):
        if not isinstance(entry, dict):
            raise CookieFileError(f"{path}: entry {index} is not an object")
        name, value, domain = entry.get("name"), entry.get("value"), entry.get("domain")
        if not isinstance(name, str) or not name:
            raise CookieFileError(f"{path}: entry {index} has no \"name\"")
        if not isinstance(domain, str) or not domain.strip():
            raise CookieFileError(f"{path}: entry {index} ({name}) has no \"domain\"")
        if value is None or isinstance(value, dict | list):
            raise CookieFileError(f"{path}: entry {index} ({name}) has no string \"value\"")
        cookie_path = entry.get("path")
        host_only = entry.get("hostOnly")
        cookies.append(_make_cookie(
            name=name, value=str(value), domain=domain,
            path=cookie_path if isinstance(cookie_path, str) else "/",
            secure=entry.get("secure") is True,
            expires=_json_expiry(entry),
            # NOTE: exports without hostOnly mark domain cookies by a leading dot only
            include_subdomains=(host_only is False) or domain.startswith("."),
            http_only=entry.get("httpOnly") is True,
        ))
    return cookies


def load_cookies(path: str | Path, *, now: Callable[[], float] = time.time) -> httpx.Cookies:
    """The cookies in ``path`` (Netscape or JSON, detected from the content), ready for httpx."""
    file = Path(path).expanduser()
    try:
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CookieFileError(f"cookie file {file} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CookieFileError(f"cookie file {file} cannot be read: {exc}") from exc
    stripped = text.lstrip()
    if not stripped:
        raise CookieFileError(f"cookie file {file} is empty")
    found = parse_json(text, file) if stripped[0] in "[{" else parse_netscape(text, file)
    if not found:
        raise CookieFileError(f"cookie file {file} holds no cookies")
    jar = CookieJar()
    for cookie in found:
        jar.set_cookie(cookie)
    current = now()
    live = [c for c in found if c.expires is None or c.expires > current]
    if not live:
        log.warning("every cookie in %s has expired; export them again from the browser", file)
    log.debug("loaded %d cookies (%d live) from %s", len(found), len(live), file)
    return httpx.Cookies(jar)
