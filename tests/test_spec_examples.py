"""The code examples of the behavioural specification (the original README), run as written.

Examples that need a real provider run with ``LLM_PROVIDER=fake``; tool and session examples
live with their areas (tests/tools, tests/memory).
"""

from __future__ import annotations

import pytest

from aether import Aether, Message, ProviderConfig, register, register_provider
from aether.events import REQUEST_COMPLETE, TOOL_ERROR
from aether.extensions.llm.builder import find_layer
from aether.extensions.llm.circuit_breaker import CircuitBreakerProvider
from aether.extensions.llm.fake import FakeProvider
from aether.extensions.llm.retrying import RetryingProvider
from aether.llm.contracts import LLMRequest, LLMResponse, ToolCall
from aether.registry import default_registry


@pytest.fixture(autouse=True)
def fake_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_PROVIDER", "fake")


async def test_quick_start(capsys: pytest.CaptureFixture[str]) -> None:
    client = Aether()  # reads LLM_PROVIDER, OPENAI_API_KEY, ...
    answer = await client.ask("What is the meaning of life?")
    print(answer)
    print(f"Spent ${client.usage.total_cost_usd:.6f}")
    out = capsys.readouterr().out
    assert out.startswith("You said: What is the meaning of life?\n")
    assert "Spent $0.000000" in out  # the fake model has no price


async def test_construction_modes_and_opt_out() -> None:
    # "Opt out via Aether(with_retry=False, ...). For an explicit config, pass
    # Aether(config=ProviderConfig(...)). For a pre-built provider, pass it positionally."
    stacks = {
        "default": Aether(),
        "opt out": Aether(with_retry=False, with_circuit_breaker=False),
        "config": Aether(config=ProviderConfig(provider="fake", model="fake-model")),
        "positional": Aether(FakeProvider(canned_response="hi")),
    }
    for client in stacks.values():
        assert await client.ask("ping") in {"You said: ping", "hi"}
    assert find_layer(stacks["default"].provider, RetryingProvider) is not None
    assert find_layer(stacks["opt out"].provider, RetryingProvider) is None
    assert find_layer(stacks["opt out"].provider, CircuitBreakerProvider) is None
    assert stacks["opt out"].usage.total_requests == 1  # cost tracking stayed on


async def test_streaming_examples(capsys: pytest.CaptureFixture[str]) -> None:
    client = Aether()
    async for delta in client.stream_text("Tell me a story"):
        print(delta, end="", flush=True)
    assert capsys.readouterr().out == "You said: Tell me a story"

    chunks = [chunk async for chunk in client.stream("...")]
    assert all(c.finish_reason is None for c in chunks[:-1])
    assert chunks[-1].finish_reason == "stop"
    assert chunks[-1].output_tokens == 3


async def test_multi_turn() -> None:
    fake = FakeProvider(canned_response="More, tersely.")
    client = Aether(fake)
    convo = [
        Message(role="system", content="You are terse."),
        Message(role="user", content="hi"),
        Message(role="assistant", content="hi"),
        Message(role="user", content="say more"),
    ]
    answer = await client.ask(convo)
    assert answer == "More, tersely."
    assert [m.role for m in fake.calls[0].messages] == ["system", "user", "assistant", "user"]


async def test_cost_tracking_counts_requests() -> None:
    client = Aether()
    await client.ask("hi")
    await client.ask("how are you")
    usage = client.usage
    assert usage.total_requests == 2
    assert usage.total_input_tokens == 1 + 3
    assert usage.total_output_tokens == 3 + 5
    assert set(usage.by_model) == {"fake-model"}


async def test_observability_hooks(capsys: pytest.CaptureFixture[str]) -> None:
    alerts: list[str] = []

    async def send_alert(text: str) -> None:
        alerts.append(text)

    client = Aether()

    @client.on(REQUEST_COMPLETE)
    def log_latency(event):  # type: ignore[no-untyped-def]
        print(f"{event.request.model}: {event.duration_seconds:.2f}s")

    @client.on(TOOL_ERROR)
    async def alert(event):  # type: ignore[no-untyped-def]
        await send_alert(f"Tool {event.call.name} failed: {event.error}")

    await client.ask("hi")
    assert capsys.readouterr().out.startswith("fake-model: 0.")


async def test_register_provider_example(monkeypatch: pytest.MonkeyPatch) -> None:
    with default_registry.isolated():

        @register_provider("ollama", api_key_env="OLLAMA_API_KEY", model_env="OLLAMA_MODEL")
        class OllamaProvider:
            def __init__(self, api_key: str | None = None, default_model: str = "llama3"):
                self.default_model = default_model

            async def complete(self, request: LLMRequest) -> LLMResponse:
                return LLMResponse(text=f"{self.default_model} says hi", model=self.default_model)

        monkeypatch.setenv("LLM_PROVIDER", "ollama")
        assert await Aether().ask("hi") == "llama3 says hi"
        monkeypatch.setenv("OLLAMA_MODEL", "llama3.1")
        client = Aether()
        assert await client.ask("hi") == "llama3.1 says hi"
        assert [d async for d in client.stream_text("hi")] == ["llama3.1 says hi"]


def test_register_any_kind() -> None:
    with default_registry.isolated():

        @register("vector_store", "pinecone", dimension=1536)
        class PineconeStore: ...

        assert default_registry.get("vector_store", "pinecone") is PineconeStore


async def test_fake_provider_testing_examples() -> None:
    fake = FakeProvider(canned_response="hello")
    client = Aether(fake)
    assert await client.ask("hi") == "hello"

    fake = FakeProvider(
        responses=[
            LLMResponse(
                text="",
                model="...",
                input_tokens=1,
                output_tokens=1,
                tool_calls=[ToolCall(id="c1", name="add", arguments={"a": 2, "b": 3})],
            ),
            LLMResponse(text="The answer is 5.", model="...", input_tokens=1, output_tokens=1),
        ]
    )
    first = await fake.complete(LLMRequest(messages=[Message(role="user", content="2+3?")]))
    assert first.tool_calls[0].arguments == {"a": 2, "b": 3}
