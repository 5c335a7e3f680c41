"""A canary key, echoed back by a server on 127.0.0.1, through every error path of every
provider, whole and streamed, over the transport this run uses (``--http-transport``).

Each error is checked whole: ``str``, ``repr``, the formatted traceback of its chain, every
chained exception's attributes and the headers of any request one of them holds must hold
no run of 8 characters of the key (see ``_canary``).
"""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest

from aether.errors import (
    AetherError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    StreamInterruptedError,
)
from aether.http import HTTPProviderClient
from tests.security._canary import CANARY, WIDE_CANARY, assert_error_clean, echoes
from tests.security._providers import WIRE_IDS, WIRES, Wire, call, sse
from tests.security._server import CLOSE, HANG, Answer, key_of, scripted
from tests.support.loopback import Request

STATUSES = (400, 401, 403, 404, 429, 500)
MODES = pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
PROVIDERS = pytest.mark.parametrize("wire", WIRES, ids=WIRE_IDS)


def _all_forms(key: str) -> str:
    return " | ".join(echoes(key).values())


def _echoing_headers(key: str) -> dict[str, str]:
    return {"x-request-id": key, "retry-after": key, "x-should-retry": key, "x-echo": key}


def _json_error(key: str) -> bytes:
    error = {"message": _all_forms(key), "type": key, "code": key, "status": key}
    return json.dumps({"error": {**error, "request_id": key}, "request_id": key}).encode()


def _text_error(key: str) -> bytes:
    forms = echoes(key)
    # The key straddles the 500-character cut of the quoted summary.
    return (forms["straddling"] + " " + _all_forms(key)).encode()


async def _failure(provider: Any, *, stream: bool) -> AetherError:
    """What one call raised; it must raise an Aether error, never another exception."""
    with pytest.raises(AetherError) as info:
        await call(provider, stream=stream)
    return info.value


def _echoed(requests: list[Request]) -> None:
    """The server did receive the canary, so echoing it was real."""
    assert requests and all(key_of(request) == CANARY for request in requests)


@PROVIDERS
@MODES
async def test_failed_statuses_never_show_the_echoed_key(wire: Wire, stream: bool) -> None:
    cases = [(status, body) for status in STATUSES for body in (_json_error, _text_error)]
    current: list[Any] = []

    def script(request: Request, key: str) -> Answer:
        status, body = current[0]
        media = "application/json" if body is _json_error else "text/plain"
        return Answer(status, body(key), {"content-type": media, **_echoing_headers(key)})

    async with scripted(script) as server, wire.provider(server.root, CANARY) as provider:
        for case in cases:
            current[:] = [case]
            error = await _failure(provider, stream=stream)
            assert isinstance(error, ProviderError) and error.status_code == case[0]
            assert "***" in str(error)  # the key was there, and is masked
            assert_error_clean(error)
        _echoed(server.requests)


def _answers_that_are_not_the_apis(key: str) -> list[Answer]:
    forms = _all_forms(key)
    page = ("<html>" + "x" * 190 + key + " " + forms + "</html>").encode()
    return [
        Answer(200, page, {"content-type": "text/html", "x-request-id": key}),
        Answer(200, f"oops {forms}".encode(), {"content-type": f"application/{key}"}),
        Answer(200, json.dumps({"unexpected": forms}).encode(), {"x-request-id": key}),
        Answer(200, json.dumps({"error": {"message": forms, "code": 503}}).encode()),
        Answer(200, json.dumps([{"error": {"message": forms, "status": key}}]).encode()),
        Answer(
            200,
            json.dumps(
                {"promptFeedback": {"blockReason": key, "blockReasonMessage": forms}}
            ).encode(),
        ),
        Answer(
            200,
            json.dumps(
                {
                    "candidates": [
                        {
                            "finishReason": key,
                            "finishMessage": forms,
                            "safetyRatings": [{"blocked": True, "category": key}],
                        }
                    ]
                }
            ).encode(),
        ),
        Answer(200, json.dumps({"text": "", "calls": [{"name": 5, "echo": forms}]}).encode()),
        Answer(200, b"[" * 5000 + json.dumps(forms).encode() + b"]" * 5000),
    ]


