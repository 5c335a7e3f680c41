"""The SSE decoder: framing rules, arbitrary chunk splits, the size cap."""

from __future__ import annotations

import pytest

from aether.errors import ProviderError
from aether.http import ServerSentEvent, SSEDecoder, aiter_sse

STREAM = (
    "\ufeff: a comment first\n"
    'data: {"a": "é ü 漢字 🎉"}\n'
    "\n"
    "event: update\r\n"
    "id: 42\r\n"
    "retry: 1500\r\n"
    "data: line one\r\n"
    "data: line two\r\n"
    "\r\n"
    "data\r"
    "\r"
    "data:no-space\n"
    "data:  two-spaces\n"
    "unknown: field\n"
    "\n"
    "event: lonely\n"
    "\n"
    "id: bad\0id\n"
    "data: [DONE]\n"
    "\n"
).encode()

EXPECTED = [
    ServerSentEvent(data='{"a": "é ü 漢字 🎉"}'),
    ServerSentEvent(event="update", data="line one\nline two", id="42", retry=1500),
    ServerSentEvent(data="", id="42"),
    ServerSentEvent(data="no-space\n two-spaces", id="42"),
    ServerSentEvent(data="[DONE]", id="42"),
]


def decode(chunks: list[bytes], max_event_bytes: int = 1 << 20) -> list[ServerSentEvent]:
    decoder = SSEDecoder(max_event_bytes=max_event_bytes)
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.flush())
    return events


def test_whole_stream() -> None:
    assert decode([STREAM]) == EXPECTED


def test_every_split_point_gives_the_same_events() -> None:
    for i in range(len(STREAM) + 1):
        assert decode([STREAM[:i], STREAM[i:]]) == EXPECTED, i


def test_every_two_split_points_give_the_same_events() -> None:
    step = 3
    for i in range(0, len(STREAM) + 1, step):
        for j in range(i, len(STREAM) + 1, 5):
            assert decode([STREAM[:i], STREAM[i:j], STREAM[j:]]) == EXPECTED, (i, j)


def test_byte_at_a_time() -> None:
    assert decode([STREAM[i : i + 1] for i in range(len(STREAM))]) == EXPECTED


def test_cr_lf_and_crlf_endings_are_equivalent() -> None:
    base = b"event: e\nid: 1\ndata: x\ndata: y\n\ndata: z\n\n"
    want = decode([base])
    assert want == [
        ServerSentEvent("e", "x\ny", "1"),
        ServerSentEvent("message", "z", "1"),
    ]
    for ending in (b"\r", b"\r\n"):
        stream = base.replace(b"\n", ending)
        for i in range(len(stream) + 1):
            assert decode([stream[:i], stream[i:]]) == want


def test_cr_then_lf_in_separate_chunks_is_one_line_break() -> None:
    # Were the LF taken as a second break, "data: a" would be dispatched early and alone.
    assert decode([b"data: a\r", b"\ndata: b\r\n\r\n"]) == [ServerSentEvent(data="a\nb")]
    assert decode([b"data: a\r", b"", b"\n", b"\r\n"]) == [ServerSentEvent(data="a")]


def test_bom_only_stripped_at_start() -> None:
    stream = b"\xef\xbb\xbfdata: 1\n\n\xef\xbb\xbfdata: 2\n\n"
    events = decode([stream[:1], stream[1:2], stream[2:]])
    assert [e.data for e in events] == ["1"]  # the second line's field name is "\ufeffdata"


def test_multibyte_char_split_across_chunks() -> None:
    stream = "data: 漢🎉\n\n".encode()
    for i in range(len(stream) + 1):
        assert decode([stream[:i], stream[i:]]) == [ServerSentEvent(data="漢🎉")]


def test_invalid_utf8_is_replaced_not_raised() -> None:
    assert decode([b"data: \xff\n\n"]) == [ServerSentEvent(data="\ufffd")]


def test_flush_keeps_a_final_event_missing_its_blank_line() -> None:
    assert decode([b"data: [DONE]\n"]) == [ServerSentEvent(data="[DONE]")]


def test_flush_drops_a_truncated_line() -> None:
    assert decode([b'data: {"a": 1}\n\ndata: {"trunc']) == [ServerSentEvent(data='{"a": 1}')]


def test_event_without_data_is_not_dispatched_and_resets_type() -> None:
    events = decode([b"event: ping\nretry: 5\n\ndata: x\n\n"])
    assert events == [ServerSentEvent(data="x")]


def test_retry_must_be_digits() -> None:
    assert decode([b"retry: 1.5\ndata: x\n\n"]) == [ServerSentEvent(data="x")]


def test_oversized_event_raises_naming_the_cap() -> None:
    decoder = SSEDecoder(max_event_bytes=64, provider="acme")
    for _ in range(3):
        decoder.feed(b"data: " + b"x" * 20 + b"\n")
    with pytest.raises(ProviderError, match="64-byte cap") as info:
        decoder.feed(b"data: " + b"x" * 20 + b"\n")
    assert info.value.provider == "acme"


def test_oversized_unterminated_line_raises_even_in_small_chunks() -> None:
    decoder = SSEDecoder(max_event_bytes=100)
    decoder.feed(b"data: ")
    for _ in range(9):
        decoder.feed(b"y" * 10)
    with pytest.raises(ProviderError, match="max_event_bytes"):
        decoder.feed(b"y" * 10)


def test_cap_is_per_event_not_per_stream() -> None:
    chunk = b"data: " + b"x" * 40 + b"\n\n"
    assert len(decode([chunk] * 100, max_event_bytes=64)) == 100


def test_invalid_cap() -> None:
    with pytest.raises(ValueError):
        SSEDecoder(max_event_bytes=0)


async def test_aiter_sse() -> None:
    async def chunks() -> object:
        for i in range(0, len(STREAM), 7):
            yield STREAM[i : i + 7]

    events = [event async for event in aiter_sse(chunks())]  # type: ignore[arg-type]
    assert events == EXPECTED


async def test_aiter_sse_cap() -> None:
    async def chunks() -> object:
        yield b"data: " + b"z" * 100

    with pytest.raises(ProviderError):
        _ = [e async for e in aiter_sse(chunks(), max_event_bytes=10)]  # type: ignore[arg-type]
