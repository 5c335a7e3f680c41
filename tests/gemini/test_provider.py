"""``GeminiProvider`` over ``httpx.MockTransport``: settings, errors, refusals, streams."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from importlib.metadata import entry_points
from typing import Any

import httpx
import pytest

import aether_gemini
from aether.errors import (
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    MissingAPIKeyError,
    ProviderError,
    RateLimitError,
    ResponseBlockedError,
    ServerError,
    StreamInterruptedError,
    UnexpectedResponseError,
)
from aether.extensions.llm.factory import create_provider
from aether.extensions.llm.retrying import is_retryable
from aether.llm.contracts import LLMRequest, LLMStreamChunk, Message, ToolCall
from aether.llm.models import ModelTable
from aether_gemini import GeminiProvider
from aether_gemini._plugin import register_providers

KEY = "secret-gemini-key-987"
Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GEMINI_API_KEY", "GEMINI_MODEL", "GEMINI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def provider(handler: Handler, **kwargs: Any) -> GeminiProvider:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    kwargs.setdefault("api_key", KEY)
    return GeminiProvider(http_client=client, **kwargs)


def ask(text: str = "hi", **kwargs: Any) -> LLMRequest:
    return LLMRequest(messages=[Message(role="user", content=text)], **kwargs)


def answer(
    parts: list[dict[str, Any]], finish: str | None = "STOP", **extra: Any
) -> dict[str, Any]:
    return {
        "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": finish}],
        "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 2},
        "modelVersion": "gemini-test",
        **extra,
    }


def sse(*bodies: dict[str, Any]) -> bytes:
    return b"".join(b"data: " + json.dumps(b).encode() + b"\r\n\r\n" for b in bodies)


# --- settings ----------------------------------------------------------------------------


def test_missing_key_for_the_public_endpoint() -> None:
    with pytest.raises(MissingAPIKeyError, match="GEMINI_API_KEY"):
        GeminiProvider()


async def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    monkeypatch.setenv("GEMINI_MODEL", "gemini-env")
    monkeypatch.setenv("GEMINI_BASE_URL", "https://proxy.example/v1beta/")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=answer([{"text": "ok"}]))

    gemini = GeminiProvider(http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)))
    assert gemini.default_model == "gemini-env"
    await gemini.complete(ask())
    assert str(seen[0].url) == "https://proxy.example/v1beta/models/gemini-env:generateContent"
    assert seen[0].headers["x-goog-api-key"] == KEY
    assert KEY not in repr(gemini)


async def test_keywords_beat_the_environment_and_request_model_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GEMINI_MODEL", "gemini-env")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=answer([{"text": "ok"}]))

    gemini = provider(handler, default_model="gemini-kw")
    assert gemini.default_model == "gemini-kw"
    await gemini.complete(ask())
    await gemini.complete(ask(model="gemini-request"))
    assert [r.url.path for r in seen] == [
        "/v1beta/models/gemini-kw:generateContent",
        "/v1beta/models/gemini-request:generateContent",
    ]
    assert all("key" not in str(r.url) for r in seen)


async def test_a_custom_base_url_needs_no_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=answer([{"text": "ok"}]))

    gemini = provider(handler, api_key=None, base_url="http://gateway.local/v1beta")
    assert (await gemini.complete(ask())).text == "ok"
    assert "x-goog-api-key" not in seen[0].headers


async def test_owned_client_is_closed_and_borrowed_one_is_not() -> None:
    borrowed = httpx.AsyncClient()
    async with GeminiProvider(api_key=KEY, http_client=borrowed):
        pass
    assert not borrowed.is_closed
    await borrowed.aclose()
    owned = GeminiProvider(api_key=KEY)
    await owned.aclose()  # nothing created yet: still fine


async def test_extra_headers_travel_beside_the_key_in_both_modes() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.params.get("alt") == "sse":
            return httpx.Response(
                200,
                headers={"content-type": "text/event-stream"},
                content=sse(answer([{"text": "ok"}])),
            )
        return httpx.Response(200, json=answer([{"text": "ok"}]))

    gemini = provider(handler)
    headers = {"x-team": "search", "X-Goog-Api-Key": "smuggled"}
    await gemini.complete(ask(extra_headers=headers))
    _ = [chunk async for chunk in gemini.stream(ask(extra_headers=headers))]
    assert [(r.headers["x-team"], r.headers["x-goog-api-key"]) for r in seen] == [
        ("search", KEY),
        ("search", KEY),
    ]


async def test_a_setting_the_model_cannot_take_is_refused_before_anything_is_sent() -> None:
    seen: list[httpx.Request] = []
    gemini = provider(lambda request: seen.append(request) or httpx.Response(500))
    request = ask(model="gemini-3-pro-preview", reasoning={"effort": "minimal"})
    with pytest.raises(ConfigurationError, match="'gemini-3-pro-preview' takes reasoning effort"):
        await gemini.complete(request)
    with pytest.raises(ConfigurationError, match="'gemini-3-pro-preview' takes reasoning effort"):
        _ = [chunk async for chunk in gemini.stream(request)]
    assert seen == []


def test_the_provider_claims_what_it_maps() -> None:
    claimed = GeminiProvider.capabilities
    assert [name for name in claimed.names() if claimed.claims(name)] == [
        "tools",
        "streaming",
        "image_input",
        "document_input",
        "audio_input",
        "video_input",
        "media_in_tool_results",
        "reasoning",
        "structured_output",
    ]


# --- errors and refusals -----------------------------------------------------------------


async def test_429_retry_delay_from_the_body() -> None:
    body = {
        "error": {
            "code": 429,
            "message": "Resource has been exhausted (e.g. check quota).",
            "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "12s"}],
        }
    }
    gemini = provider(lambda request: httpx.Response(429, json=body))
    with pytest.raises(RateLimitError) as info:
        await gemini.complete(ask())
    assert info.value.retry_after == 12.0
    assert "Resource has been exhausted" in str(info.value)
    with pytest.raises(RateLimitError) as streamed:
        _ = [c async for c in gemini.stream(ask())]
    assert streamed.value.retry_after == 12.0


async def test_retry_after_header_wins_over_the_body() -> None:
    body = {"error": {"code": 429, "details": [{"@type": "x.RetryInfo", "retryDelay": "9s"}]}}
    gemini = provider(lambda r: httpx.Response(429, json=body, headers={"retry-after": "2"}))
    with pytest.raises(RateLimitError) as info:
        await gemini.complete(ask())
    assert info.value.retry_after == 2.0


async def test_key_echoed_by_the_server_is_masked() -> None:
    body = {"error": {"code": 400, "message": f"API key {KEY} not valid", "status": "X"}}
    gemini = provider(lambda request: httpx.Response(400, json=body))
    with pytest.raises(ProviderError) as info:
        await gemini.complete(ask())
    assert KEY not in str(info.value)


async def test_blocked_prompt_is_a_typed_error_in_both_modes() -> None:
    body = {"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 5}}
    gemini = provider(
        lambda request: (
            httpx.Response(200, json=body)
            if request.url.path.endswith("generateContent")
            else httpx.Response(
                200, content=sse(body), headers={"content-type": "text/event-stream"}
            )
        )
    )
    with pytest.raises(ResponseBlockedError) as info:
        await gemini.complete(ask())
    assert info.value.reason == "SAFETY"
    with pytest.raises(ResponseBlockedError) as streamed:
        _ = [c async for c in gemini.stream(ask())]
    assert streamed.value.reason == "SAFETY"


async def test_empty_candidate_says_why() -> None:
    body = {
        "candidates": [
            {
                "finishReason": "SAFETY",
                "safetyRatings": [
                    {"category": "HARM_CATEGORY_HARASSMENT", "probability": "HIGH", "blocked": True}
                ],
            }
        ]
    }
    gemini = provider(lambda request: httpx.Response(200, json=body))
    with pytest.raises(ResponseBlockedError, match="HARM_CATEGORY_HARASSMENT") as info:
        await gemini.complete(ask())
    assert info.value.reason == "SAFETY"


async def test_no_candidate_at_all_is_an_error() -> None:
    gemini = provider(lambda request: httpx.Response(200, json={"usageMetadata": {}}))
    with pytest.raises(ResponseBlockedError, match="no candidate"):
        await gemini.complete(ask())


async def test_thinking_that_used_every_token_is_a_length_stop_not_an_error() -> None:
    body = answer([{"text": "hmm", "thought": True}], finish="MAX_TOKENS")
    response = await provider(lambda request: httpx.Response(200, json=body)).complete(ask())
    assert (response.text, response.reasoning_text, response.finish_reason) == ("", "hmm", "length")


# --- streaming -----------------------------------------------------------------------------


def streaming(body: AsyncIterator[bytes] | bytes) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params["alt"] == "sse"
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    return handler


async def test_stream_broken_mid_way_is_interrupted_with_count() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield sse(answer([{"text": "Hel"}], finish=None))
        raise httpx.ReadError("connection reset")

    gemini = provider(streaming(body()))
    received: list[LLMStreamChunk] = []

    async def consume() -> None:
        async for chunk in gemini.stream(ask()):
            received.append(chunk)

    with pytest.raises(StreamInterruptedError) as info:
        await consume()
    assert [c.text for c in received] == ["Hel"]
    assert info.value.chunks_received == 1


async def test_stream_that_ends_without_finish_reason_is_interrupted() -> None:
    first = {"candidates": [{"content": {"parts": [{"text": "Hel"}]}}]}
    gemini = provider(streaming(sse(first)))
    with pytest.raises(StreamInterruptedError, match="without a finish reason") as info:
        _ = [c async for c in gemini.stream(ask())]
    assert info.value.chunks_received == 1


async def test_stream_event_that_is_not_json_is_interrupted() -> None:
    body = sse(answer([{"text": "a"}], finish=None)) + b"data: {not json\r\n\r\n"
    with pytest.raises(StreamInterruptedError, match="not JSON") as info:
        _ = [c async for c in provider(streaming(body)).stream(ask())]
    assert info.value.chunks_received == 1


async def test_in_band_error_event_is_typed() -> None:
    error = {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}
    with pytest.raises(ServerError, match="overloaded") as info:
        _ = [c async for c in provider(streaming(sse(error))).stream(ask())]
    assert info.value.status_code == 503


async def test_in_band_429_mid_stream_keeps_its_type_and_retry_delay() -> None:
    error = {
        "error": {
            "code": 429,
            "message": "Quota exceeded.",
            "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}],
        }
    }
    body = sse(answer([{"text": "a"}], finish=None), error)
    with pytest.raises(RateLimitError, match="Quota exceeded") as info:
        _ = [c async for c in provider(streaming(body)).stream(ask())]
    assert info.value.retry_after == 7.0


@pytest.mark.parametrize("data", ['{"message": "backend gone"}', "backend gone"])
async def test_error_event_without_an_error_key_is_raised(data: str) -> None:
    body = (
        sse(answer([{"text": "a"}], finish=None)) + f"event: error\r\ndata: {data}\r\n\r\n".encode()
    )
    with pytest.raises(ServerError, match="backend gone"):
        _ = [c async for c in provider(streaming(body)).stream(ask())]


@pytest.mark.parametrize("wrap", [False, True])
async def test_error_in_a_200_body_is_typed_by_its_code(wrap: bool) -> None:
    error: Any = {"error": {"code": 503, "message": "Overloaded.", "status": "UNAVAILABLE"}}
    body = [error] if wrap else error
    gemini = provider(lambda request: httpx.Response(200, json=body))
    with pytest.raises(ServerError, match="Overloaded") as info:
        await gemini.complete(ask())
    assert info.value.status_code == 503
    assert is_retryable(info.value)


@pytest.mark.parametrize("wrap", [False, True])
async def test_in_band_429_in_a_200_body_keeps_its_retry_delay_in_both_modes(wrap: bool) -> None:
    error: Any = {
        "error": {
            "code": 429,
            "message": "Quota exceeded.",
            "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}],
        }
    }
    body = [error] if wrap else error
    gemini = provider(lambda request: httpx.Response(200, json=body))
    with pytest.raises(RateLimitError) as whole:
        await gemini.complete(ask())
    with pytest.raises(RateLimitError) as streamed:  # stream() used to drop the delay
        _ = [c async for c in gemini.stream(ask())]
    for caught in (whole.value, streamed.value):
        assert (caught.retry_after, caught.status_code) == (7.0, 429)


async def test_broken_stream_error_is_counted_not_rebuilt() -> None:
    cut = httpx.ReadError("connection reset")

    async def body() -> AsyncIterator[bytes]:
        yield sse(answer([{"text": "Hel"}], finish=None))
        raise cut

    with pytest.raises(StreamInterruptedError) as info:
        _ = [c async for c in provider(streaming(body())).stream(ask())]
    # The count is set on core's own error: its cause and status stay as they were.
    assert info.value.chunks_received == 1
    assert (info.value.__cause__, info.value.status_code) == (cut, 200)


async def test_blank_keep_alive_event_is_ignored() -> None:
    body = b"data: \r\n\r\n" + sse(answer([{"text": "hi"}]))
    chunks = [c async for c in provider(streaming(body)).stream(ask())]
    assert [c.text for c in chunks] == ["hi", ""]


async def test_a_json_body_where_events_were_asked_for_is_refused_clearly() -> None:
    body = [answer([{"text": "hi"}])]
    gemini = provider(lambda request: httpx.Response(200, json=body))
    with pytest.raises(UnexpectedResponseError, match=r"instead of server-sent.*alt=sse") as info:
        _ = [c async for c in gemini.stream(ask())]
    assert info.value.status_code == 200
    assert not is_retryable(info.value)  # the same request gets the same answer
    assert "unexpected status" not in str(info.value)


async def test_thought_only_answer_says_reasoning_came_back() -> None:
    body = answer([{"text": "let me think", "thought": True}], finish="STOP")
    with pytest.raises(ResponseBlockedError, match="12 characters of reasoning") as info:
        await provider(lambda request: httpx.Response(200, json=body)).complete(ask())
    assert info.value.reason == "STOP"
    assert "let me think" not in str(info.value)  # may quote the prompt; never logged
    chunks: list[LLMStreamChunk] = []

    async def consume() -> None:
        async for chunk in provider(streaming(sse(body))).stream(ask()):
            chunks.append(chunk)

    with pytest.raises(ResponseBlockedError, match="12 characters of reasoning"):
        await consume()
    assert [c.reasoning_text for c in chunks] == ["let me think"]  # delivered as it came


async def test_stream_splits_thoughts_text_and_calls_and_counts_usage_once() -> None:
    events = [
        {
            "candidates": [{"content": {"parts": [{"text": "think", "thought": True}]}}],
            "usageMetadata": {"promptTokenCount": 7, "thoughtsTokenCount": 4},
            "responseId": "r1",
        },
        {
            "candidates": [{"content": {"parts": [{"text": "Calling."}]}}],
            "usageMetadata": {"promptTokenCount": 7, "thoughtsTokenCount": 4},
        },
        {
            "candidates": [
                {
                    "content": {
                        "parts": [
                            {"functionCall": {"name": "f", "args": {"x": 1}}},
                            {"functionCall": {"name": "f", "args": {"x": 2}}},
                        ]
                    },
                    "finishReason": "STOP",
                }
            ],
            "usageMetadata": {
                "promptTokenCount": 7,
                "candidatesTokenCount": 9,
                "thoughtsTokenCount": 4,
            },
            "modelVersion": "gemini-x",
        },
    ]
    chunks = [c async for c in provider(streaming(sse(*events))).stream(ask())]
    assert [(c.text, c.reasoning_text) for c in chunks[:2]] == [("", "think"), ("Calling.", "")]
    calls = chunks[2].tool_calls
    assert [c.arguments for c in calls] == [{"x": 1}, {"x": 2}]
    assert calls[0].id != calls[1].id
    last = chunks[-1]
    assert len(chunks) == 4
    assert (last.finish_reason, last.input_tokens, last.output_tokens) == ("tool_calls", 7, 13)
    assert (last.reasoning_tokens, last.model, last.response_id) == (4, "gemini-x", "r1")


async def test_stream_of_silence_is_an_error() -> None:
    events = {"candidates": [{"content": {"parts": []}, "finishReason": "RECITATION"}]}
    with pytest.raises(ResponseBlockedError) as info:
        _ = [c async for c in provider(streaming(sse(events))).stream(ask())]
    assert info.value.reason == "RECITATION"


# --- Gemini 3 thought signatures -------------------------------------------------------


async def test_thought_signature_goes_back_with_its_call() -> None:
    sent: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        if len(sent) == 1:
            call = {"functionCall": {"name": "f", "args": {}}, "thoughtSignature": "SIG"}
            return httpx.Response(200, json=answer([call]))
        return httpx.Response(200, json=answer([{"text": "done"}]))

    gemini = provider(handler)
    first = await gemini.complete(ask())
    (call,) = first.tool_calls
    follow_up = [
        *ask().messages,
        Message(role="assistant", tool_calls=[call]),
        Message(role="tool", tool_call_id=call.id, content="42"),
    ]
    assert (await gemini.complete(LLMRequest(messages=follow_up))).text == "done"
    model_turn = sent[1]["contents"][1]
    assert model_turn == {
        "role": "model",
        "parts": [{"functionCall": {"name": "f", "args": {}}, "thoughtSignature": "SIG"}],
    }
    assert sent[1]["contents"][2]["parts"] == [
        {"functionResponse": {"name": "f", "response": {"result": "42"}}}
    ]
    # The signature is on the call itself: a conversation stored as JSON (a session store)
    # and continued by another provider object, in another process, still sends it.
    stored = ToolCall.model_validate_json(call.model_dump_json())
    payload = provider(handler)._payload(
        LLMRequest(messages=[*ask().messages, Message(role="assistant", tool_calls=[stored])])
    )
    assert payload["contents"][1]["parts"][0]["thoughtSignature"] == "SIG"
    # A call that came without one goes back without one.
    other = ToolCall(id="elsewhere", name="f")
    payload = gemini._payload(LLMRequest(messages=[Message(role="assistant", tool_calls=[other])]))
    assert "thoughtSignature" not in payload["contents"][0]["parts"][0]


# --- packaging -----------------------------------------------------------------------------


def test_public_names() -> None:
    public = sorted(name for name in dir(aether_gemini) if not name.startswith("_"))
    assert aether_gemini.__all__ == sorted(aether_gemini.__all__)
    assert set(aether_gemini.__all__) == set(public) - {"annotations"}
    assert {"MODELS", "GeminiTraits"} <= set(aether_gemini.__all__)
    assert isinstance(aether_gemini.MODELS, ModelTable)
    assert isinstance(aether_gemini.MODELS.default, aether_gemini.GeminiTraits)


def test_plugin_registers_gemini_with_its_variables() -> None:
    registered: list[tuple[str, Any, dict[str, Any]]] = []
    register_providers(lambda name, obj, /, **meta: registered.append((name, obj, meta)))
    assert registered == [
        ("gemini", GeminiProvider, {"api_key_env": "GEMINI_API_KEY", "model_env": "GEMINI_MODEL"})
    ]
    (point,) = [ep for ep in entry_points(group="aether.providers") if ep.name == "gemini"]
    assert point.value == "aether_gemini._plugin"


async def test_invalid_api_key_400_is_an_authentication_error() -> None:
    body = {
        "error": {
            "code": 400,
            "message": "API key not valid. Please pass a valid API key.",
            "status": "INVALID_ARGUMENT",
            "details": [
                {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}
            ],
        }
    }
    gemini = provider(lambda request: httpx.Response(400, json=body))
    for call in (gemini.complete(ask()), _drain(gemini.stream(ask()))):
        with pytest.raises(AuthenticationError) as info:
            await call
        assert info.value.status_code == 400
        assert isinstance(info.value.__cause__, BadRequestError)
        # Gemini's words whole and first, then what to check; not the hint for a bad request.
        words = "API key not valid. Please pass a valid API key."
        assert str(info.value).startswith(f"[gemini HTTP 400] {words} Check GEMINI_API_KEY")
        assert info.value.provider_message == words
        assert "parameters" not in str(info.value)


async def test_other_400s_stay_bad_requests() -> None:
    body = {
        "error": {"code": 400, "message": "Invalid JSON payload.", "status": "INVALID_ARGUMENT"}
    }
    gemini = provider(lambda request: httpx.Response(400, json=body))
    with pytest.raises(BadRequestError, match="Invalid JSON payload"):
        await gemini.complete(ask())


async def _drain(chunks: AsyncIterator[LLMStreamChunk]) -> None:
    async for _ in chunks:
        pass


def test_built_by_name_through_the_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    monkeypatch.setenv("GEMINI_MODEL", "gemini-from-env")
    built = create_provider("gemini")
    assert isinstance(built, GeminiProvider)
    assert built.default_model == "gemini-from-env"
    assert built.name == "gemini"  # what errors and the circuit breaker call it
