"""A call a fallback answered: a ``chat`` span per provider asked, each naming its own provider,
model and server, under the one call span; and taking the instrumentation off again."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai
from opentelemetry.semconv.attributes import error_attributes, server_attributes
from opentelemetry.trace import StatusCode

import aether_otel
from aether import Aether, ProviderConfig
from aether.errors import ServerError
from aether.extensions.llm import FallbackProvider, find_layer
from aether.extensions.llm.registry import PROVIDER_KIND
from aether.registry import Registry
from aether_openai._provider import OpenAIProvider
from aether_otel._model import ModelCalls
from tests.otel._server import ANSWER_MODEL, OpenAIServer
from tests.otel.conftest import Recorded, children

KEY = "sk-otel-test-key"


@pytest.fixture
async def spare() -> AsyncIterator[OpenAIServer]:
    """The fallback's own server (another port)."""
    started = await OpenAIServer().start()
    yield started
    await started.stop()


def port_of(server: OpenAIServer) -> int:
    return int(server.root.rsplit(":", 1)[1])


def chained(first: OpenAIServer, second: OpenAIServer) -> Aether:
    """``openai`` answering 503 on ``first``; ``spare`` (the same API, named apart) on
    ``second``."""
    registry = Registry()
    for name in ("openai", "spare"):
        registry.register(PROVIDER_KIND, name)(OpenAIProvider)
    config = ProviderConfig(
        provider="openai",
        base_url=first.base_url,
        api_key=KEY,
        model="busy",
        retry=None,  # one attempt each, so one span each
        fallbacks=[
            ProviderConfig(provider="spare", base_url=second.base_url, api_key=KEY, model="text")
        ],
    )
    return Aether(config=config, registry=registry)


@pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])
async def test_a_call_a_fallback_answered_has_a_chat_span_per_provider(
    recorded: Recorded, server: OpenAIServer, spare: OpenAIServer, streamed: bool
) -> None:
    async with chained(server, spare) as client:
        if streamed:
            text = "".join([piece async for piece in client.stream_text("hi")])
        else:
            text = await client.ask("hi")
    assert text == "Hello there"
    call = recorded.one("aether.stream" if streamed else "aether.complete")
    failed, answered = children(recorded.spans(), call)
    asked = failed.attributes or {}
    assert failed.name == "chat busy"
    assert asked[gen_ai.GEN_AI_PROVIDER_NAME] == "openai"
    assert asked[server_attributes.SERVER_PORT] == port_of(server)
    assert asked[error_attributes.ERROR_TYPE] == ServerError.__name__
    assert failed.status.status_code is StatusCode.ERROR
    answer = answered.attributes or {}
    assert answered.name == "chat text"
    assert answer[gen_ai.GEN_AI_PROVIDER_NAME] == "spare"
    assert answer[gen_ai.GEN_AI_REQUEST_MODEL] == "text"
    assert answer[gen_ai.GEN_AI_RESPONSE_MODEL] == ANSWER_MODEL
    assert answer[server_attributes.SERVER_ADDRESS] == "127.0.0.1"
    assert answer[server_attributes.SERVER_PORT] == port_of(spare)
    assert error_attributes.ERROR_TYPE not in answer
    assert failed.end_time <= answered.start_time
    assert call.status.status_code is StatusCode.UNSET


async def test_uninstrument_takes_the_fallbacks_layer_off_too(
    recorded: Recorded, server: OpenAIServer, spare: OpenAIServer
) -> None:
    async with chained(server, spare) as client:
        chain = find_layer(client.provider, FallbackProvider)
        assert chain is not None
        assert find_layer(chain.fallbacks[0].provider, ModelCalls) is not None
        aether_otel.uninstrument()
        assert find_layer(chain.inner, ModelCalls) is None
        assert find_layer(chain.fallbacks[0].provider, ModelCalls) is None
        assert await client.ask("hi") == "Hello there"
    assert recorded.spans() == []
