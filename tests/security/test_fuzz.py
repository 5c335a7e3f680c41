"""Fuzzed answers through every provider, whole and streamed: only Aether errors, or results.

Bodies are drawn three ways: arbitrary bytes, arbitrary JSON over each API's own vocabulary,
and each provider's real answer with one part replaced by arbitrary JSON (which reaches the
mapping code deepest). Each test runs :data:`EXAMPLES` examples, derandomized so a run is
reproducible and bounded: the whole file takes a few seconds.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from aether.errors import AetherError
from aether.llm.contracts import LLMResponse, LLMStreamChunk
from tests.security._providers import WIRES, Wire, run, sse

# Hypothesis caches what it learns of the source (even with no example database): outside the
# repository, which a test run leaves as it found it.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "aether-tests-hypothesis")

EXAMPLES = 60
"""Examples per provider and path (4 providers x 2 paths)."""

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

_WORDS = sorted(
    {
        # OpenAI
        "choices", "message", "delta", "content", "tool_calls", "function", "arguments",
        "name", "id", "index", "finish_reason", "usage", "refusal", "model",
        # Gemini
        "candidates", "parts", "text", "functionCall", "args", "finishReason", "thought",
        "usageMetadata", "promptFeedback", "blockReason", "safetyRatings", "modelVersion",
        # Anthropic
        "type", "content_block", "partial_json", "input", "stop_reason", "message_start",
        "content_block_start", "content_block_delta", "message_delta", "message_stop",
        "text_delta", "input_json_delta", "tool_use", "thinking", "signature",
        # Echo, and errors everywhere
        "stop", "calls", "call", "in", "out", "error", "code", "status", "details", "retryDelay",
    }
)  # fmt: skip

_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(_WORDS)
)
_json: st.SearchStrategy[Any] = st.recursive(
    _leaves,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(_WORDS) | st.text(max_size=6), inner, max_size=5)
    ),
    max_leaves=16,
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in ``value`` a part can be replaced at."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


def _replaced(value: Any, path: tuple[Any, ...], part: Any) -> Any:
    if not path:
        return part
    copy = json.loads(json.dumps(value))
    holder = copy
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = part
    return copy


@st.composite
def _mutated(draw: st.DrawFn, real: Any) -> Any:
    """``real`` with one part replaced by arbitrary JSON."""
    path = draw(st.sampled_from(_paths(real)))
    return _replaced(real, path, draw(_json))


def _whole_bodies(wire: Wire) -> st.SearchStrategy[tuple[int, str, bytes]]:
    real = st.sampled_from([wire.answer(), wire.call({"a": 1}), wire.call('{"a": 1}')])
    # Mostly the real answer with one part replaced: that reaches the mapping code.
    json_bodies = st.one_of(real.flatmap(_mutated), real.flatmap(_mutated), _json).map(
        lambda value: json.dumps(value).encode()
    )
    return st.tuples(
        st.sampled_from([200, 200, 200, 200, 200, 201, 400, 401, 429, 500]),
        st.sampled_from(["application/json", "application/json", "text/html", ""]),
        json_bodies | json_bodies | st.binary(max_size=64),
    )


def _event_streams(wire: Wire) -> st.SearchStrategy[tuple[str, bytes]]:
    real = [*wire.events(), *wire.call_events({"a": 1}), *wire.call_events('{"a": 1}')]
    # Mostly real events, some with one part replaced: a stream must get far to be read.
    event = st.one_of(
        st.sampled_from(real).map(json.dumps),
        st.sampled_from(real).map(json.dumps),
        st.sampled_from(real).flatmap(_mutated).map(json.dumps),
        _json.map(json.dumps),
        st.text(max_size=20),
    )
    streams = [wire.events(), wire.call_events({"a": 1}), wire.call_events('{"a": 1}')]
    events = st.one_of(
        st.sampled_from(streams).flatmap(_one_event_mutated),
        st.sampled_from(streams).flatmap(_one_event_mutated),
        st.lists(event, max_size=6),
    )
    body = st.tuples(
        events,
        st.sampled_from([True, True, False]),  # then the provider's own terminator
        st.sampled_from([None, None, None, "error", "ping"]),  # the name of the last event
    ).map(lambda drawn: _stream_body(wire, *drawn))
    media = st.sampled_from(["text/event-stream", "text/event-stream", "application/json", ""])
    return st.tuples(media, body)


@st.composite
def _one_event_mutated(draw: st.DrawFn, events: list[Any]) -> list[str]:
    """A real stream with one event's part replaced by arbitrary JSON."""
    index = draw(st.integers(min_value=0, max_value=len(events) - 1))
    changed = [*events[:index], draw(_mutated(events[index])), *events[index + 1 :]]
    return [json.dumps(event) for event in changed]


def _stream_body(wire: Wire, events: list[str], done: bool, last: str | None) -> bytes:
    body = sse(*events[:-1]) + (sse(events[-1], name=last) if events else b"")
    return body + (wire.done if done else b"")


def _check(wire: Wire, status: int, media: str, body: bytes, *, stream: bool) -> None:
    headers = {"content-type": media} if media else {}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers=headers)

    try:
        result = asyncio.run(run(wire.mocked(handler), stream=stream))
    except AetherError:
        return
    if stream:
        assert isinstance(result, list)
        assert all(isinstance(chunk, LLMStreamChunk) for chunk in result)
    else:
        assert isinstance(result, LLMResponse)


def _whole_test(wire: Wire) -> Any:
    @FUZZ
    @given(answer=_whole_bodies(wire))
    def test(answer: tuple[int, str, bytes]) -> None:
        _check(wire, *answer, stream=False)

    return test


def _stream_test(wire: Wire) -> Any:
    @FUZZ
    @given(answer=_event_streams(wire))
    def test(answer: tuple[str, bytes]) -> None:
        _check(wire, 200, *answer, stream=True)

    return test


_BY_NAME = {wire.name: wire for wire in WIRES}
test_openai_whole = _whole_test(_BY_NAME["openai"])
test_openai_stream = _stream_test(_BY_NAME["openai"])
test_gemini_whole = _whole_test(_BY_NAME["gemini"])
test_gemini_stream = _stream_test(_BY_NAME["gemini"])
test_anthropic_whole = _whole_test(_BY_NAME["anthropic"])
test_anthropic_stream = _stream_test(_BY_NAME["anthropic"])
test_echo_whole = _whole_test(_BY_NAME["echo"])
test_echo_stream = _stream_test(_BY_NAME["echo"])
