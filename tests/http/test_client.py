"""HTTPProviderClient: JSON calls, SSE streams, error mapping, and response clean-up."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import httpx
import pytest

from aether.errors import (
    AuthenticationError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
    UnexpectedResponseError,
)
from aether.extensions.llm.retrying import is_retryable
from aether.http import HTTPProviderClient, ServerSentEvent


class TrackedStream(httpx.AsyncByteStream):
    """A body that yields ``chunks``, may then fail or hang, and records being closed."""

    def __init__(
        self, chunks: list[bytes], *, fail: Exception | None = None, hang: bool = False
    ) -> None:
        self.chunks = chunks
        self.fail = fail
        self.hang = hang
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk
        if self.hang:
            await asyncio.Event().wait()
        if self.fail is not None:
            raise self.fail

    async def aclose(self) -> None:
        self.closed = True


def make(handler: Any, **kwargs: Any) -> HTTPProviderClient:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return HTTPProviderClient(
        provider="acme", base_url="https://api.acme.test/v1/", http_client=client, **kwargs
    )


async def test_post_json_sends_headers_and_body() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    http = make(handler, headers={"authorization": "Bearer k"})
    assert await http.post_json("/chat", {"q": "é"}) == {"ok": True}
    request = seen[0]
    assert str(request.url) == "https://api.acme.test/v1/chat"
    assert request.headers["authorization"] == "Bearer k"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {"q": "é"}


async def test_post_json_maps_status_errors() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            429,
            json={"error": {"message": "Too many"}},
            headers={"retry-after": "4", "x-request-id": "req_1"},
        )

    with pytest.raises(RateLimitError) as info:
        await make(handler).post_json("chat", {})
    assert info.value.retry_after == 4.0
    assert info.value.request_id == "req_1"
    assert "Too many" in str(info.value)


async def test_retry_after_from_body_hook() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, json=[{"error": {"message": "x", "delay": 7}}])

    def hook(body: Any) -> float | None:
        return float(body[0]["error"]["delay"])

    with pytest.raises(RateLimitError) as info:
        await make(handler, retry_after_from_body=hook).post_json("chat", {})
    assert info.value.retry_after == 7.0


async def test_post_json_rejects_non_json_success() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>proxy</html>")

    with pytest.raises(ProviderError, match="not JSON"):
        await make(handler).post_json("chat", {})


@pytest.mark.parametrize(
    ("exc", "cls"),
    [
        (httpx.ConnectTimeout("t"), ProviderTimeoutError),
        (httpx.ConnectError("refused"), ProviderConnectionError),
    ],
)
async def test_transport_errors(exc: Exception, cls: type[ProviderError]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    with pytest.raises(cls):
        await make(handler).post_json("chat", {})
    with pytest.raises(cls):
        _ = [e async for e in make(handler).stream_sse("chat", {})]


async def test_stream_yields_events_and_closes() -> None:
    body = TrackedStream([b"data: 1\n", b"\ndata: 2\n\n"])

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["accept"] == "text/event-stream"
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=body)

    events = [e async for e in make(handler).stream_sse("chat", {})]
    assert events == [ServerSentEvent(data="1"), ServerSentEvent(data="2")]
    assert body.closed


async def test_stream_error_status_reads_body_and_closes() -> None:
    body = TrackedStream([b'{"error": {"message": "bad key"}}'])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, stream=body)

    with pytest.raises(AuthenticationError, match="bad key"):
        _ = [e async for e in make(handler).stream_sse("chat", {})]
    assert body.closed


async def test_stream_json_instead_of_sse() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"error": {"message": "stream unsupported"}})

    with pytest.raises(ProviderError, match="stream unsupported"):
        _ = [e async for e in make(handler).stream_sse("chat", {})]


@pytest.mark.parametrize(
    "fail", [httpx.ReadError("reset"), httpx.RemoteProtocolError("eof"), httpx.ReadTimeout("t")]
)
async def test_mid_stream_failure_is_interrupted(fail: Exception) -> None:
    body = TrackedStream([b"data: 1\n\n"], fail=fail)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=body)

    got: list[ServerSentEvent] = []

    async def consume() -> None:
        async for event in make(handler).stream_sse("chat", {}):
            got.append(event)

    with pytest.raises(StreamInterruptedError) as info:
        await consume()
    assert got == [ServerSentEvent(data="1")]
    assert info.value.__cause__ is fail
    assert body.closed


async def test_early_close_releases_response() -> None:
    body = TrackedStream([b"data: 1\n\n", b"data: 2\n\n"], hang=True)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=body)

    async with aclosing(make(handler).stream_sse("chat", {})) as events:
        async for _event in events:
            break
    assert body.closed


async def test_cancellation_releases_response() -> None:
    body = TrackedStream([b"data: 1\n\n"], hang=True)
    started = asyncio.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=body)

    async def consume() -> None:
        async for _event in make(handler).stream_sse("chat", {}):
            started.set()

    task = asyncio.create_task(consume())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert body.closed


async def test_borrowed_client_is_not_closed() -> None:
    client = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    http = HTTPProviderClient(provider="acme", base_url="http://x", http_client=client)
    async with http:
        pass
    assert not client.is_closed
    await client.aclose()


async def test_owned_client_is_created_lazily_and_closed() -> None:
    http = HTTPProviderClient(provider="acme", base_url="http://127.0.0.1:9")
    assert http._client is None
    created = http._get_client()
    await http.aclose()
    assert created.is_closed
    assert http._client is None  # the next call builds a fresh one


async def test_server_error_on_stream() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, text="upstream down")

    with pytest.raises(ServerError, match="upstream down"):
        _ = [e async for e in make(handler).stream_sse("chat", {})]


def test_repr_hides_headers_and_secrets() -> None:
    http = HTTPProviderClient(
        provider="acme",
        base_url="http://x/v1",
        headers={"authorization": "Bearer sk-zzz"},
        secrets=["sk-zzz"],
    )
    assert "sk-zzz" not in repr(http)
    assert "acme" in repr(http)
    assert http.url("/a?b=1") == "http://x/v1/a?b=1"
    assert http.base_url == "http://x/v1"


async def test_secret_masked_in_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": {"message": "bad key sk-zzz"}})

    with pytest.raises(AuthenticationError) as info:
        await make(handler, secrets=["sk-zzz"]).post_json("x", {})
    assert "sk-zzz" not in str(info.value)


async def test_stream_decodes_a_gzip_body() -> None:
    body = TrackedStream([gzip.compress(b"data: 1\n\ndata: 2\n\n")])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-encoding": "gzip"}, stream=body)

    events = [e async for e in make(handler).stream_sse("chat", {})]
    assert [e.data for e in events] == ["1", "2"]


# --- errors reported inside a 2xx exchange (in-band) ----------------------------------------


def _gemini_delay(body: Any) -> float | None:
    """A retry_after_from_body hook shaped like Gemini's: RetryInfo.retryDelay, "7s"."""
    if isinstance(body, list) and body:
        body = body[0]
    error = body.get("error") if isinstance(body, dict) else None
    for detail in error.get("details", []) if isinstance(error, dict) else []:
        if str(detail.get("@type", "")).endswith("RetryInfo"):
            return float(detail["retryDelay"].rstrip("s"))
    return None


