"""The mode of a typed answer follows the provider's finer checks: native output beside tools,
and whether a request may force a tool; any provider can declare them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import BaseModel

from aether import Aether, Output
from aether.errors import ConfigurationError
from aether.llm import ProviderCapabilities
from aether.llm._output_target import OutputTarget
from aether.llm.contracts import LLMRequest, LLMResponse, LLMStreamChunk, ToolCall
from aether.llm.settings import CallSettings


class City(BaseModel):
    name: str
    population: int


CITY = City(name="Lima", population=10)
JSON = CITY.model_dump_json()
THINKING: CallSettings = {"reasoning": {"effort": "low"}}


def lookup(city: str) -> str:
    """Look a city up."""
    return city


class Answers:
    """A provider claiming native output and tools; it answers in the form it was asked."""

    name = "answers"
    default_model = "answers-1"
    capabilities = ProviderCapabilities(structured_output=True)

    def __init__(self) -> None:
        self.calls: list[LLMRequest] = []

    def _answer(self, request: LLMRequest) -> LLMResponse:
        self.calls.append(request)
        forced = request.tool_choice not in (None, "auto", "none")
        if forced and request.tools:
            call = ToolCall(id="c1", name=request.tools[-1].name, arguments=CITY.model_dump())
            return LLMResponse(tool_calls=[call], finish_reason="tool_calls")
        return LLMResponse(text=JSON, finish_reason="stop")

    async def complete(self, request: LLMRequest) -> LLMResponse:
        return self._answer(request)

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        answer = self._answer(request)
        yield LLMStreamChunk(text=answer.text, tool_calls=answer.tool_calls)
        yield LLMStreamChunk(finish_reason=answer.finish_reason)


class NoSchemaBesideTools(Answers):
    """Like Gemini before 3: native output, but not while the model may call tools."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[tuple[str, bool]] = []

    def supports_native_output(self, model: str, *, with_tools: bool = False) -> bool:
        self.asked.append((model, with_tools))
        return not with_tools


