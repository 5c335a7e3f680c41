"""Call settings through the facade: where they come from, and the whole-call timeout."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from aether import Aether, ImagePart, Message, ProviderConfig, TextPart
from aether.errors import ConfigurationError, ProviderTimeoutError
from aether.extensions.llm.fake import FakeProvider
from aether.llm import ProviderCapabilities
from aether.llm.contracts import LLMRequest, LLMResponse, LLMStreamChunk


def _with_defaults(fake: FakeProvider, config: ProviderConfig) -> Aether:
    client = Aether(fake)
    client.config = client.config.model_copy(update={"settings": config.settings})
    return client


async def test_every_setting_reaches_the_request() -> None:
    fake = FakeProvider(canned_response="ok")
    await Aether(fake).ask(
        "hi",
        settings={
            "top_p": 0.5,
            "seed": 7,
            "presence_penalty": 0.1,
            "frequency_penalty": -0.1,
            "reasoning": {"effort": "low"},
            "cache": {"key": "k1"},
            "provider_options": {"safetySettings": []},
            "extra_headers": {"x-trace": "1"},
            "stop": "\n\n",
            "max_tokens": 9,
        },
    )
    request = fake.calls[0]
    assert (request.top_p, request.seed, request.max_tokens) == (0.5, 7, 9)
    assert (request.presence_penalty, request.frequency_penalty) == (0.1, -0.1)
    assert request.reasoning == {"effort": "low"}
    assert request.cache == {"key": "k1"}
    assert request.provider_options == {"safetySettings": []}
    assert request.extra_headers == {"x-trace": "1"}
    assert request.stop == ["\n\n"]


async def test_call_beats_client_default_beats_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AETHER_DEFAULT_TEMPERATURE", "0.3")
    fake = FakeProvider(canned_response="ok")
    client = _with_defaults(
        fake, ProviderConfig(settings={"temperature": 0.5, "seed": 1, "top_p": 0.9})
    )
    await client.ask("a")
    await client.ask("b", settings={"temperature": 0.1, "seed": 2})
    await client.ask("c", temperature=0.0, settings={"temperature": 0.9})  # keyword wins
    first, second, third = fake.calls
    assert (first.temperature, first.seed, first.top_p) == (0.5, 1, 0.9)
    assert (second.temperature, second.seed, second.top_p) == (0.1, 2, 0.9)
    assert third.temperature == 0.0
    assert first.default_temperature == 0.3  # the environment's, sent only if unset


async def test_default_temperature_can_be_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AETHER_DEFAULT_TEMPERATURE", "none")
    fake = FakeProvider(canned_response="ok")
    await Aether(fake).ask("hi")
    assert fake.calls[0].sampling_temperature() is None


async def test_a_bad_setting_is_refused_before_any_call() -> None:
    fake = FakeProvider(canned_response="ok")
    with pytest.raises(ConfigurationError, match=r"Unknown call setting.*'temprature'"):
        await Aether(fake).ask("hi", settings={"temprature": 0.1})  # type: ignore[typeddict-unknown-key]
    assert fake.calls == []


class _Slow(FakeProvider):
    async def complete(self, request: LLMRequest) -> LLMResponse:
        await asyncio.sleep(5)
        return await super().complete(request)

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        yield LLMStreamChunk(text="first ")
        await asyncio.sleep(5)
        yield LLMStreamChunk(text="never", finish_reason="stop")


async def test_timeout_bounds_the_whole_call() -> None:
    client = Aether(_Slow(canned_response="late"))
    started = time.monotonic()
    with pytest.raises(ProviderTimeoutError, match=r"within its 0.3s timeout"):
        await client.ask("hi", settings={"timeout": 0.3})
    elapsed = time.monotonic() - started
    assert 0.3 <= elapsed < 1.5  # fires at its value, long before the 5 s call would end


async def test_timeout_bounds_a_stream_after_its_first_chunks() -> None:
    client = Aether(_Slow(canned_response="late"))
    received: list[str] = []

    async def consume() -> None:
        async for text in client.stream_text("hi", settings={"timeout": 0.2}):
            received.append(text)

    with pytest.raises(ProviderTimeoutError):
        await consume()
    assert received == ["first "]


async def test_a_list_of_text_and_parts_is_one_user_turn() -> None:
    fake = FakeProvider(canned_response="a cat")  # the fake takes every kind of part
    image = ImagePart(url="https://example.test/cat.png")
    assert await Aether(fake).ask(["What is in this picture?", image]) == "a cat"
    assert fake.calls[0].messages == [
        Message(role="user", content=[TextPart(text="What is in this picture?"), image])
    ]


async def test_a_part_the_provider_does_not_take_is_refused_before_sending() -> None:
    class Blind(FakeProvider):
        capabilities = ProviderCapabilities()  # text only

    fake = Blind(canned_response="ok")
    with pytest.raises(ConfigurationError, match=r"does not take image parts.*image_input=False"):
        await Aether(fake).ask(["Look:", ImagePart(url="https://example.test/cat.png")])
    assert fake.calls == []


async def test_messages_and_parts_do_not_mix() -> None:
    with pytest.raises(TypeError, match="not a mix"):
        await Aether(FakeProvider(canned_response="ok")).ask(
            [Message(role="user", content="hi"), "and this"]  # type: ignore[list-item]
        )


def test_settings_are_masked_in_the_config_repr() -> None:
    config = ProviderConfig(settings={"extra_headers": {"Authorization": "Bearer sk-secret-1"}})
    assert "sk-secret-1" not in repr(config)