_QUOTA = {
    "error": {
        "code": 429,
        "message": "Quota exceeded.",
        "status": "RESOURCE_EXHAUSTED",
        "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}],
    }
}


@pytest.mark.parametrize("body", [_QUOTA, [_QUOTA]], ids=["object", "wrapped"])
async def test_retry_hook_reaches_an_in_band_error_in_every_mode(body: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body)

    http = make(handler, retry_after_from_body=_gemini_delay)
    with pytest.raises(RateLimitError) as whole:
        await http.post_json("chat", {})
    # The same 200 body answering a stream request used to lose the delay.
    with pytest.raises(RateLimitError) as streamed:
        _ = [e async for e in http.stream_sse("chat", {})]
    for error in (whole.value, streamed.value):
        assert (error.retry_after, error.status_code) == (7.0, 429)
        assert "Quota exceeded" in str(error)


@pytest.mark.parametrize(
    ("body", "cls"),
    [
        ({"error": {"message": "busy", "type": "server_error"}}, ServerError),
        ([{"error": {"code": 503, "message": "busy", "status": "UNAVAILABLE"}}], ServerError),
        ({"type": "error", "error": {"type": "overloaded_error", "message": "busy"}},
         RateLimitError),
        ({"error": "busy"}, ProviderError),  # names no kind: not guessed as a server failure
    ],
)  # fmt: skip
async def test_post_json_raises_the_error_a_2xx_body_reports(
    body: Any, cls: type[ProviderError]
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body, headers={"x-request-id": "req_200"})

    with pytest.raises(ProviderError, match="busy") as info:
        await make(handler).post_json("chat", {})
    assert type(info.value) is cls
    assert info.value.request_id == "req_200"  # from the headers of the answer that carried it


