"""The Aether facade: construction modes, requests, streaming, events, errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from aether import Aether, EventBus, Message, ProviderConfig, RetryConfig
from aether.errors import (
    MissingAPIKeyError,
    ResponseBlockedError,
    ServerError,
    UnknownProviderError,
)
from aether.events import (
    REQUEST_COMPLETE,
    REQUEST_ERROR,
    REQUEST_START,
    STREAM_CHUNK,
    STREAM_COMPLETE,
    STREAM_START,
    RequestComplete,
    StreamComplete,
)
from aether.extensions.llm._default_stack import DefaultStack
from aether.extensions.llm.builder import ProviderLayer
from aether.extensions.llm.circuit_breaker import CircuitBreakerProvider
from aether.extensions.llm.cost_tracking import CostTrackingProvider
from aether.extensions.llm.fake import FakeProvider
from aether.extensions.llm.retrying import RetryingProvider
from aether.llm.contracts import LLMRequest, LLMResponse
from aether.registry import default_registry


async def test_positional_provider_answers() -> None:
    fake = FakeProvider(canned_response="hello")
    client = Aether(fake)
    assert await client.ask("hi") == "hello"
    assert fake.calls[0].messages == [Message(role="user", content="hi")]
    assert fake.calls[0].temperature is None  # not set by the caller
    assert fake.calls[0].sampling_temperature() == 0.7  # the default, where the model takes one


async def test_env_mode_selects_fake(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_PROVIDER", "fake")
    client = Aether()
    assert await client.ask("ping") == "You said: ping"


async def test_config_mode_with_options() -> None:
    client = Aether(config=ProviderConfig(provider="fake", options={"canned_response": "cfg"}))
    assert await client.ask("x") == "cfg"


async def test_caller_messages_not_mutated() -> None:
    convo = [
        Message(role="system", content="You are terse."),
        Message(role="user", content="hi"),
        Message(role="assistant", content="hi"),
        Message(role="user", content="say more"),
    ]
    snapshot = [m.model_copy(deep=True) for m in convo]
    fake = FakeProvider(canned_response="more")
    assert await Aether(fake).ask(convo) == "more"
    assert convo == snapshot
    assert fake.calls[0].messages == convo
    assert fake.calls[0].messages is not convo


async def test_request_options_pass_through() -> None:
    fake = FakeProvider(canned_response="x")
    await Aether(fake).complete("q", model="m1", temperature=0.1, max_tokens=5, stop=["\n"])
    request = fake.calls[0]
    assert (request.model, request.temperature, request.max_tokens, request.stop) == (
        "m1",
        0.1,
        5,
        ["\n"],
    )


async def test_unknown_provider_names_installed_and_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_PROVIDER", "nosuch")
    with pytest.raises(UnknownProviderError) as caught:
        Aether()
    message = str(caught.value)
    assert "'nosuch'" in message and "fake" in message
    assert "if a plugin provides 'nosuch', install that plugin" in message


async def test_missing_key_names_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEEDKEY_API_KEY", raising=False)

    class NeedsKey:
        def __init__(self, api_key: str | None = None) -> None:
            if api_key is None:
                raise MissingAPIKeyError("needkey", "NEEDKEY_API_KEY")
            self.api_key = api_key

        async def complete(self, request: LLMRequest) -> LLMResponse:
            return LLMResponse(text="ok")

    with default_registry.isolated():
        default_registry.add(
            "provider", "needkey", NeedsKey, metadata={"api_key_env": "NEEDKEY_API_KEY"}
        )
        with pytest.raises(MissingAPIKeyError, match="NEEDKEY_API_KEY"):
            Aether(config=ProviderConfig(provider="needkey"))
        monkeypatch.setenv("NEEDKEY_API_KEY", "sk-secret-value")
        client = Aether(config=ProviderConfig(provider="needkey"))
        assert await client.ask("x") == "ok"
        assert "sk-secret-value" not in repr(client)


async def test_stream_and_stream_text() -> None:
    client = Aether(FakeProvider(canned_response="a b c"))
    assert [d async for d in client.stream_text("x")] == ["a ", "b ", "c"]
    chunks = [c async for c in client.stream("x")]
    assert chunks[-1].finish_reason == "stop"
    assert chunks[-1].output_tokens == 3


async def test_events_fire_for_complete_and_stream() -> None:
    bus = EventBus()
    seen: list[str] = []
    for name in (REQUEST_START, REQUEST_COMPLETE, STREAM_START, STREAM_CHUNK, STREAM_COMPLETE):
        bus.on(name, lambda event, name=name: seen.append(name))
    completes: list[RequestComplete] = []
    bus.on(REQUEST_COMPLETE, completes.append)
    client = Aether(FakeProvider(canned_response="x y"), events=bus)
    await client.ask("q")
    assert seen == [REQUEST_START, REQUEST_COMPLETE]
    assert completes[0].response.text == "x y" and completes[0].duration_seconds >= 0
    seen.clear()
    finished: list[StreamComplete] = []

    @client.on(STREAM_COMPLETE)
    async def on_done(event: StreamComplete) -> None:
        finished.append(event)

    async for _ in client.stream_text("q"):
        pass
    assert seen == [STREAM_START, STREAM_CHUNK, STREAM_CHUNK, STREAM_CHUNK, STREAM_COMPLETE]
    assert finished[0].text == "x y"


async def test_shared_bus_across_clients() -> None:
    bus = EventBus()
    seen: list[str] = []
    bus.on(REQUEST_START, lambda event: seen.append(event.request.messages[0].content))
    await Aether(FakeProvider(canned_response="1"), events=bus).ask("a")
    await Aether(FakeProvider(canned_response="2"), events=bus).ask("b")
    assert seen == ["a", "b"]


async def test_request_error_event_and_raise() -> None:
    errors: list[BaseException] = []
    client = Aether(FakeProvider(responses=[ServerError("down", status_code=503)]))
    client.on(REQUEST_ERROR, lambda event: errors.append(event.error))
    with pytest.raises(ServerError):
        await client.ask("x")
    assert isinstance(errors[0], ServerError)


async def test_subscriber_failure_never_breaks_request() -> None:
    client = Aether(FakeProvider(canned_response="fine"))

    @client.on(REQUEST_COMPLETE)
    def broken(event: object) -> None:
        raise RuntimeError("observer bug")

    assert await client.ask("x") == "fine"


async def test_complete_only_provider_streams() -> None:
    class CompleteOnly:
        async def complete(self, request: LLMRequest) -> LLMResponse:
            return LLMResponse(text="whole", model="m", finish_reason="stop")

    client = Aether(CompleteOnly())  # type: ignore[arg-type]
    assert [d async for d in client.stream_text("x")] == ["whole"]


def test_provider_and_config_together_rejected() -> None:
    with pytest.raises(TypeError):
        Aether(FakeProvider(), config=ProviderConfig())


async def test_empty_conversation_rejected() -> None:
    with pytest.raises(ValueError, match="empty conversation"):
        await Aether(FakeProvider()).ask([])


# --- the layer stack each construction mode builds ------------------------------------------

COST, BREAKER, RETRY = CostTrackingProvider, CircuitBreakerProvider, RetryingProvider
DEFAULT = DefaultStack  # all three layers: cost tracking with the other two run in its frame


def layers(client: Aether) -> list[type]:
    """The provider stack outermost first, read through each layer's ``inner``."""
    found: list[type] = []
    current: object = client.provider
    while isinstance(current, ProviderLayer):
        found.append(type(current))
        current = current.inner
    found.append(type(current))
    return found


