"""An incremental server-sent events (SSE) parser, fed with raw bytes as they arrive.

Follows the WHATWG "event stream interpretation" rules: CR, LF and CRLF line endings (a CR
at the end of one chunk and the LF at the start of the next are one line break), multi-line
``data`` joined with ``"\\n"``, ``:`` comment lines ignored, a leading UTF-8 BOM dropped, a
field line without a colon taken as a field with an empty value, and an event without any
``data`` line not dispatched. Chunks may be split at any byte, including inside a multi-byte
UTF-8 character: bytes are only decoded once a whole event has arrived.

It works on bytes and splits with C-level ``bytes`` methods, so the per-chunk cost stays
close to a hand-written ``split(b"\\n\\n")`` loop.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable
from dataclasses import dataclass

from aether.errors import ProviderError

__all__ = ["DEFAULT_MAX_EVENT_BYTES", "SSEDecoder", "ServerSentEvent", "aiter_sse"]

DEFAULT_MAX_EVENT_BYTES = 4 * 1024 * 1024
"""Default cap on one event's size (4 MiB): far above any real LLM chunk, far below OOM."""

_BOM = b"\xef\xbb\xbf"
_DATA_PREFIX = b"data: "


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One dispatched event.

    Attributes:
        event: The ``event:`` field, ``"message"`` when the server gave none.
        data: The ``data:`` lines joined with ``"\\n"``.
        id: The last event id seen on the stream so far (it persists across events, as
            the SSE spec's "last event ID" does), or None.
        retry: The ``retry:`` reconnection delay in milliseconds, if this event set one.
    """

    event: str = "message"
    data: str = ""
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Turns a byte stream into :class:`ServerSentEvent` objects, one chunk at a time.

    Call :meth:`feed` with each chunk and :meth:`flush` once at the end of the stream.

    Args:
        max_event_bytes: Largest accepted event (its data plus any unfinished line). A bigger
            one raises :class:`~aether.errors.ProviderError` instead of growing memory
            without bound.
        provider: Provider name put on that error, when known.
    """

    __slots__ = (
        "_data",
        "_event",
        "_last_id",
        "_max",
        "_pending",
        "_pending_size",
        "_provider",
        "_retry",
        "_size",
        "_skip_lf",
        "_started",
    )

    def __init__(
        self, *, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES, provider: str | None = None
    ) -> None:
        if max_event_bytes < 1:
            raise ValueError(f"max_event_bytes must be >= 1, got {max_event_bytes}")
        self._max = max_event_bytes
        self._provider = provider
        # Bytes after the last line break, kept as a list so that one huge line arriving in
        # many small chunks is joined once, not re-copied on every chunk.
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._skip_lf = False
        self._started = False
        self._data: list[bytes] = []
        self._size = 0
        self._event: bytes | None = None
        self._last_id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Consume one chunk; return the events it completed (often none or one)."""
        if not chunk:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if chunk[0] == 0x0A:  # the LF of a CRLF split across two chunks
                chunk = chunk[1:]
                if not chunk:
                    return []
        if b"\n" not in chunk and b"\r" not in chunk:
            self._pending.append(chunk)
            self._pending_size += len(chunk)
            if self._pending_size + self._size > self._max:
                self._too_big()
            return []
        if self._pending:
            self._pending.append(chunk)
            buf = b"".join(self._pending)
            self._pending.clear()
        else:
            buf = chunk
        if b"\r" in buf:
            self._skip_lf = buf[-1] == 0x0D
            buf = buf.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = buf.split(b"\n")
        rest = lines.pop()
        if rest:
            self._pending.append(rest)
        self._pending_size = len(rest)
        events = self._lines(lines)
        if self._pending_size + self._size > self._max:
            self._too_big()
        return events

    def flush(self) -> list[ServerSentEvent]:
        """End of stream: dispatch an event whose last line ended but whose blank line did not.

        Browsers drop such an event; servers that close right after ``data: [DONE]\\n`` are
        common enough that we keep it. An unterminated final line is a truncated line and is
        dropped, so a stream cut mid-line never yields half a JSON document.
        """
        self._pending.clear()
        self._pending_size = 0
        self._skip_lf = False
        return self._lines([b""])

    def _lines(self, lines: list[bytes]) -> list[ServerSentEvent]:
        if not self._started and lines:
            self._started = True
            if lines[0].startswith(_BOM):
                lines[0] = lines[0][3:]
        events: list[ServerSentEvent] = []
        data = self._data
        size = self._size
        for line in lines:
            if line.startswith(_DATA_PREFIX):  # the overwhelmingly common line: fast path
                data.append(line[6:])
                size += len(line) - 5
            elif not line:
                if data:  # dispatch, inlined: this runs once per event
                    raw = data[0] if len(data) == 1 else b"\n".join(data)
                    name = self._event
                    events.append(
                        ServerSentEvent(
                            name.decode("utf-8", "replace") if name else "message",
                            raw.decode("utf-8", "replace"),
                            self._last_id,
                            self._retry,
                        )
                    )
                    data.clear()
                    size = 0
                self._event = None
                self._retry = None
            elif line[0] != 0x3A:  # lines starting with ":" are comments
                self._size = size
                self._field(line)
                size = self._size
        self._size = size
        if size > self._max:
            self._too_big()
        return events

    def _field(self, line: bytes) -> None:
        name, colon, value = line.partition(b":")
        if colon and value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._data.append(value)
            self._size += len(value) + 1
        elif name == b"event":
            self._event = value
        elif name == b"id":
            if b"\0" not in value:
                self._last_id = value.decode("utf-8", "replace")
        elif name == b"retry" and value.isdigit():
            self._retry = int(value)
        # Unknown fields are ignored, as the spec requires.

    def _too_big(self) -> None:
        size = self._pending_size + self._size
        self._pending.clear()
        self._pending_size = 0
        self._data.clear()
        self._size = 0
        raise ProviderError(
            f"A server-sent event grew past the {self._max}-byte cap (max_event_bytes) "
            f"with at least {size} bytes buffered; the stream is malformed or not an event "
            f"stream. Raise max_event_bytes if the server really sends events this large.",
            provider=self._provider,
        )


async def aiter_sse(
    chunks: AsyncIterable[bytes],
    *,
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    provider: str | None = None,
) -> AsyncGenerator[ServerSentEvent, None]:
    """Yield the events of an async byte stream (e.g. ``response.aiter_bytes()``).

    Args:
        chunks: The raw body, in chunks of any size.
        max_event_bytes: See :class:`SSEDecoder`.
        provider: Provider name for the oversize-event error.
    """
    decoder = SSEDecoder(max_event_bytes=max_event_bytes, provider=provider)
    feed = decoder.feed
    async for chunk in chunks:
        for event in feed(chunk):
            yield event
    for event in decoder.flush():
        yield event
