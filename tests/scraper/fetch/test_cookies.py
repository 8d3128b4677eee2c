"""Cookie files: Netscape cookies.txt and JSON browser exports, and clear errors for bad files."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import httpx
import pytest

from gpuscout.scraper.errors import ScrapeError
from gpuscout.scraper.fetch.client import FetchSettings, make_client
from gpuscout.scraper.fetch.cookies import CookieFileError, load_cookies

NETSCAPE = (
    "# Netscape HTTP Cookie File\n"
    "# This is a generated file! Do not edit.\n"
    "\n"
    ".ebay.com\tTRUE\t/\tTRUE\t4102444800\tnonsession\tBAQAAAYx\n"
    "#HttpOnly_www.facebook.com\tFALSE\t/\tTRUE\t0\txs\t12%3Aabc\n"
    "old.reddit.com\tFALSE\t/r/\tFALSE\t4102444800\treddit_session\t\n"
)


def test_netscape_file(tmp_path: Path) -> None:
    path = tmp_path / "cookies.txt"
    path.write_text(NETSCAPE)
    cookies = load_cookies(path, now=lambda: 1_700_000_000.0)
    found = {c.name: c for c in cookies.jar}
    assert set(found) == {"nonsession", "xs", "reddit_session"}
    ebay = found["nonsession"]
    assert (ebay.domain, ebay.path, ebay.secure) == (".ebay.com", "/", True)
    assert ebay.expires == 4102444800
    assert ebay.value == "BAQAAAYx"
    fb = found["xs"]
    assert fb.domain == "www.facebook.com" and fb.expires is None
    assert fb.has_nonstandard_attr("HttpOnly")
    assert fb.value == "12%3Aabc"
    reddit = found["reddit_session"]
    assert (reddit.domain, reddit.path, reddit.value, reddit.secure) == (
        "old.reddit.com", "/r/", "", False)


def test_json_export_list(tmp_path: Path) -> None:
    path = tmp_path / "cookies.json"
    path.write_text(json.dumps([
        {"domain": ".reddit.com", "expirationDate": 4102444800.5, "hostOnly": False,
         "httpOnly": True, "name": "token_v2", "path": "/", "sameSite": "no_restriction",
         "secure": True, "session": False, "storeId": "0", "value": "eyJhbGci"},
        {"domain": "www.ebay.com", "hostOnly": True, "name": "s", "path": "/", "secure": False,
         "session": True, "value": "CgAD4ACBl"},
        {"domain": "craigslist.org", "hostOnly": False, "name": "cl_b", "value": 4},
    ]))
    found = {c.name: c for c in load_cookies(path).jar}
    assert found["token_v2"].domain == ".reddit.com"
    assert found["token_v2"].expires == 4102444800
    assert found["token_v2"].secure is True
    assert found["s"].domain == "www.ebay.com" and found["s"].expires is None
    assert found["cl_b"].domain == ".craigslist.org" and found["cl_b"].value == "4"
    assert found["cl_b"].path == "/"


def test_json_storage_state(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"cookies": [
        {"name": "c_user", "value": "1000", "domain": ".facebook.com", "path": "/",
         "expires": -1, "httpOnly": False, "secure": True, "sameSite": "None"},
    ], "origins": []}))
    (cookie,) = list(load_cookies(path).jar)
    assert (cookie.name, cookie.value, cookie.domain, cookie.expires) == (
        "c_user", "1000", ".facebook.com", None)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("# Netscape HTTP Cookie File\n", "holds no cookies"),
        (".ebay.com\tTRUE\t/\n", "line 1: expected 7 tab-separated fields"),
        (".ebay.com\tYES\t/\tTRUE\t0\tn\tv\n", "line 1: include-subdomains must be TRUE or FALSE"),
        (".ebay.com\tTRUE\t/\tTRUE\tnever\tn\tv\n", "line 1: expiry must be a Unix time"),
        ("[{\"name\": \"a\", \"value\": \"b\"}]", "entry 0 (a) has no \"domain\""),
        ("[{\"value\": \"b\", \"domain\": \"x.org\"}]", "entry 0 has no \"name\""),
        ("[\"a=b\"]", "entry 0 is not an object"),
        ("{\"name\": \"a\"}", "expected a JSON list of cookies"),
        ("[{\"name\": ", "not valid JSON"),
    ],
)
def test_bad_files_raise_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(content)
    with pytest.raises(CookieFileError, match=re.escape(message)) as info:
        load_cookies(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ScrapeError)
    assert not isinstance(info.value, ValueError)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CookieFileError, match="does not exist"):
        load_cookies(tmp_path / "nope.txt")


def test_all_expired_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "cookies.txt"
    path.write_text(".ebay.com\tTRUE\t/\tTRUE\t1000\tn\tv\n")
    with caplog.at_level(logging.WARNING, logger="gpuscout.fetch"):
        load_cookies(path, now=lambda: 2000.0)
    assert "every cookie in" in caplog.text and "has expired" in caplog.text


async def _echo_cookie_header(settings: FetchSettings, url: str) -> str:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie", ""))
        return httpx.Response(200, text="ok")

    async with make_client(settings, transport=httpx.MockTransport(handler)) as client:
        await client.get(url)
    return seen[0]


@pytest.mark.anyio
async def test_client_sends_file_cookies_by_domain_path_and_scheme(tmp_path: Path) -> None:
    path = tmp_path / "cookies.txt"
    path.write_text(NETSCAPE.replace("reddit_session\t\n", "reddit_session\tabc\n"))
    settings = FetchSettings(cookies_file=path)
    assert await _echo_cookie_header(settings, "https://www.ebay.com/sch/i.html") == (
        "nonsession=BAQAAAYx")
    # a secure cookie is not sent over plain http
    assert await _echo_cookie_header(settings, "http://www.ebay.com/sch/i.html") == ""
    assert await _echo_cookie_header(settings, "https://old.reddit.com/r/hardwareswap/") == (
        "reddit_session=abc")
    assert await _echo_cookie_header(settings, "https://old.reddit.com/user/x") == ""