@PROVIDERS
@MODES
async def test_answers_that_are_not_the_apis_never_show_the_key(wire: Wire, stream: bool) -> None:
    cases = _answers_that_are_not_the_apis(CANARY)
    current: list[int] = [0]

    def script(request: Request, key: str) -> Answer:
        return _answers_that_are_not_the_apis(key)[current[0]]

    async with scripted(script) as server, wire.provider(server.root, CANARY) as provider:
        for index in range(len(cases)):
            current[0] = index
            try:
                await call(provider, stream=stream)
            except AetherError as error:
                assert_error_clean(error)
        _echoed(server.requests)


def _bad_streams(wire: Wire, key: str) -> list[bytes]:
    forms = _all_forms(key)
    first = sse(*wire.events()[:1])  # one good event first: the stream has started
    return [
        first + sse("x" * 190 + key + " " + forms),
        first + sse(forms, name="error"),
        first + sse({"error": {"message": forms, "type": "server_error", "code": key}}),
        first + sse({"type": "error", "error": {"type": "overloaded_error", "message": forms}}),
        first + sse("[" * 5000 + json.dumps(forms) + "]" * 5000),
        first + sse(b"{" + b'"a":{' * 3000 + key.encode()),
        sse(json.dumps({"candidates": [{"finishReason": key, "finishMessage": forms}]})),
    ]


@PROVIDERS
async def test_bad_stream_events_never_show_the_key(wire: Wire) -> None:
    count = len(_bad_streams(wire, CANARY))
    current: list[int] = [0]

    def script(request: Request, key: str) -> Answer:
        body = _bad_streams(wire, key)[current[0]]
        return Answer(200, chunks=[body], headers={"x-request-id": key})

    async with scripted(script) as server, wire.provider(server.root, CANARY) as provider:
        for index in range(count):
            current[0] = index
            assert_error_clean(await _failure(provider, stream=True))
        _echoed(server.requests)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@PROVIDERS
@MODES
async def test_transport_failures_carry_no_key_nor_request_headers(
    wire: Wire, stream: bool
) -> None:
    async with wire.provider(f"http://127.0.0.1:{_free_port()}", CANARY) as provider:
        refused = await _failure(provider, stream=stream)
    assert isinstance(refused, ProviderConnectionError)
    assert_error_clean(refused)
    answers: list[Answer | str] = [CLOSE, HANG]
    if stream:
        good = sse(*wire.events()[:1])
        answers += [Answer(200, chunks=[good], end="close"), Answer(200, chunks=[good], end=HANG)]
    current: list[int] = [0]
    async with (
        scripted(lambda request, key: answers[current[0]]) as server,
        wire.provider(server.root, CANARY, timeout=0.15) as provider,
    ):
        for index, answer in enumerate(answers):
            current[0] = index
            error = await _failure(provider, stream=stream)
            expected = (ProviderConnectionError, ProviderTimeoutError, StreamInterruptedError)
            assert isinstance(error, expected), (answer, error)
            assert_error_clean(error)
        _echoed(server.requests)


@MODES
async def test_a_non_ascii_secret_is_masked_in_every_form_it_comes_back_in(stream: bool) -> None:
    """A smart-quoted key cannot be configured, but a secret given to the client may be
    anything: its UTF-8 bytes read as Latin-1 (what a server reading headers that way echoes),
    JSON-escaped, repr-escaped, percent-encoded, cut, in a header too."""
    mojibake = WIDE_CANARY.encode().decode("latin-1")
    bodies = [
        json.dumps({"error": {"message": _all_forms(WIDE_CANARY)}}).encode(),
        _text_error(WIDE_CANARY),
        _all_forms(WIDE_CANARY).encode("utf-8"),
    ]
    current: list[int] = [0]

    def script(request: Request, key: str) -> Answer:
        headers = {"content-type": "text/plain", "x-request-id": mojibake}
        return Answer(401, bodies[current[0]], headers)

    async def exchange(http: HTTPProviderClient) -> None:
        if not stream:
            await http.post_json("x", {})
            return
        async for _ in http.stream_sse("x", {}):
            pass

    async with (
        scripted(script) as server,
        HTTPProviderClient(provider="acme", base_url=server.root, secrets=[WIDE_CANARY]) as http,
    ):
        for index in range(len(bodies)):
            current[0] = index
            with pytest.raises(ProviderError) as info:
                await exchange(http)
            assert "***" in str(info.value)
            assert_error_clean(info.value)
