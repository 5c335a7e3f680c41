"""HTTPProviderBase: the repr, aclose and ``async with`` that providers no longer write, and
answers that cannot be read turned into typed errors."""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator
from typing import Any

import httpx
import pytest

from aether.errors import StreamInterruptedError, UnexpectedResponseError
from aether.http import HTTPProviderBase, HTTPProviderClient


class Acme(HTTPProviderBase):
    def __init__(self, api_key: str, http_client: httpx.AsyncClient | None = None) -> None:
        self.default_model, self.base_url = "acme-1", "https://api.acme.test/v1"
        self._http = HTTPProviderClient(
            provider="acme",
            base_url=self.base_url,
            headers={"authorization": f"Bearer {api_key}"},
            http_client=http_client,
            secrets=[api_key],
        )


async def test_repr_names_the_model_and_url_never_the_key() -> None:
    assert repr(Acme("sk-very-secret")) == (
        "Acme(default_model='acme-1', base_url='https://api.acme.test/v1')"
    )


async def test_async_with_closes_what_it_created_and_leaves_a_borrowed_client_open() -> None:
    async with Acme("k") as owned:
        created = owned._http._get_client()
        assert isinstance(owned, Acme)
    assert created.is_closed
    borrowed = httpx.AsyncClient()
    async with Acme("k", http_client=borrowed):
        pass
    assert not borrowed.is_closed
    await borrowed.aclose()


class Reading(HTTPProviderBase):
    """A provider whose reading of answers breaks on anything but ``{"text": "<str>"}``."""

    name = "reading"

    def __init__(self, handler: Any) -> None:
        self.default_model, self.base_url = "r-1", "https://api.reading.test/v1"
        client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        self._http = HTTPProviderClient(
            provider=self.name, base_url=self.base_url, http_client=client
        )

    async def complete(self, request: Any) -> str:
        if request == "bug":
            raise TypeError("a bug before any request")
        body = await self._http.post_json("x", {})
        return "said: " + body["text"]

    async def stream(self, request: Any) -> AsyncGenerator[str, None]:
        async for event in self._http.stream_sse("x", {}):
            yield "said: " + self._http.decode_event(event)["text"]


def _answering(content: bytes, media: str = "application/json") -> Any:
    return lambda request: httpx.Response(200, content=content, headers={"content-type": media})


async def test_an_answer_that_cannot_be_read_is_an_unexpected_response() -> None:
    assert await Reading(_answering(b'{"text": "hi"}')).complete("r") == "said: hi"
    with pytest.raises(UnexpectedResponseError) as info:
        await Reading(_answering(b'{"text": ["hi"]}')).complete("r")
    assert isinstance(info.value.__cause__, TypeError)
    assert str(info.value).startswith("[reading] Could not read the reading answer (TypeError:")
    with pytest.raises(UnexpectedResponseError) as missing:
        await Reading(_answering(b'{"other": 1}')).complete("r")
    assert "(KeyError: 'text')" in str(missing.value)


async def test_an_event_that_cannot_be_read_interrupts_the_stream_after_what_was_yielded() -> None:
    body = b'data: {"text": "a"}\n\ndata: {"text": "b"}\n\ndata: {"text": 3}\n\n'
    provider = Reading(_answering(body, "text/event-stream"))
    got: list[str] = []

    async def consume() -> None:
        async for chunk in provider.stream("r"):
            got.append(chunk)

    with pytest.raises(StreamInterruptedError) as info:
        await consume()
    assert got == ["said: a", "said: b"]
    assert info.value.chunks_received == 2
    assert isinstance(info.value.__cause__, TypeError)


async def test_what_fails_before_any_answer_is_left_as_it_is() -> None:
    with pytest.raises(TypeError, match="a bug before any request"):
        await Reading(_answering(b"{}")).complete("bug")


def test_the_guard_keeps_the_methods_names_and_documentation() -> None:
    assert Reading.complete.__name__ == "complete"
    assert Reading.stream.__qualname__ == "Reading.stream"
    assert inspect.isasyncgenfunction(Reading.stream)
    assert inspect.iscoroutinefunction(Reading.complete)
