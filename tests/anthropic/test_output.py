"""``LLMRequest.output`` as Anthropic's structured output, which models take it, and what the
provider tells a caller choosing how to ask for a structured answer."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from aether.errors import ConfigurationError
from aether.llm.contracts import LLMRequest, Message, OutputSpec, ToolSpec
from aether.llm.models import ModelTraits
from aether_anthropic import MODELS, AnthropicProvider
from aether_anthropic._mapping import build_payload


class City(BaseModel):
    name: str
    population: int


CLOSED = {**City.model_json_schema(), "additionalProperties": False}
SONNET_4_5 = "claude-sonnet-4-5"  # native output, budget thinking
OPUS_4_6 = "claude-opus-4-6"  # native output, adaptive thinking
SONNET_4 = "claude-sonnet-4-0"  # no native output, budget thinking


def answer_in(schema: dict[str, Any] | None = None, **spec: Any) -> OutputSpec:
    return OutputSpec(name="City", json_schema=schema or City.model_json_schema(), **spec)


def body(model: str = SONNET_4_5, *, beta: bool = False, **fields: Any) -> Any:
    fields.setdefault("messages", [Message(role="user", content="Largest city of Peru?")])
    return build_payload(
        LLMRequest(**fields),
        model=model,
        max_tokens=4096,
        stream=False,
        structured_outputs_beta=beta,
    )


def test_the_answer_is_asked_for_in_output_config_format() -> None:
    sent = body(output=answer_in())
    assert sent["output_config"] == {"format": {"type": "json_schema", "schema": CLOSED}}
    assert "output_format" not in sent


def test_with_the_beta_the_format_goes_in_the_betas_shape() -> None:
    sent = body(output=answer_in(), beta=True)
    assert sent["output_format"] == {"type": "json_schema", "schema": CLOSED}
    assert "output_config" not in sent


def test_effort_and_format_share_output_config_and_thinking_is_kept() -> None:
    sent = body(OPUS_4_6, output=answer_in(), reasoning={"effort": "low"})
    assert sent["output_config"] == {
        "effort": "low",
        "format": {"type": "json_schema", "schema": CLOSED},
    }
    assert sent["thinking"] == {"type": "adaptive"}
    budget = body(output=answer_in(), reasoning={"budget_tokens": 2048})
    assert budget["thinking"]["budget_tokens"] == 2048
    assert budget["output_config"]["format"]["schema"] == CLOSED


def test_tools_and_a_structured_answer_go_together() -> None:
    sent = body(output=answer_in(), tools=[ToolSpec(name="lookup")], tool_choice="required")
    assert (sent["tool_choice"], sent["tools"][0]["name"]) == ({"type": "any"}, "lookup")
    assert sent["output_config"]["format"]["schema"] == CLOSED


def test_the_description_goes_on_a_schema_without_one() -> None:
    described = body(output=answer_in(description="The city asked about."))
    schema = described["output_config"]["format"]["schema"]
    assert schema["description"] == "The city asked about."
    own = {**City.model_json_schema(), "description": "A city."}
    kept = body(output=answer_in(own, description="Other words."))
    assert kept["output_config"]["format"]["schema"]["description"] == "A city."


def test_strict_changes_nothing_the_grammar_always_holds() -> None:
    assert body(output=answer_in(strict=False)) == body(output=answer_in(strict=True))


def test_provider_options_are_merged_over_the_format_last() -> None:
    options = {"output_config": {"format": {"schema": {"description": "From the options."}}}}
    sent = body(output=answer_in(), provider_options=options)
    assert sent["output_config"]["format"]["schema"] == {
        **CLOSED,
        "description": "From the options.",
    }


def test_a_model_without_native_output_is_refused_by_name() -> None:
    with pytest.raises(ConfigurationError, match=r"'claude-sonnet-4-0' has no native structured"):
        body(SONNET_4, output=answer_in())
    with pytest.raises(ConfigurationError, match=re.escape("output_type=Output(T, mode='tool')")):
        body("claude-3-5-haiku-latest", output=answer_in())


def test_a_prefilled_answer_is_refused_with_structured_output() -> None:
    prefilled = [Message(role="user", content="City?"), Message(role="assistant", content="{")]
    with pytest.raises(ConfigurationError, match="no prefilled answer"):
        body(output=answer_in(), messages=prefilled)
    assert body(messages=prefilled)["messages"][-1]["role"] == "assistant", "fine without one"


def test_a_schema_the_grammar_cannot_hold_is_refused_before_sending() -> None:
    free = {"type": "object", "properties": {"extra": {"type": "object"}}}
    with pytest.raises(ConfigurationError, match=r"'City' answer's schema has at #/properties/ex"):
        body(output=answer_in(free))
    with pytest.raises(
        ConfigurationError, match=re.escape("output_type=Output(T, mode='tool') or mode='prompted'")
    ):
        body(output=answer_in(free))


# --- which models, and what the provider tells a caller --------------------------------------


@pytest.mark.parametrize(
    ("model", "native"),
    [
        ("claude-3-5-sonnet-latest", False),
        ("claude-3-7-sonnet-20250219", False),
        ("claude-sonnet-4-20250514", False),
        ("claude-opus-4-1", False),
        ("claude-sonnet-4-5-20250929", True),
        ("claude-haiku-4-5", True),
        ("claude-opus-4-5", True),
        ("claude-opus-4-6", True),
        ("claude-sonnet-4-6", True),
        ("claude-opus-4-7", True),
        ("us.anthropic.claude-opus-4-8-v1:0", True),
        ("claude-unknown-9", False),
    ],
)
def test_supports_native_output_reads_the_table(model: str, native: bool) -> None:
    assert AnthropicProvider(api_key="k").supports_native_output(model) is native


def test_supports_native_output_of_the_default_model_and_a_registered_one() -> None:
    assert AnthropicProvider(api_key="k", default_model=SONNET_4).supports_native_output() is False
    assert AnthropicProvider(api_key="k").supports_native_output() is True  # claude-sonnet-4-5
    MODELS.register("claude-test-json", ModelTraits(native_output=True))
    assert AnthropicProvider(api_key="k").supports_native_output("claude-test-json-1")
    assert body("claude-test-json-1", output=answer_in())["output_config"]["format"]


@pytest.mark.parametrize(
    ("model", "settings", "forcible"),
    [
        (SONNET_4, {}, True),
        (SONNET_4, {"reasoning": {"effort": "medium"}}, False),
        (SONNET_4, {"reasoning": {"budget_tokens": 2048}}, False),
        (SONNET_4, {"reasoning": {"effort": "minimal"}}, True),
        (SONNET_4, {"reasoning": {"budget_tokens": 0}}, True),
        (OPUS_4_6, {"reasoning": {"effort": "high"}}, False),
        (
            SONNET_4,
            {"provider_options": {"thinking": {"type": "enabled", "budget_tokens": 1024}}},
            False,
        ),
        ("claude-3-5-haiku-latest", {"reasoning": {"effort": "high"}}, True),
    ],
)
def test_supports_forced_tool_choice_says_what_build_payload_does(
    model: str, settings: dict[str, Any], forcible: bool
) -> None:
    """A caller choosing between a forced tool and instructions learns it before sending."""
    request = LLMRequest(
        messages=[Message(role="user", content="City?")],
        model=model,
        tools=[ToolSpec(name="final_result")],
        tool_choice="final_result",
        **settings,
    )
    assert AnthropicProvider(api_key="k").supports_forced_tool_choice(request) is forcible
    if forcible and model != "claude-3-5-haiku-latest":
        assert build_payload(request, model=model, max_tokens=4096, stream=False)["tool_choice"]
    elif not forcible:
        with pytest.raises(ConfigurationError, match="tool_choice may be 'auto' or 'none'"):
            build_payload(request, model=model, max_tokens=4096, stream=False)


async def test_a_refused_structured_request_sends_nothing() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(500)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    request = LLMRequest(
        messages=[Message(role="user", content="City?")], model=SONNET_4, output=answer_in()
    )
    async with AnthropicProvider(api_key="k", http_client=client) as claude:
        with pytest.raises(ConfigurationError):
            await claude.complete(request)
        with pytest.raises(ConfigurationError):
            _ = [chunk async for chunk in claude.stream(request)]
    assert seen == []


async def test_the_beta_named_on_the_provider_picks_the_betas_shape() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        text = json.dumps({"name": "Lima", "population": 10_000_000})
        return httpx.Response(
            200,
            json={
                "id": "msg_1",
                "model": SONNET_4_5,
                "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn",
                "usage": {"input_tokens": 5, "output_tokens": 9},
            },
        )

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    headers = {"anthropic-beta": "structured-outputs-2025-11-13"}
    request = LLMRequest(messages=[Message(role="user", content="City?")], output=answer_in())
    async with AnthropicProvider(api_key="k", http_client=client, extra_headers=headers) as claude:
        response = await claude.complete(request)
    assert City.model_validate_json(response.text) == City(name="Lima", population=10_000_000)
    (sent,) = seen
    assert sent.headers["anthropic-beta"] == "structured-outputs-2025-11-13"
    assert json.loads(sent.content)["output_format"]["schema"] == CLOSED
