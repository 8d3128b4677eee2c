"""Streaming decompression: every encoding httpx would decode, stacked layers, and bombs refused
after at most the cap of inflated bytes, with bounded memory."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gpuscout.jobs.testing.localmarket import LocalMarket, gzip_bomb
from gpuscout.scraper.errors import FetchError, ResponseTooLarge
from gpuscout.scraper.fetch.client import Fetcher, FetchSettings
from gpuscout.scraper.fetch.decode import PIECE, BodyDecoder, CorruptBody
from tests.support.fake_time import FakeTime

#: about three pieces of text
TEXT = b"<html>" + b"RTX 3090 Founders Edition $700 " * 6_000 + b"</html>"
GIB = 1 << 30
MIB = 1 << 20


def deflate(data: bytes, *, raw: bool = False) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


def decode_all(encoding: str, body: bytes, step: int | None = None) -> bytes:
    decoder = BodyDecoder(encoding)
    step = step or len(body) or 1
    pieces = [p for i in range(0, len(body), step) for p in decoder.feed(body[i:i + step])]
    pieces += list(decoder.finish())
    assert all(len(p) <= PIECE for p in pieces)
    assert decoder.produced == sum(map(len, pieces))
    return b"".join(pieces)


@pytest.mark.parametrize(("encoding", "encode"), [
    ("", lambda b: b),
    ("identity", lambda b: b),
    ("gzip", gzip.compress),
    ("x-gzip", gzip.compress),
    ("deflate", deflate),
    ("deflate", lambda b: deflate(b, raw=True)),  # servers send raw deflate under the same name
    ("gzip, gzip", lambda b: gzip.compress(gzip.compress(b))),
    ("deflate, gzip", lambda b: gzip.compress(deflate(b))),
    ("GZIP , identity", gzip.compress),
])
@pytest.mark.parametrize("step", [None, 3, 777])
def test_bodies_decode_whole_in_bounded_pieces(encoding: str, encode: object, step: int | None) -> None:
    assert callable(encode)
    body = encode(TEXT)
    assert decode_all(encoding, body, step) == TEXT


@pytest.mark.parametrize("raw", [False, True])
def test_deflate_fed_a_byte_at_a_time_tells_its_kind_from_two_bytes(raw: bool) -> None:
    assert decode_all("deflate", deflate(b"RTX 3090 " * 50, raw=raw), 1) == b"RTX 3090 " * 50
    assert decode_all("deflate", deflate(b"", raw=raw), 1) == b""


def test_gzip_members_one_after_the_other_are_all_read() -> None:
    body = gzip.compress(b"first member, ") + gzip.compress(b"second member")
    assert decode_all("gzip", body, 5) == b"first member, second member"


def test_bytes_after_the_gzip_stream_are_ignored() -> None:
    assert decode_all("gzip", gzip.compress(b"page") + b"\r\n") == b"page"


def test_unknown_encodings_and_too_many_layers_are_refused() -> None:
    with pytest.raises(FetchError, match="Content-Encoding 'br'"):
        BodyDecoder("br", "https://example.org/")
    with pytest.raises(FetchError, match="4 layers of Content-Encoding"):
        BodyDecoder("gzip, gzip, gzip, gzip", "https://example.org/")


def test_a_corrupt_body_is_a_fetch_error() -> None:
    decoder = BodyDecoder("gzip", "https://example.org/")
    with pytest.raises(CorruptBody, match="corrupt compressed body") as caught:
        list(decoder.feed(b"\x1f\x8b\x08\x00this is not deflate data"))
    assert isinstance(caught.value, FetchError) and isinstance(caught.value.__cause__, zlib.error)


@pytest.mark.parametrize("encoding", ["gzip, gzip", "deflate, gzip"])
def test_a_bomb_inflates_only_as_far_as_it_is_read(encoding: str) -> None:
    """A few kilobytes that inflate to 2 GiB: reading three pieces makes three pieces, and the
    whole stacked stream never sits in memory at once."""
    if encoding == "gzip, gzip":
        bomb = gzip_bomb(2 * GIB)
    else:
        inner = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS)
        unit = inner.compress(bytes(MIB)) + inner.flush(zlib.Z_FULL_FLUSH)
        bomb = gzip.compress(unit * 2048 + inner.flush(), compresslevel=9)
    assert len(bomb) < 16 * 1024
    decoder = BodyDecoder(encoding)
    tracemalloc.start()
    try:
        pieces: Iterator[bytes] = decoder.feed(bomb)
        taken = [next(pieces) for _ in range(3)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [len(p) for p in taken] == [PIECE] * 3 and decoder.produced == 3 * PIECE
    assert peak < 2 * MIB, peak


# -- through the Fetcher, on a real socket ---------------------------------------------------------


def _rss_peak_reset() -> bool:
    """Reset this process's peak RSS (Linux); False where that cannot be done."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(field)


@pytest.mark.anyio
async def test_a_gzip_gzip_bomb_is_refused_at_the_cap_with_bounded_memory() -> None:
    """The attack: 5 KB with ``Content-Encoding: gzip, gzip`` that inflate to 2 GiB. The Fetcher
    refuses it once 1 MiB has been inflated; memory grows by little more than that cap."""
    bomb = gzip_bomb(2 * GIB)
    time = FakeTime()
    settings = FetchSettings(obey_robots=False, min_interval=0, jitter=0, timeout=5,
                             max_retries=0, max_bytes=MIB)
    with LocalMarket() as market:
        market.add("/bomb", fault="gzip_bomb", size=2 * GIB)
        async with Fetcher(settings, transport=httpx.AsyncHTTPTransport(), clock=time.clock,
                           sleep=time.sleep) as fetcher:
            rss_checked = _rss_peak_reset()
            rss_before = _status_kib("VmRSS") if rss_checked else 0
            tracemalloc.start()
            try:
                with pytest.raises(ResponseTooLarge, match="more than the 1048576-byte cap"):
                    await fetcher.get(f"{market.url}/bomb")
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            rss_growth = (_status_kib("VmHWM") - rss_before) * 1024 if rss_checked else 0
    assert len(bomb) < 8 * 1024
    # the cap (1 MiB) plus one piece per layer, the compressed body and httpx's own buffers
    assert peak < 4 * MIB, peak
    assert rss_growth < 64 * MIB, rss_growth
