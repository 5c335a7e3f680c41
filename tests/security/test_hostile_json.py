"""JSON nested thousands of levels deep, or too large, is a typed error or raw tool arguments:
never a RecursionError, from any provider, whole or streamed."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from aether.errors import (
    ServerError,
    StreamInterruptedError,
    ToolArgumentsError,
    UnexpectedResponseError,
)
from aether.http import (
    DEFAULT_MAX_ARGUMENT_DEPTH,
    DEFAULT_MAX_JSON_DEPTH,
    RAW_ARGUMENTS_KEY,
    HTTPProviderClient,
    JSONLimitError,
    json_loads,
    parse_tool_arguments,
    tool_arguments,
)
from aether.llm.contracts import LLMResponse, Message, ToolCall
from aether.tools import make_tool
from tests.security._providers import WIRE_IDS, WIRES, Wire, run, sse

PROVIDERS = pytest.mark.parametrize("wire", WIRES, ids=WIRE_IDS)
MODES = pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])


def nested(depth: int, inner: Any = 0) -> Any:
    value = inner
    for _ in range(depth):
        value = [value]
    return value


def deep_text(depth: int) -> str:
    return "[" * depth + "0" + "]" * depth


@pytest.mark.parametrize("depth", [DEFAULT_MAX_JSON_DEPTH + 1, 600, 5_000, 100_000])
def test_json_loads_refuses_deep_json_as_text_and_bytes(depth: int) -> None:
    unclosed = ["[" * depth] if depth > 2_000 else []  # past the parser's own recursion limit
    for text in (deep_text(depth), deep_text(depth).encode(), *unclosed):
        with pytest.raises(JSONLimitError) as info:
            json_loads(text)
        assert info.value.setting == "max_json_depth"
        assert isinstance(info.value, ValueError)


def test_json_loads_limits_are_exact_and_strings_do_not_count() -> None:
    assert json_loads(deep_text(DEFAULT_MAX_JSON_DEPTH)) == nested(DEFAULT_MAX_JSON_DEPTH)
    assert json_loads(deep_text(5), max_depth=5) == nested(5)
    with pytest.raises(JSONLimitError):
        json_loads(deep_text(6), max_depth=5)
    assert json_loads(json.dumps("[" * 10_000), max_depth=5) == "[" * 10_000
    assert json_loads(json.dumps({"a": "{" * 100}), max_depth=1) == {"a": "{" * 100}
    with pytest.raises(JSONLimitError) as info:
        json_loads(b"[1, 2, 3]", max_bytes=8)
    assert info.value.setting == "max_bytes"


def test_tool_argument_helpers_keep_what_they_refuse_as_raw_text() -> None:
    deep = deep_text(5_000)
    assert parse_tool_arguments(deep) == {RAW_ARGUMENTS_KEY: deep}
    obj = '{"a": ' + deep_text(DEFAULT_MAX_ARGUMENT_DEPTH) + "}"
    assert parse_tool_arguments(obj) == {RAW_ARGUMENTS_KEY: obj}
    fine = '{"a": ' + deep_text(DEFAULT_MAX_ARGUMENT_DEPTH - 2) + "}"
    assert parse_tool_arguments(fine) == json.loads(fine)
    assert parse_tool_arguments('{"a": 1}', max_bytes=3) == {RAW_ARGUMENTS_KEY: '{"a": 1}'}
    too_deep = {"a": nested(DEFAULT_MAX_ARGUMENT_DEPTH)}
    assert tool_arguments(too_deep) == {RAW_ARGUMENTS_KEY: json.dumps(too_deep)}
    assert tool_arguments(nested(100_000)) == {
        RAW_ARGUMENTS_KEY: "<arguments that cannot be shown as JSON: a list>"
    }
    assert parse_tool_arguments({"a": 1}) == {"a": 1}  # a server that sent an object
    assert parse_tool_arguments(7) == {RAW_ARGUMENTS_KEY: "7"}


def test_kept_arguments_are_refused_to_the_model_and_survive_a_session_store() -> None:
    def f(a: int) -> int:
        return a

    arguments = parse_tool_arguments(deep_text(5_000))
    with pytest.raises(ToolArgumentsError):
        make_tool(f).bind(arguments)
    deepest = tool_arguments({"a": nested(DEFAULT_MAX_ARGUMENT_DEPTH - 1)})
    for kept in (arguments, deepest):
        message = Message(
            role="assistant", content="", tool_calls=[ToolCall(id="c", name="f", arguments=kept)]
        )
        assert Message.model_validate_json(message.model_dump_json()) == message


def _replying(body: bytes, *, stream: bool) -> Any:
    media = "text/event-stream" if stream else "application/json"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": media})

    return handler


@PROVIDERS
@pytest.mark.parametrize("depth", [600, 100_000])
async def test_a_deep_body_is_refused_typed(wire: Wire, depth: int) -> None:
    body = json.dumps(wire.answer())[:-1].encode() + b', "x": ' + deep_text(depth).encode() + b"}"
    with pytest.raises(UnexpectedResponseError) as info:
        await run(wire.mocked(_replying(body, stream=False)), stream=False)
    assert "max_json_depth" in str(info.value) and "AETHER_HTTP_MAX_JSON_DEPTH" in str(info.value)


@PROVIDERS
@pytest.mark.parametrize("depth", [600, 100_000])
async def test_a_deep_event_breaks_the_stream_typed(wire: Wire, depth: int) -> None:
    first, *_ = wire.events()
    body = sse(first, deep_text(depth)) + wire.done
    with pytest.raises(StreamInterruptedError) as info:
        await run(wire.mocked(_replying(body, stream=True)), stream=True)
    assert "max_json_depth" in str(info.value)


@PROVIDERS
async def test_a_deep_error_body_is_still_typed_by_its_status(wire: Wire) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, content=deep_text(100_000).encode())

    for stream in (False, True):
        with pytest.raises(ServerError) as info:
            await run(wire.mocked(handler), stream=stream)
        assert "Unexpected error body: [[[[" in str(info.value)


def _arguments_of(result: LLMResponse | list[Any]) -> dict[str, Any]:
    if isinstance(result, LLMResponse):
        calls = result.tool_calls
    else:
        calls = [call for chunk in result for call in chunk.tool_calls]
    assert len(calls) == 1
    arguments: dict[str, Any] = calls[0].arguments
    return arguments


@PROVIDERS
@MODES
@pytest.mark.parametrize("depth", [DEFAULT_MAX_ARGUMENT_DEPTH + 1, 5_000])
async def test_deep_tool_arguments_reach_the_tool_loop_as_raw_text(
    wire: Wire, stream: bool, depth: int
) -> None:
    """As text (OpenAI, Anthropic's stream) or as an object (Gemini, Anthropic's input,
    Echo); an object too deep for the body's own limit is refused with the body."""
    as_text = wire.name == "openai" or (wire.name == "anthropic" and stream)
    deep = '{"a": ' + deep_text(depth) + "}"
    # Built as text: the standard encoder cannot write what is being tested.
    answer = wire.call_events("ARGS") if stream else [wire.call("ARGS")]
    placeholder, value = '"ARGS"', json.dumps(deep) if as_text else deep
    events = [json.dumps(event).replace(placeholder, value) for event in answer]
    body = sse(*events) + wire.done if stream else events[0].encode()
    refused = not as_text and depth > DEFAULT_MAX_JSON_DEPTH - 10  # the body's own limit
    if refused:
        with pytest.raises((UnexpectedResponseError, StreamInterruptedError)):
            await run(wire.mocked(_replying(body, stream=stream)), stream=stream)
        return
    result = await run(wire.mocked(_replying(body, stream=stream)), stream=stream)
    kept = _arguments_of(result)
    assert list(kept) == [RAW_ARGUMENTS_KEY]
    assert kept[RAW_ARGUMENTS_KEY].startswith('{"a": [[[[')


