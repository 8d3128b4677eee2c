"""Streaming decompression of HTTP bodies, so the size cap counts inflated bytes as they appear.

httpx inflates each network chunk in one call, and a stacked ``Content-Encoding: gzip, gzip``
multiplies the ratios: a few kilobytes can become gigabytes inside a single call, long before a
cap checked between chunks could refuse them. Here every layer inflates at most ``PIECE`` bytes
per call (``zlib``'s ``max_length``) and hands them to the next layer at once, so no layer ever
holds more than one piece and the caller sees (and can refuse) every piece as it is produced.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from gpuscout.scraper.errors import FetchError

#: the most one layer produces per call
PIECE = 64 * 1024
#: layers of Content-Encoding accepted on one body; more is an attack, not a server
MAX_LAYERS = 3
_GZIP = ("gzip", "x-gzip")


class CorruptBody(FetchError):
    """A compressed body that does not inflate (wraps ``zlib.error``)."""


class _Inflater:
    """One gzip or deflate layer. "deflate" is read as zlib-wrapped when its first two bytes are
    a zlib header, else as raw deflate, as browsers do: servers send both under the one name."""

    def __init__(self, encoding: str) -> None:
        self.gzip = encoding in _GZIP
        self._obj: zlib._Decompress | None = self._new(gzip=True) if self.gzip else None
        self._head = b""

    @staticmethod
    def _new(*, gzip: bool = False, raw: bool = False) -> zlib._Decompress:
        if gzip:
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        return zlib.decompressobj(-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)

    def _start(self, data: bytes) -> tuple[zlib._Decompress | None, bytes]:
        """The deflate decompressor, once two bytes tell which kind (None until then)."""
        self._head += data
        if len(self._head) < 2:
            return None, b""
        cmf, flg = self._head[0], self._head[1]
        wrapped = cmf & 0x0F == 8 and (cmf << 8 | flg) % 31 == 0
        data, self._head = self._head, b""
        return self._new(raw=not wrapped), data

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Inflate ``data``, yielding pieces of at most PIECE bytes."""
        if self._obj is None:
            self._obj, data = self._start(data)
            if self._obj is None:
                return
        while True:
            out = self._obj.decompress(data, PIECE)
            data = self._obj.unconsumed_tail
            if self._obj.eof and self.gzip and self._obj.unused_data[:2] == b"\x1f\x8b":
                # NOTE: gzip allows several members one after the other (RFC 1952 2.2); other
                # bytes after the end are ignored, as zlib and browsers do
                data = self._obj.unused_data + data
                self._obj = self._new(gzip=True)
            if out:
                yield out
            # NOTE: a full piece may leave output pending inside zlib even without input left
            if not data and len(out) < PIECE:
                return

    def finish(self) -> Iterator[bytes]:
        """Whatever the layer still holds once the body has ended."""
        if self._obj is None:  # a body of fewer than two bytes
            head, self._head = self._head, b""
            if head:
                self._obj = self._new(raw=True)
                yield from self.feed(head)
            return
        yield from self.feed(b"")


class _Identity:
    def feed(self, data: bytes) -> Iterator[bytes]:
        for start in range(0, len(data), PIECE):
            yield data[start:start + PIECE]

    def finish(self) -> Iterator[bytes]:
        return iter(())


class BodyDecoder:
    """Decodes a body sent with ``content_encoding`` (the header's value, "" for none).

    ``feed`` and ``finish`` yield the decoded bytes in pieces of at most PIECE bytes; ``produced``
    counts every decoded byte handed out. An encoding gpuscout cannot decode raises FetchError;
    a corrupt body raises CorruptBody.
    """

    def __init__(self, content_encoding: str, url: str = "") -> None:
        self.url = url
        names = [n.strip().lower() for n in content_encoding.split(",") if n.strip()]
        names = [n for n in names if n != "identity"]
        if len(names) > MAX_LAYERS:
            raise FetchError(f"{url} sent {len(names)} layers of Content-Encoding "
                             f"({content_encoding}); at most {MAX_LAYERS} are read", url=url)
        unknown = [n for n in names if n not in (*_GZIP, "deflate")]
        if unknown:
            raise FetchError(f"{url} sent Content-Encoding {unknown[0]!r}, which gpuscout does not "
                             "decode (it asks for gzip or deflate only)", url=url)
        # NOTE: encodings are listed in the order they were applied, so the last is undone first
        self._layers: list[_Inflater | _Identity] = [_Inflater(n) for n in reversed(names)]
        self._layers = self._layers or [_Identity()]
        self.produced = 0

    def feed(self, raw: bytes) -> Iterator[bytes]:
        yield from self._through(0, self._layers[0].feed(raw))

    def finish(self) -> Iterator[bytes]:
        for depth, layer in enumerate(self._layers):
            yield from self._through(depth, layer.finish())

    def _through(self, depth: int, pieces: Iterator[bytes]) -> Iterator[bytes]:
        try:
            for piece in pieces:
                if depth + 1 < len(self._layers):
                    yield from self._through(depth + 1, self._layers[depth + 1].feed(piece))
                else:
                    self.produced += len(piece)
                    yield piece
        except zlib.error as exc:
            raise CorruptBody(f"{self.url} sent a corrupt compressed body ({exc})",
                              url=self.url) from exc
