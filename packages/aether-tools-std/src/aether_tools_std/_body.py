"""Read a response body as a stream, never holding more than the cap (plus one chunk).

``Accept-Encoding: identity`` asks servers not to compress; a server that compresses anyway
with gzip or deflate is decoded here with a bounded decompressor, so a small "zip bomb" cannot
expand into gigabytes before the cap is checked. Other encodings are not decoded.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Final

import httpx

__all__ = ["BodyBuffer", "UnsupportedEncoding", "read_capped"]

_IDENTITY: Final = frozenset({"", "identity"})
_ZLIB_AUTO: Final = 47  # zlib or gzip header, detected automatically


class UnsupportedEncoding(Exception):
    """The server compressed the body with an encoding this tool does not decode."""


@dataclass(slots=True)
class BodyBuffer:
    """The body read so far; kept outside the reading task so a deadline can show it.

    Attributes:
        data: Decoded body bytes, at most the cap.
        truncated: More body followed what ``data`` holds.
        complete: The body was read to its end.
    """

    data: bytearray = field(default_factory=bytearray)
    truncated: bool = False
    complete: bool = False


async def read_capped(response: httpx.Response, max_bytes: int, into: BodyBuffer) -> None:
    """Stream ``response``'s body into ``into``, stopping once ``max_bytes`` are held.

    Raises:
        UnsupportedEncoding: The ``Content-Encoding`` is not identity, gzip or deflate.
    """
    encoding = response.headers.get("content-encoding", "").strip().lower()
    decompressor: zlib._Decompress | None = None
    if encoding in {"gzip", "x-gzip", "deflate"}:
        decompressor = zlib.decompressobj(_ZLIB_AUTO)
    elif encoding not in _IDENTITY:
        raise UnsupportedEncoding(encoding)
    async for chunk in response.aiter_raw():
        if decompressor is None:
            into.data += chunk
        else:
            # Never inflate more than what still fits (plus one byte to detect the excess).
            room = max_bytes + 1 - len(into.data)
            try:
                into.data += decompressor.decompress(chunk, room)
            except zlib.error as exc:
                raise UnsupportedEncoding(f"{encoding} (corrupt data: {exc})") from exc
            if decompressor.unconsumed_tail:
                into.truncated = True
        if len(into.data) > max_bytes:
            into.truncated = True
        if into.truncated:
            del into.data[max_bytes:]
            return
    into.complete = True
