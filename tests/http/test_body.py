"""Request bodies: compact UTF-8 JSON, with Base64Data written as its text without a JSON pass."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import httpx
import pytest

from aether.http import Base64Data, HTTPProviderClient
from aether.http._body import dumps


def _reference(body: Any) -> bytes:
    """What ``json.dumps`` writes for ``body`` with each Base64Data's text in its place."""

    def text(value: object) -> str:
        assert isinstance(value, Base64Data)
        return value.text

    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=text).encode()


def test_a_body_without_data_is_compact_utf8_json() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": 'héllo \u2603 "q" \n'}]}
    assert dumps(body) == json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def test_data_is_written_as_the_text_it_stands_for() -> None:
    png, mp3 = os.urandom(3001), b"\xff\xfb" + os.urandom(100)
    body = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "é, then two:"},
                    {
                        "type": "image_url",
                        "image_url": {"url": Base64Data(png, "data:image/png;base64,")},
                    },
                    {"type": "input_audio", "input_audio": {"data": Base64Data(mp3)}},
                ],
            }
        ],
        "last": [Base64Data(b""), "after"],
    }
    sent = dumps(body)
    assert sent == _reference(body)
    parsed = json.loads(sent)
    url = parsed["messages"][0]["content"][1]["image_url"]["url"]
    assert base64.b64decode(url.removeprefix("data:image/png;base64,")) == png
    assert parsed["last"] == ["", "after"]


def test_a_prefix_is_escaped_as_json() -> None:
    body = {"value": Base64Data(b"\x00\x01", prefix='say "é"\n\\ ')}
    assert json.loads(dumps(body)) == {"value": 'say "é"\n\\ AAE='}
    assert dumps(body) == _reference(body)


def test_text_that_looks_like_the_mark_is_sent_as_it_is() -> None:
    lookalike = "\x00base64:0123456789abcdef\x00"
    body = {"a": lookalike, "b": Base64Data(b"x")}
    assert json.loads(dumps(body)) == {"a": lookalike, "b": "eA=="}


class _Opaque:
    pass


def test_what_is_not_json_is_refused_as_json_refuses_it() -> None:
    with pytest.raises(TypeError, match="Object of type _Opaque is not JSON serializable"):
        dumps({"a": _Opaque()})
    with pytest.raises(TypeError, match="Object of type _Opaque is not JSON serializable"):
        dumps({"a": Base64Data(b"x"), "b": [_Opaque()]})


def test_bodies_equal_what_json_dumps_writes_for_json_types() -> None:
    body = {
        "s": 'é \u2028 \x00 \\ "q" \t',
        "numbers": [0.1 + 0.2, 1e16, -0.0, 1e-7, 2**70, -5, 5e-324, 1.7976931348623157e308],
        "flags": [True, False, None],
        "nested": {"1": [{}, []], "tuple": (1, "two")},
        "keys": {1: "int", 2.5: "float", False: "bool"},
    }
    assert json.loads(dumps(body)) == json.loads(json.dumps(body))
    assert dumps({"a": [1, "b", None]}) == b'{"a":[1,"b",null]}'


def test_nan_and_infinity_are_written_as_json_dumps_writes_them() -> None:
    # Never null: the provider's error then names the field instead of a silent other value.
    assert dumps({"t": float("nan"), "u": float("inf")}) == b'{"t":NaN,"u":Infinity}'


def test_a_body_that_contains_itself_or_broken_text_is_a_clear_error() -> None:
    body: dict[str, Any] = {}
    body["self"] = body
    with pytest.raises(ValueError, match="Circular reference"):
        dumps(body)
    with pytest.raises(ValueError, match="not valid Unicode"):
        dumps({"text": "abc\udc80"})


def test_data_equals_its_text_and_never_shows_its_bytes() -> None:
    data = Base64Data(b"secret bytes", prefix="data:text/plain;base64,")
    text = "data:text/plain;base64," + base64.b64encode(b"secret bytes").decode()
    assert data == text and text == data and data.text == text
    assert {"url": data} == {"url": text}
    assert data == Base64Data(b"secret bytes", prefix="data:text/plain;base64,")
    assert data != Base64Data(b"secret bytes")
    assert data != 3
    assert repr(data) == "Base64Data(prefix='data:text/plain;base64,', size=12)"


@pytest.mark.parametrize("streaming", [False, True])
async def test_the_client_sends_data_as_its_text(streaming: bool) -> None:
    image = os.urandom(100_000)
    seen: list[bytes] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.content)
        if streaming:
            events = b'data: {"ok": true}\n\n'
            return httpx.Response(
                200, headers={"content-type": "text/event-stream"}, content=events
            )
        return httpx.Response(200, json={"ok": True})

    http = HTTPProviderClient(
        provider="acme",
        base_url="https://api.acme.test/v1",
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(answer)),
    )
    body = {"input": {"image": Base64Data(image, prefix="data:image/png;base64,")}}
    if streaming:
        _ = [event async for event in http.stream_sse("chat", body)]
    else:
        assert await http.post_json("chat", body) == {"ok": True}
    sent = json.loads(seen[0])["input"]["image"]
    assert base64.b64decode(sent.removeprefix("data:image/png;base64,")) == image