def _nested_answers(request: httpx.Request) -> httpx.Response:
    """``{"a": [[[[[0]]]]]}``, 6 levels, as one body or one event."""
    if request.url.path.endswith("sse"):
        headers = {"content-type": "text/event-stream"}
        return httpx.Response(200, content=sse({"a": nested(5)}), headers=headers)
    return httpx.Response(200, json={"a": nested(5)})


async def test_the_limits_are_configurable() -> None:
    async with httpx.AsyncClient(transport=httpx.MockTransport(_nested_answers)) as borrowed:

        def client(**limits: Any) -> HTTPProviderClient:
            return HTTPProviderClient(
                provider="acme", base_url="http://api.test", http_client=borrowed, **limits
            )

        assert await client(max_json_depth=6).post_json("json", {}) == {"a": nested(5)}
        with pytest.raises(UnexpectedResponseError, match="max_json_depth"):
            await client(max_json_depth=5).post_json("json", {})
        with pytest.raises(UnexpectedResponseError, match="max_body_bytes"):
            await client(max_body_bytes=10).post_json("json", {})
        strict = client(max_json_depth=5)
        events = [event async for event in strict.stream_sse("sse", {})]
        with pytest.raises(StreamInterruptedError, match="max_json_depth"):
            strict.decode_event(events[0])


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("AETHER_HTTP_MAX_JSON_DEPTH", "5", "deeper than 5 levels"),
        ("AETHER_HTTP_MAX_BODY_BYTES", "10", "max_body_bytes"),
    ],
)
async def test_the_limits_come_from_the_environment(
    variable: str, value: str, words: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    async with httpx.AsyncClient(transport=httpx.MockTransport(_nested_answers)) as borrowed:
        http = HTTPProviderClient(provider="acme", base_url="http://api.test", http_client=borrowed)
        with pytest.raises(UnexpectedResponseError, match=words):
            await http.post_json("json", {})