class ModelOnly(Answers):
    """A provider whose check knows nothing of tools: it is asked about the model alone."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[tuple[Any, ...]] = []

    def supports_native_output(self, model: str) -> bool:
        self.asked.append((model,))
        return True


class NoForcingWhileThinking(Answers):
    """Like Anthropic: no forced tool while reasoning is on, and no native output."""

    def supports_native_output(self, model: str) -> bool:
        return False

    def supports_forced_tool_choice(self, request: LLMRequest) -> bool:
        return request.reasoning is None


def mode_of(request: LLMRequest) -> str:
    if request.output is not None:
        return "native"
    return "tool" if any(tool.name == "final_result" for tool in request.tools) else "prompted"


# --- native output beside tools ---------------------------------------------------------------


async def test_tools_offered_to_a_model_that_cannot_combine_them_bring_tool_mode() -> None:
    provider = NoSchemaBesideTools()
    client = Aether(provider)
    assert await client.ask("Lima?", output_type=City) == CITY
    assert await client.ask("Lima?", tools=[lookup], output_type=City) == CITY
    alone, beside = provider.calls
    assert mode_of(alone) == "native"
    assert mode_of(beside) == "tool"
    assert [tool.name for tool in beside.tools] == ["lookup", "final_result"]
    assert beside.tool_choice == "required"
    assert ("answers-1", True) in provider.asked, "the keyword reached the check"


async def test_with_tool_choice_none_the_tools_do_not_count_and_native_mode_is_chosen() -> None:
    provider = NoSchemaBesideTools()
    answer = await Aether(provider).ask(
        "Lima?", tools=[lookup], tool_choice="none", output_type=City
    )
    assert answer == CITY
    [request] = provider.calls
    assert mode_of(request) == "native"
    assert request.tool_choice == "none" and [t.name for t in request.tools] == ["lookup"]


async def test_with_tool_choice_none_and_no_native_output_prompted_mode_is_chosen() -> None:
    provider = NoSchemaBesideTools()
    provider.capabilities = ProviderCapabilities()  # tools only
    answer = await Aether(provider).ask(
        "Lima?", tools=[lookup], tool_choice="none", output_type=City
    )
    assert answer == CITY
    [request] = provider.calls
    assert mode_of(request) == "prompted"
    assert "JSON Schema" in request.messages[0].text


async def test_native_mode_asked_for_beside_tools_the_model_cannot_combine_is_refused() -> None:
    provider = NoSchemaBesideTools()
    client = Aether(provider)
    native = Output(City, mode="native")
    with pytest.raises(ConfigurationError, match="cannot answer in a JSON schema while it may"):
        await client.ask("Lima?", tools=[lookup], output_type=native)
    assert provider.calls == [], "nothing was sent"
    # The tools may not be called: the model can answer natively.
    assert await client.ask("Lima?", tools=[lookup], tool_choice="none", output_type=native)


async def test_a_check_without_the_keyword_is_asked_about_the_model_alone() -> None:
    provider = ModelOnly()
    assert await Aether(provider).ask("Lima?", tools=[lookup], output_type=City) == CITY
    assert mode_of(provider.calls[0]) == "native"
    assert provider.asked and all(asked == ("answers-1",) for asked in provider.asked)


def test_the_keyword_is_passed_only_to_a_check_that_takes_it() -> None:
    class Keywords(Answers):
        def supports_native_output(self, model: str, **options: Any) -> bool:
            return not options.get("with_tools")

    class Positional(Answers):
        def supports_native_output(self, model: str, with_tools: bool = False) -> bool:
            return not with_tools

    for provider in (Keywords(), Positional(), NoSchemaBesideTools()):
        target = OutputTarget.of(provider)
        assert target.native_takes_tools
        assert target.native("m") and not target.native("m", with_tools=True)
    assert not OutputTarget.of(ModelOnly()).native_takes_tools
    assert OutputTarget.of(ModelOnly()).native("m", with_tools=True)


# --- a forced tool --------------------------------------------------------------------------


async def test_where_no_tool_may_be_forced_the_prompted_mode_is_chosen() -> None:
    provider = NoForcingWhileThinking()
    client = Aether(provider)
    assert await client.ask("Lima?", output_type=City) == CITY
    assert await client.ask("Lima?", output_type=City, settings=THINKING) == CITY
    plain, thinking = provider.calls
    assert mode_of(plain) == "tool" and plain.tool_choice == "final_result"
    assert mode_of(thinking) == "prompted"
    assert thinking.tools == [] and thinking.tool_choice is None
    assert thinking.messages[0].role == "system" and "JSON Schema" in thinking.messages[0].text


async def test_with_tools_and_no_forcing_the_callers_tools_stay_unforced() -> None:
    provider = NoForcingWhileThinking()
    answer = await Aether(provider).ask(
        "Lima?", tools=[lookup], allowed_tools=["lookup"], output_type=City, settings=THINKING
    )
    assert answer == CITY
    [request] = provider.calls
    assert mode_of(request) == "prompted"
    assert [tool.name for tool in request.tools] == ["lookup"]
    assert request.tool_choice is None and request.allowed_tools == ["lookup"]


async def test_streamed_partials_take_the_prompted_mode_too() -> None:
    provider = NoForcingWhileThinking()
    values = [
        value
        async for value in Aether(provider).stream_output(
            "Lima?", output_type=City, settings=THINKING
        )
    ]
    assert values[-1] == CITY
    assert mode_of(provider.calls[0]) == "prompted"


async def test_tool_mode_asked_for_where_no_tool_may_be_forced_is_refused_before_sending() -> None:
    provider = NoForcingWhileThinking()
    client = Aether(provider)
    tool = Output(City, mode="tool")
    with pytest.raises(ConfigurationError, match="cannot force a tool for this request") as info:
        await client.ask("Lima?", output_type=tool, settings=THINKING)
    assert "mode='prompted'" in str(info.value)
    with pytest.raises(ConfigurationError, match="cannot force a tool"):
        _ = [
            value async for value in client.stream_output("?", output_type=tool, settings=THINKING)
        ]
    assert provider.calls == [], "nothing was sent"
    assert await client.ask("Lima?", output_type=tool) == CITY  # without thinking it may


async def test_a_provider_without_the_checks_is_taken_at_its_claims() -> None:
    provider = Answers()
    client = Aether(provider)
    assert await client.ask("Lima?", tools=[lookup], output_type=City, settings=THINKING) == CITY
    assert await client.ask("Lima?", output_type=Output(City, mode="tool"), settings=THINKING)
    native, tool = provider.calls
    assert mode_of(native) == "native"
    assert mode_of(tool) == "tool" and tool.tool_choice == "final_result"
