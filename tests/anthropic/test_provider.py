"""``AnthropicProvider`` over ``httpx.MockTransport``: settings, headers, HTTP errors, secrets,
thinking sent back with its tool calls, and the package's public surface."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import httpx
import pytest

import aether_anthropic
from aether.errors import (
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ContextLengthError,
    MissingAPIKeyError,
    NotFoundError,
    ProviderError,
    RateLimitError,
    ServerError,
    UnexpectedResponseError,
)
from aether.extensions.llm.factory import create_provider
from aether.llm.contracts import LLMRequest, Message, ToolCall
from aether.llm.models import ModelTable
from aether.llm.parts import DocumentPart, TextPart
from aether_anthropic import AnthropicProvider
from aether_anthropic._plugin import register_providers
from tests.support.exports import public_names

KEY = "sk-ant-secret-key-987654"
Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_MODEL", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def provider(handler: Handler, **kwargs: Any) -> AnthropicProvider:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    kwargs.setdefault("api_key", KEY)
    return AnthropicProvider(http_client=client, **kwargs)


def ask(text: str = "hi", **kwargs: Any) -> LLMRequest:
    return LLMRequest(messages=[Message(role="user", content=text)], **kwargs)


def answer(content: list[dict[str, Any]], stop: str = "end_turn") -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-test",
        "content": content,
        "stop_reason": stop,
        "usage": {"input_tokens": 3, "output_tokens": 2},
    }


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=answer([{"type": "text", "text": "ok"}]))


def anthropic_error(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


async def call(claude: AnthropicProvider, *, streaming: bool) -> None:
    await call_with(claude, ask(), streaming=streaming)


async def call_with(claude: AnthropicProvider, request: LLMRequest, *, streaming: bool) -> None:
    if streaming:
        _ = [chunk async for chunk in claude.stream(request)]
    else:
        await claude.complete(request)


# --- settings ----------------------------------------------------------------------------


def test_missing_key_for_the_public_endpoint() -> None:
    with pytest.raises(MissingAPIKeyError, match="ANTHROPIC_API_KEY"):
        AnthropicProvider()


async def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_MODEL", "claude-env")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "https://proxy.example/anthropic/")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return ok(request)

    claude = AnthropicProvider(
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler))
    )
    assert claude.default_model == "claude-env"
    await claude.complete(ask())
    (sent,) = seen
    assert str(sent.url) == "https://proxy.example/anthropic/v1/messages"
    assert sent.headers["x-api-key"] == KEY
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert sent.headers["content-type"] == "application/json"
    assert json.loads(sent.content)["model"] == "claude-env"


async def test_keywords_beat_the_environment_and_the_request_model_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANTHROPIC_MODEL", "claude-env")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "https://ignored.example")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return ok(request)

    claude = provider(handler, default_model="claude-kw", base_url="https://kw.example")
    await claude.complete(ask())
    await claude.complete(ask(model="claude-request"))
    assert [json.loads(r.content)["model"] for r in seen] == ["claude-kw", "claude-request"]
    assert {str(r.url) for r in seen} == {"https://kw.example/v1/messages"}


async def test_default_is_the_public_api() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return ok(request)

    claude = provider(handler)
    assert (claude.base_url, claude.default_model) == (
        "https://api.anthropic.com",
        "claude-sonnet-4-5",
    )
    await claude.complete(ask())
    assert str(seen[0].url) == "https://api.anthropic.com/v1/messages"


async def test_a_gateway_needs_no_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return ok(request)

    claude = provider(handler, api_key=None, base_url="http://gateway.local")
    assert (await claude.complete(ask())).text == "ok"
    assert "x-api-key" not in seen[0].headers


async def test_max_tokens_default_and_extra_headers() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return ok(request)

    claude = provider(
        handler,
        default_max_tokens=777,
        extra_headers={"anthropic-beta": "feature-x", "anthropic-version": "2099-01-01"},
    )
    await claude.complete(ask())
    await claude.complete(ask(max_tokens=12))
    assert [json.loads(r.content)["max_tokens"] for r in seen] == [777, 12]
    assert seen[0].headers["anthropic-beta"] == "feature-x"
    assert seen[0].headers["anthropic-version"] == "2099-01-01"
    with pytest.raises(ConfigurationError, match="default_max_tokens"):
        AnthropicProvider(api_key=KEY, default_max_tokens=0)


@pytest.mark.parametrize("streaming", [False, True], ids=["complete", "stream"])
async def test_a_calls_extra_headers_go_with_it(streaming: bool) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if streaming:
            events = _sse({"type": "message_start", "message": {}}, {"type": "message_stop"})
            return httpx.Response(
                200, content=events, headers={"content-type": "text/event-stream"}
            )
        return ok(request)

    claude = provider(handler, extra_headers={"anthropic-beta": "team-beta"})
    request = ask(
        extra_headers={
            "x-trace": "t-1",
            "Anthropic-Beta": "call-beta, team-beta",
            "x-api-key": "no",
        }
    )
    await call_with(claude, request, streaming=streaming)
    await call_with(claude, ask(), streaming=streaming)
    first, second = (r.headers for r in seen)
    assert first["x-trace"] == "t-1"
    assert first["anthropic-beta"] == "team-beta,call-beta", "combined, each name once"
    assert first["x-api-key"] == KEY, "a call cannot replace the credentials"
    assert (second["anthropic-beta"], "x-trace" in second) == ("team-beta", False)


async def test_a_file_part_brings_the_files_beta_with_the_others() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return ok(request)

    doc = Message(role="user", content=[DocumentPart(file_id="file_1"), TextPart(text="sum up")])
    claude = provider(handler)
    await claude.complete(LLMRequest(messages=[doc], extra_headers={"anthropic-beta": "x"}))
    assert seen[0].headers["anthropic-beta"] == "x,files-api-2025-04-14"
    assert json.loads(seen[0].content)["messages"][0]["content"][0]["source"] == {
        "type": "file",
        "file_id": "file_1",
    }


async def test_with_interleaved_thinking_a_budget_may_pass_max_tokens() -> None:
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return ok(request)

    thinking: Any = {"budget_tokens": 8000}
    with pytest.raises(ConfigurationError, match="below max_tokens"):
        await provider(handler).complete(ask(reasoning=thinking, max_tokens=2000))
    beta = {"anthropic-beta": "interleaved-thinking-2025-05-14"}
    await provider(handler, extra_headers=beta).complete(ask(reasoning=thinking, max_tokens=2000))
    assert (seen[0]["max_tokens"], seen[0]["thinking"]["budget_tokens"]) == (2000, 8000)


async def test_owned_client_is_closed_and_borrowed_one_is_not() -> None:
    borrowed = httpx.AsyncClient()
    async with AnthropicProvider(api_key=KEY, http_client=borrowed):
        pass
    assert not borrowed.is_closed
    await borrowed.aclose()
    owned = AnthropicProvider(api_key=KEY)
    await owned.aclose()  # nothing created yet: still fine


# --- HTTP errors ---------------------------------------------------------------------------

STATUSES: list[tuple[int, str, str, type[ProviderError]]] = [
    (400, "invalid_request_error", "messages: roles must alternate", BadRequestError),
    (
        400,
        "invalid_request_error",
        "prompt is too long: 208310 tokens > 200000",
        ContextLengthError,
    ),
    (
        400,
        "invalid_request_error",
        "input length and `max_tokens` exceed context limit: 199759 + 8192 > 200000",
        ContextLengthError,
    ),
    (401, "authentication_error", "invalid x-api-key", AuthenticationError),
    (403, "permission_error", "Your API key does not have permission", AuthenticationError),
    (404, "not_found_error", "model: claude-nope", NotFoundError),
    (
        413,
        "request_too_large",
        "Request exceeds the maximum allowed number of bytes",
        ContextLengthError,
    ),
    (
        429,
        "rate_limit_error",
        "Number of request tokens has exceeded your rate limit",
        RateLimitError,
    ),
    (500, "api_error", "Internal server error", ServerError),
    (529, "overloaded_error", "Overloaded", RateLimitError),
]


@pytest.mark.parametrize("streaming", [False, True], ids=["complete", "stream"])
@pytest.mark.parametrize(("status", "kind", "message", "cls"), STATUSES)
async def test_http_status_raises_its_typed_error(
    status: int, kind: str, message: str, cls: type[ProviderError], streaming: bool
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            status,
            json=anthropic_error(kind, message),
            headers={"request-id": "req_011abc", "retry-after": "3"},
        )

    with pytest.raises(ProviderError) as info:
        await call(provider(handler), streaming=streaming)
    error = info.value
    assert type(error) is cls
    assert (error.status_code, error.provider, error.request_id) == (
        status,
        "anthropic",
        "req_011abc",
    )
    assert message in error.message
    assert f"type: {kind}" in error.message
    assert error.retry_after == 3.0
    assert len(seen) == 1, "the provider must not retry on its own"


async def test_retry_after_ms_and_the_body_request_id() -> None:
    body = {**anthropic_error("rate_limit_error", "slow down"), "request_id": "req_in_body"}
    claude = provider(lambda r: httpx.Response(429, json=body, headers={"retry-after-ms": "1500"}))
    with pytest.raises(RateLimitError) as info:
        await claude.complete(ask())
    assert (info.value.retry_after, info.value.request_id) == (1.5, "req_in_body")


async def test_should_retry_header_is_kept() -> None:
    headers = {"x-should-retry": "false"}
    claude = provider(
        lambda r: httpx.Response(
            529, json=anthropic_error("overloaded_error", "x"), headers=headers
        )
    )
    with pytest.raises(RateLimitError) as info:
        await claude.complete(ask())
    assert info.value.should_retry is False


async def test_error_object_in_a_200_body_is_typed() -> None:
    claude = provider(
        lambda r: httpx.Response(200, json=anthropic_error("overloaded_error", "busy"))
    )
    with pytest.raises(RateLimitError, match="busy"):
        await claude.complete(ask())


@pytest.mark.parametrize("body", [["a", "list"], {"status": "ok"}], ids=["list", "other"])
async def test_json_that_is_not_a_messages_answer_is_an_error(body: Any) -> None:
    claude = provider(lambda r: httpx.Response(200, json=body))
    with pytest.raises(UnexpectedResponseError, match="not an answer of the anthropic API"):
        await claude.complete(ask())


async def test_json_answer_to_a_stream_request_is_refused() -> None:
    claude = provider(ok)
    with pytest.raises(UnexpectedResponseError, match="where an event stream"):
        _ = [chunk async for chunk in claude.stream(ask())]


# --- secrets -------------------------------------------------------------------------------


@pytest.mark.parametrize("streaming", [False, True], ids=["complete", "stream"])
async def test_the_key_never_shows(streaming: bool) -> None:
    echoed = anthropic_error("authentication_error", f"invalid x-api-key {KEY}")
    claude = provider(lambda r: httpx.Response(401, json=echoed))
    assert KEY not in repr(claude) and KEY not in str(claude)
    assert KEY not in repr(claude._http)
    with pytest.raises(AuthenticationError) as info:
        await call(claude, streaming=streaming)
    error = info.value
    shown = [str(error), repr(error), error.message, *map(str, error.args)]
    assert not [text for text in shown if KEY in text]


async def test_the_key_never_shows_in_transport_errors() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"refused while sending {request.headers['x-api-key']}")

    with pytest.raises(ProviderError) as info:
        await provider(handler).complete(ask())
    assert KEY not in str(info.value)


# --- thinking goes back with its tool calls ------------------------------------------------


THINKING = {"type": "thinking", "thinking": "I need the weather.", "signature": "SIG-1"}
CALL = {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Oslo"}}


def _sse(*events: dict[str, Any]) -> bytes:
    return b"".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events)


def _streamed_thinking_then_call() -> bytes:
    usage = {"input_tokens": 5, "output_tokens": 1}
    return _sse(
        {"type": "message_start", "message": {"id": "msg_1", "model": "m", "usage": usage}},
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "thinking", "thinking": "", "signature": ""},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "thinking_delta", "thinking": "I need the weather."},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "signature_delta", "signature": "SIG-1"},
        },
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1, "content_block": {**CALL, "input": {}}},
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": '{"city": "Oslo"}'},
        },
        {"type": "content_block_stop", "index": 1},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use"},
            "usage": {"output_tokens": 9},
        },
        {"type": "message_stop"},
    )


@pytest.mark.parametrize("streaming", [False, True], ids=["complete", "stream"])
async def test_signed_thinking_goes_back_in_front_of_its_tool_call(streaming: bool) -> None:
    sent: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        if len(sent) > 1:
            return ok(request)
        if streaming:
            headers = {"content-type": "text/event-stream"}
            return httpx.Response(200, content=_streamed_thinking_then_call(), headers=headers)
        return httpx.Response(200, json=answer([THINKING, CALL], "tool_use"))

    claude = provider(handler)
    if streaming:
        chunks = [chunk async for chunk in claude.stream(ask("weather in Oslo?"))]
        calls = [c for chunk in chunks for c in chunk.tool_calls]
        reasoning = "".join(chunk.reasoning_text for chunk in chunks)
    else:
        first = await claude.complete(ask("weather in Oslo?"))
        calls, reasoning = first.tool_calls, first.reasoning_text
    assert reasoning == "I need the weather."
    (tool_call,) = calls
    follow_up = [
        *ask("weather in Oslo?").messages,
        Message(role="assistant", tool_calls=[tool_call]),
        Message(role="tool", tool_call_id=tool_call.id, content="-3 C"),
    ]
    await claude.complete(LLMRequest(messages=follow_up))
    assert sent[1]["messages"][1] == {"role": "assistant", "content": [THINKING, CALL]}
    assert sent[1]["messages"][2] == {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "-3 C"}],
    }


async def test_thinking_survives_a_stored_conversation_and_a_new_provider() -> None:
    first = await provider(
        lambda _: httpx.Response(200, json=answer([THINKING, CALL], "tool_use"))
    ).complete(ask("weather in Oslo?"))
    # Stored as JSON (a session store) and continued by another provider object: the
    # signed thinking is on the call itself, so it still goes back in front of it.
    (stored,) = [ToolCall.model_validate_json(c.model_dump_json()) for c in first.tool_calls]
    sent: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return ok(request)

    follow_up = [
        *ask("weather in Oslo?").messages,
        Message(role="assistant", tool_calls=[stored]),
        Message(role="tool", tool_call_id=stored.id, content="-3 C"),
    ]
    await provider(handler).complete(LLMRequest(messages=follow_up))
    assert sent[0]["messages"][1] == {"role": "assistant", "content": [THINKING, CALL]}
    # A call that came without thinking goes back without any.
    plain = ToolCall(id="toolu_9", name="weather", arguments={})
    await provider(handler).complete(
        LLMRequest(messages=[*ask("x").messages, Message(role="assistant", tool_calls=[plain])])
    )
    assert [b["type"] for b in sent[1]["messages"][1]["content"]] == ["tool_use"]


# --- packaging -----------------------------------------------------------------------------


def test_public_names() -> None:
    assert aether_anthropic.__all__ == [
        "API_VERSION",
        "AnthropicProvider",
        "ClaudeTraits",
        "DEFAULT_BASE_URL",
        "DEFAULT_MAX_TOKENS",
        "DEFAULT_MODEL",
        "MODELS",
    ]
    assert aether_anthropic.__all__ == sorted(aether_anthropic.__all__)
    assert set(aether_anthropic.__all__) == public_names(aether_anthropic)
    assert isinstance(aether_anthropic.MODELS, ModelTable)
    assert AnthropicProvider.__module__ == "aether_anthropic._provider"
    assert (Path(aether_anthropic.__file__).parent / "py.typed").is_file()


def test_plugin_registers_anthropic_with_its_variables() -> None:
    registered: list[tuple[str, Any, dict[str, Any]]] = []
    register_providers(lambda name, obj, /, **meta: registered.append((name, obj, meta)))
    assert registered == [
        (
            "anthropic",
            AnthropicProvider,
            {"api_key_env": "ANTHROPIC_API_KEY", "model_env": "ANTHROPIC_MODEL"},
        )
    ]
    (point,) = [ep for ep in entry_points(group="aether.providers") if ep.name == "anthropic"]
    assert point.value == "aether_anthropic._plugin"
    assert point.dist is not None and point.dist.name == "aether-anthropic"


def test_built_by_name_through_the_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_MODEL", "claude-from-env")
    built = create_provider("anthropic", base_url="http://gateway.local")
    assert isinstance(built, AnthropicProvider)
    assert (built.default_model, built.base_url) == ("claude-from-env", "http://gateway.local")