@pytest.fixture
def fake_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_PROVIDER", "fake")


def _from_config(**flags: Any) -> Aether:
    return Aether(config=ProviderConfig(provider="fake"), **flags)


@pytest.mark.usefixtures("fake_env")
@pytest.mark.parametrize("build", [Aether, _from_config], ids=["env", "config"])
@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({}, [DEFAULT, BREAKER, RETRY, FakeProvider]),
        ({"with_retry": False}, [COST, BREAKER, FakeProvider]),
        ({"with_circuit_breaker": False}, [COST, RETRY, FakeProvider]),
        ({"with_cost_tracking": False}, [BREAKER, RETRY, FakeProvider]),
        (
            {"with_retry": False, "with_circuit_breaker": False, "with_cost_tracking": False},
            [FakeProvider],
        ),
    ],
)
def test_built_stack_and_opt_outs(
    build: Callable[..., Aether], flags: dict[str, Any], expected: list[type]
) -> None:
    assert layers(build(**flags)) == expected


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({}, [COST, FakeProvider]),
        ({"with_retry": True}, [COST, RETRY, FakeProvider]),
        ({"with_circuit_breaker": True}, [COST, BREAKER, FakeProvider]),
        (
            {"with_retry": True, "with_circuit_breaker": True},
            [DEFAULT, BREAKER, RETRY, FakeProvider],
        ),
        ({"with_cost_tracking": False}, [FakeProvider]),
    ],
)
def test_positional_provider_gets_only_cost_tracking_unless_asked(
    flags: dict[str, Any], expected: list[type]
) -> None:
    fake = FakeProvider()
    client = Aether(fake, **flags)
    assert layers(client) == expected
    innermost: object = client.provider
    while isinstance(innermost, ProviderLayer):
        innermost = innermost.inner
    assert innermost is fake  # used as given, not rebuilt