async def test_in_band_error_headers_win_over_the_retry_hook() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=_QUOTA, headers={"retry-after": "2"})

    with pytest.raises(RateLimitError) as info:
        await make(handler, retry_after_from_body=_gemini_delay).post_json("chat", {})
    assert info.value.retry_after == 2.0  # as for a 429 status: the header first


@pytest.mark.parametrize(
    "body",
    [{"error": None, "id": "x"}, {"error": "", "id": "x"}, {"type": "message", "id": "x"}, []],
)
async def test_post_json_returns_bodies_that_report_no_error(body: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body)

    assert await make(handler).post_json("chat", {}) == body


async def test_answer_keys_keep_an_answer_that_carries_an_error_member() -> None:
    body = {"choices": [{"message": {"content": "hi"}}], "error": {"message": "partial"}}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body)

    http = make(handler, answer_keys=("choices",))
    assert await http.post_json("chat", {}) == body
    # The same rule for a stream request: an answer, just not an event stream.
    with pytest.raises(UnexpectedResponseError, match="where an event stream") as info:
        _ = [e async for e in http.stream_sse("chat", {})]
    assert not is_retryable(info.value)
    with pytest.raises(ProviderError, match="partial"):  # without answer_keys: an error
        await make(handler).post_json("chat", {})


def _event(data: str, name: str = "message") -> ServerSentEvent:
    return ServerSentEvent(event=name, data=data)


def test_decode_event_returns_the_object() -> None:
    http = make(lambda r: httpx.Response(200))
    assert http.decode_event(_event('{"n": 1, "error": null}')) == {"n": 1, "error": None}
    # Blank data (a keep-alive) carries nothing; no provider needs a special case for it.
    assert http.decode_event(_event("")) == {}
    assert http.decode_event(_event("  ")) == {}


@pytest.mark.parametrize(
    ("event", "cls"),
    [
        (_event('{"error": {"message": "boom", "type": "server_error"}}'), ServerError),
        (_event('{"type": "error", "error": {"type": "overloaded_error", "message": "boom"}}'),
         RateLimitError),
        (_event('{"type": "error", "message": "boom"}'), ServerError),  # Responses API shape
        (_event('{"message": "boom"}', "error"), ServerError),
        (_event("boom: upstream died", "error"), ServerError),
        (_event('{"error": {"message": "boom"}, "choices": []}'), ServerError),
    ],
)  # fmt: skip
def test_decode_event_raises_the_error_an_event_reports(
    event: ServerSentEvent, cls: type[ProviderError]
) -> None:
    with pytest.raises(ProviderError, match="boom") as info:
        make(lambda r: httpx.Response(200)).decode_event(event)
    assert type(info.value) is cls
    assert info.value.provider == "acme"
    assert info.value.status_code is None  # the exchange itself said 200


def test_decode_event_applies_the_retry_hook() -> None:
    http = make(lambda r: httpx.Response(200), retry_after_from_body=_gemini_delay)
    for event in (_event(json.dumps(_QUOTA)), _event(json.dumps(_QUOTA), "error")):
        with pytest.raises(RateLimitError) as info:
            http.decode_event(event)
        assert info.value.retry_after == 7.0


@pytest.mark.parametrize(
    ("data", "what"),
    [("{nope sk-zzz", "not JSON"), ("[1, 2]", "not a JSON object"), ('"sk-zzz"', "not a JSON")],
)
def test_decode_event_refuses_what_is_not_a_json_object(data: str, what: str) -> None:
    http = make(lambda r: httpx.Response(200), secrets=["sk-zzz"])
    with pytest.raises(StreamInterruptedError, match=what) as info:
        http.decode_event(_event(data))
    assert info.value.chunks_received == 0  # the provider sets it: set_chunks_received
    assert "sk-zzz" not in str(info.value)


