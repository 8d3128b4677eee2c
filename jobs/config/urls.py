"""URLs and paths in the configuration: base URLs, proxies and database URLs checked, relative
paths anchored at the configuration file's folder, passwords masked wherever a URL is shown."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from gpuscout.jobs.errors import ConfigError

_DB_URL = re.compile(r"^(sqlite|postgres(ql)?)(\+\w+)?://")


def check_base_url(key: str, url: str) -> None:
    """An http(s) URL with a host, and at most a path after it (``{site}`` may stand for a region)."""
    where = _url_parts(key, url.replace("{site}", "site"), ("http", "https"), "http:// or https://")
    if where.query or where.fragment:
        raise ConfigError(f"{key} = {url!r}: must be scheme://host[:port][/path], without ? or #")


def check_proxy(key: str, url: str) -> None:
    """A proxy URL httpx can use: http(s)://[user:password@]host[:port], or socks5 with socksio."""
    where = _url_parts(key, url, ("http", "https", "socks5", "socks5h"),
                       "http://, https://, socks5:// or socks5h://")
    if where.path not in ("", "/") or where.query or where.fragment:
        raise ConfigError(f"{key} = {mask_url(url)!r}: must be scheme://[user:password@]host[:port] "
                          "(no path)")
    if where.scheme.startswith("socks"):
        from importlib.util import find_spec

        if find_spec("socksio") is None:
            raise ConfigError(f"{key} = {mask_url(url)!r}: a SOCKS proxy needs the socksio package "
                              "(pip install 'httpx[socks]')")


_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")


def is_host(host: str) -> bool:
    """A host name or an IP address (IPv6 without its brackets)."""
    if _HOST.match(host):
        return True
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _url_parts(key: str, url: str, schemes: tuple[str, ...], allowed: str) -> Any:
    """``url`` split, or ConfigError naming ``key``: a known scheme, a host that is a host name or
    an address, a numeric port, no whitespace or control characters anywhere."""
    from urllib.parse import urlsplit

    shown = mask_url(url)
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise ConfigError(f"{key} = {shown!r}: must not contain spaces or control characters")
    try:
        where = urlsplit(url)
        port = where.port
    except ValueError as exc:
        raise ConfigError(f"{key} = {shown!r}: not a valid URL ({exc})") from None
    if where.scheme.lower() not in schemes or not url.lower().startswith(where.scheme.lower() + "://"):
        raise ConfigError(f"{key} = {shown!r}: must start with {allowed}")
    if not is_host(where.hostname or ""):
        raise ConfigError(f"{key} = {shown!r}: must name a host, as in {where.scheme}://example.com"
                          + (":8080" if port is None and key.endswith("proxy") else ""))
    if port == 0:
        raise ConfigError(f"{key} = {shown!r}: port 0 cannot be connected to")
    return where




def anchor_path(value: str, folder: Path | None) -> str:
    """``value`` with ``~`` expanded, relative to ``folder`` when it is relative and a folder is
    known (the config file's); else unchanged."""
    path = Path(value).expanduser()
    if folder is None or path.is_absolute():
        return str(path)
    return str(folder / path)


def anchor_sqlite(url: str, folder: Path | None) -> str:
    """A relative ``sqlite:///file`` URL anchored at ``folder`` (the config file's folder), so
    that the same file is used whatever the current folder is."""
    for prefix in ("sqlite:///", "sqlite+pysqlite:///"):
        if url.startswith(prefix):
            rest, sep, query = url[len(prefix):].partition("?")
            if not rest or rest == ":memory:" or rest.startswith("file:"):
                return url
            return prefix + anchor_path(rest, folder) + sep + query
    return url


def check_db_url(key: str, url: str) -> None:
    if not _DB_URL.match(url):
        raise ConfigError(f"{key} = {mask_url(url)!r}: must be a sqlite:/// or postgresql:// URL")
    if url.startswith("postgres"):
        from urllib.parse import urlsplit

        try:
            urlsplit(url).port  # noqa: B018 - reading it checks it
        except ValueError as exc:
            raise ConfigError(f"{key} = {mask_url(url)!r}: not a valid URL ({exc})") from None




_AUTHORITY = re.compile(r"^([A-Za-z][\w+.-]*://)([^/?#]*)@")
_SECRET_PARAM = re.compile(r"([?&;](?:password|passwd|pwd|pass|sslpassword|secret|token|api_?key)=)"
                           r"[^&;#]*", re.IGNORECASE)


def mask_url(url: str) -> str:
    """``url`` with any password (in the user part, however many ``@`` it holds, or in a query
    parameter such as ``?password=``) replaced by ****."""
    def user_part(m: re.Match[str]) -> str:
        user, sep, _ = m.group(2).partition(":")
        return f"{m.group(1)}{user}{':****' if sep else ''}@"

    return _SECRET_PARAM.sub(r"\1****", _AUTHORITY.sub(user_part, url, count=1))