def test_opt_out_flag_overrides_the_config() -> None:
    # A config that asks for retry loses it to with_retry=False; a config without a breaker
    # gets the default one from with_circuit_breaker=True.
    config = ProviderConfig(provider="fake", circuit_breaker=None)
    client = Aether(config=config, with_retry=False, with_circuit_breaker=True)
    assert layers(client) == [COST, BREAKER, FakeProvider]
    assert config.retry is not None  # the caller's config is not changed


async def test_retry_layer_is_live_and_opt_out_removes_it() -> None:
    def config() -> ProviderConfig:
        script = [ServerError("down", status_code=503), LLMResponse(text="ok")]
        return ProviderConfig(
            provider="fake",
            options={"responses": script},
            retry=RetryConfig(initial_delay=0, max_delay=0, jitter=0),
        )

    assert await Aether(config=config()).ask("x") == "ok"
    with pytest.raises(ServerError):
        await Aether(config=config(), with_retry=False).ask("x")


async def test_ask_raises_on_a_refusal_rather_than_returning_nothing() -> None:
    refused = LLMResponse(text="", refusal="I can't help with that.", response_id="resp_1")
    client = Aether(FakeProvider(responses=[refused, refused]))
    with pytest.raises(ResponseBlockedError, match=r"refused to answer") as info:
        await client.ask("something it refuses")
    assert info.value.reason == "refusal"
    assert info.value.refusal == "I can't help with that."
    assert info.value.provider == "fake"
    assert "help with that" not in str(info.value)  # model text stays out of the message
    assert info.value.request_id is None  # the answer's id is not a request id
    # complete() hands the refusal over as data instead.
    response = await client.complete("something it refuses")
    assert response.text == "" and response.refusal == "I can't help with that."


async def test_a_string_stop_is_one_stop_sequence() -> None:
    fake = FakeProvider(canned_response="ok")
    client = Aether(fake)
    await client.ask("hi", stop="\n\n")
    async for _ in client.stream_text("hi", stop="END"):
        pass
    assert fake.calls[0].stop == ["\n\n"]
    assert fake.calls[1].stop == ["END"]


async def test_a_string_for_tools_is_refused_not_split_into_letters() -> None:
    client = Aether(FakeProvider(canned_response="ok"))
    with pytest.raises(TypeError, match=r"tools must be a list of tools.*\['add'\]"):
        await client.ask("hi", tools="add")  # type: ignore[arg-type]


async def test_a_provider_without_tools_is_refused_tools_before_any_call() -> None:
    from aether.errors import ConfigurationError
    from aether.llm import ProviderCapabilities

    class NoTools(FakeProvider):
        capabilities = ProviderCapabilities(tools=False)

    def add(a: int, b: int) -> int:
        return a + b

    fake = NoTools(canned_response="ok")
    client = Aether(fake)
    with pytest.raises(ConfigurationError, match="tools"):
        await client.ask("hi", tools=[add])
    assert fake.calls == []
    assert await client.ask("hi") == "ok"  # without tools it serves