async def test_not_an_event_stream_hint_replaces_the_advice() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"candidates": []})

    hint = "The ?alt=sse query was lost on the way."
    with pytest.raises(UnexpectedResponseError) as info:
        _ = [e async for e in make(handler, not_an_event_stream_hint=hint).stream_sse("x", {})]
    # The 2xx status, and what the provider knows about it in place of the general advice.
    assert info.value.status_code == 200
    assert "where an event stream" in str(info.value) and hint in str(info.value)
    assert "does not point at" not in str(info.value)


async def test_unexpected_bodies_quoted_in_errors_are_redacted() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("html"):
            return httpx.Response(200, text="<html>key sk-zzz</html>")
        return httpx.Response(200, json={"echo": "key sk-zzz"})

    http = make(handler, secrets=["sk-zzz"])
    with pytest.raises(UnexpectedResponseError, match="not JSON") as whole:
        await http.post_json("html", {})
    with pytest.raises(UnexpectedResponseError, match="where an event stream") as streamed:
        _ = [e async for e in http.stream_sse("json", {})]
    for error in (whole.value, streamed.value):
        assert "sk-zzz" not in str(error) and "key ***" in str(error)


@pytest.mark.parametrize(
    ("fail", "cls"),
    [
        (httpx.RemoteProtocolError("peer closed"), ProviderConnectionError),
        (httpx.ReadTimeout("slow"), ProviderTimeoutError),
    ],
)
async def test_stream_error_body_that_fails_to_read_is_a_transport_error(
    fail: Exception, cls: type[ProviderError]
) -> None:
    # No event reached anyone: the call failed to start, it was not interrupted.
    body = TrackedStream([b'{"error": {"mess'], fail=fail)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, stream=body)

    with pytest.raises(cls) as info:
        _ = [e async for e in make(handler).stream_sse("chat", {})]
    assert not isinstance(info.value, StreamInterruptedError)
    assert info.value.__cause__ is fail
    assert body.closed


@pytest.mark.parametrize(
    ("body", "answer"),
    [
        ({"choices": []}, True),
        ([{"choices": []}], True),  # wrapped in a one-element list, as some front ends do
        ({"status": "ok"}, False),
        ([1, 2], False),
        ("ok", False),
    ],
)
async def test_answer_keys_tell_an_answer_from_another_services_json(
    body: Any, answer: bool
) -> None:
    http = make(lambda request: httpx.Response(200, json=body), answer_keys=("choices",))
    if answer:
        assert await http.post_json("chat", {}) == body
        return
    with pytest.raises(UnexpectedResponseError) as info:
        await http.post_json("chat", {})
    assert "a JSON body that is not an answer of the acme API" in str(info.value)
    assert "The base URL (https://api.acme.test/v1) most likely does not point" in str(info.value)
    assert not is_retryable(info.value)


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/octet-stream"])
async def test_events_under_another_type_are_read_and_none_at_all_is_refused(
    content_type: str | None,
) -> None:
    headers = {"content-type": content_type} if content_type else {}

    def handler(request: httpx.Request) -> httpx.Response:
        body = b'data: {"n": 1}\n\n' if request.url.path.endswith("events") else b"It works!"
        return httpx.Response(200, headers=headers, content=body)

    http = make(handler)
    assert [e.data async for e in http.stream_sse("events", {})] == ['{"n": 1}']
    with pytest.raises(UnexpectedResponseError) as info:
        _ = [e async for e in http.stream_sse("page", {})]
    assert "holding no server-sent event ('It works!') where an event stream" in str(info.value)


async def test_call_headers_go_beside_the_clients_own_which_win() -> None:
    import httpx

    from aether.http import HTTPProviderClient

    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("stream"):
            return httpx.Response(
                200, headers={"content-type": "text/event-stream"}, content=b"data: {}\n\n"
            )
        return httpx.Response(200, json={"ok": True})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = HTTPProviderClient(
            provider="acme",
            base_url="https://api.acme.test/v1",
            headers={"Authorization": "Bearer real"},
            http_client=http,
        )
        extra = {"x-trace": "t1", "authorization": "Bearer other"}
        await client.post_json("reply", {}, headers=extra)
        async for _ in client.stream_sse("stream", {}, headers=extra):
            pass
    for request in seen:
        assert request.headers["x-trace"] == "t1"
        assert request.headers.get_list("authorization") == ["Bearer real"]
