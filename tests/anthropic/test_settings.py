"""Call settings in the Messages body: sampling, thinking, what Anthropic has no field for, and
``provider_options`` laid over it all."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from aether.config import forget_warnings
from aether.errors import ConfigurationError
from aether.llm.contracts import LLMRequest, Message, ToolSpec
from aether_anthropic._mapping import build_payload

SONNET_4_5 = "claude-sonnet-4-5"  # budget thinking; temperature or top_p
SONNET_4 = "claude-sonnet-4-0"  # budget thinking; temperature and top_p together
OPUS_4_6 = "claude-opus-4-6"  # adaptive or budget thinking
OPUS_4_7 = "claude-opus-4-7"  # adaptive thinking only, fixed sampling
HAIKU_3_5 = "claude-3-5-haiku-latest"  # no thinking


def body(model: str = SONNET_4_5, *, default_max_tokens: int = 4096, **fields: Any) -> Any:
    fields.setdefault("messages", [Message(role="user", content="hi")])
    request = LLMRequest(**fields)
    return build_payload(request, model=model, max_tokens=default_max_tokens, stream=False)


@pytest.fixture
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    forget_warnings()


# --- temperature and top_p ------------------------------------------------------------------


def test_the_configured_default_temperature_goes_to_a_model_that_takes_one() -> None:
    assert body(default_temperature=0.7)["temperature"] == 0.7
    assert body(default_temperature=0.7, temperature=0.1)["temperature"] == 0.1


def test_a_default_never_breaks_a_call() -> None:
    # Fixed sampling, thinking on, an explicit top_p beside it, or above Anthropic's range:
    # the default is simply not sent.
    assert "temperature" not in body(OPUS_4_7, default_temperature=0.7)
    assert "temperature" not in body(default_temperature=0.7, reasoning={"effort": "low"})
    sent = body(default_temperature=0.7, top_p=0.5)
    assert ("temperature" in sent, sent["top_p"]) == (False, 0.5)
    assert "temperature" not in body(default_temperature=1.5)


def test_explicit_sampling_on_a_fixed_sampling_model_is_refused_by_name() -> None:
    with pytest.raises(ConfigurationError, match="'claude-opus-4-7' takes no temperature"):
        body(OPUS_4_7, temperature=0.2)
    with pytest.raises(ConfigurationError, match="'claude-opus-4-7' takes no top_p"):
        body(OPUS_4_7, top_p=0.9)


def test_a_temperature_above_one_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"temperature from 0 to 1, got 1\.5"):
        body(temperature=1.5)


def test_temperature_and_top_p_together_only_where_the_model_takes_both() -> None:
    sent = body(SONNET_4, temperature=0.3, top_p=0.8)
    assert (sent["temperature"], sent["top_p"]) == (0.3, 0.8)
    with pytest.raises(ConfigurationError, match="takes temperature or top_p, not both"):
        body(SONNET_4_5, temperature=0.3, top_p=0.8)


def test_stop_sequences() -> None:
    assert body(stop=["END"])["stop_sequences"] == ["END"]


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"seed": 7}, "seed"),
        ({"presence_penalty": 0.5}, "presence_penalty"),
        ({"frequency_penalty": -0.5}, "frequency_penalty"),
        ({"seed": 1, "frequency_penalty": 0.1}, "seed, frequency_penalty"),
    ],
)
def test_what_anthropic_has_no_field_for_is_refused_never_dropped(
    fields: dict[str, Any], named: str
) -> None:
    with pytest.raises(ConfigurationError, match=f"has no {named}") as info:
        body(**fields)
    assert "provider_options" in str(info.value), "the error says where a gateway takes it"


# --- thinking ---------------------------------------------------------------------------------


def test_budget_tokens_is_the_thinking_budget() -> None:
    sent = body(reasoning={"budget_tokens": 2048})
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert sent["max_tokens"] == 4096
    assert "thinking" not in body(reasoning={"budget_tokens": 0}), "0 turns thinking off"


@pytest.mark.parametrize(("effort", "budget"), [("low", 1024), ("medium", 4096), ("high", 16384)])
def test_effort_is_a_documented_budget_on_a_budget_model(effort: str, budget: int) -> None:
    sent = body(reasoning={"effort": effort}, max_tokens=32000)
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": budget}
    assert "output_config" not in sent


def test_minimal_effort_means_no_thinking() -> None:
    for model in (SONNET_4_5, OPUS_4_6, HAIKU_3_5):
        sent = body(model, reasoning={"effort": "minimal"})
        assert "thinking" not in sent and "output_config" not in sent


def test_a_defaulted_max_tokens_makes_room_for_the_budget() -> None:
    assert body(reasoning={"effort": "medium"})["max_tokens"] == 4096 + 4096
    assert body(reasoning={"effort": "high"}, default_max_tokens=1000)["max_tokens"] == 17384


def test_an_explicit_max_tokens_without_room_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"16384-token budget \(effort 'high'\)"):
        body(reasoning={"effort": "high"}, max_tokens=8000)
    with pytest.raises(ConfigurationError, match=r"budget_tokens.*max_tokens=2048"):
        body(reasoning={"budget_tokens": 2048}, max_tokens=2048)


def test_a_budget_below_the_minimum_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="at least 1024 tokens, got budget_tokens=500"):
        body(reasoning={"budget_tokens": 500})


def test_effort_is_sent_as_effort_to_an_adaptive_model() -> None:
    sent = body(OPUS_4_6, reasoning={"effort": "medium"})
    assert sent["thinking"] == {"type": "adaptive"}
    assert sent["output_config"] == {"effort": "medium"}
    assert sent["max_tokens"] == 4096, "adaptive thinking has no budget to make room for"
    both = body(OPUS_4_6, reasoning={"effort": "high", "budget_tokens": 3000})
    assert both["thinking"] == {"type": "enabled", "budget_tokens": 3000}
    assert both["output_config"] == {"effort": "high"}


def test_a_model_that_thinks_adaptively_only_refuses_a_budget() -> None:
    assert body(OPUS_4_7, reasoning={"effort": "low"})["thinking"] == {"type": "adaptive"}
    with pytest.raises(ConfigurationError, match=r"takes no thinking budget.*'effort'"):
        body(OPUS_4_7, reasoning={"budget_tokens": 4096})


def test_a_model_without_thinking_refuses_reasoning_by_name() -> None:
    with pytest.raises(ConfigurationError, match="'claude-3-5-haiku-latest' has no extended"):
        body(HAIKU_3_5, reasoning={"effort": "high"})


@pytest.mark.parametrize(("include", "display"), [(True, "summarized"), (False, "omitted")])
def test_include_thoughts_is_the_display(include: bool, display: str) -> None:
    reasoning: Any = {"budget_tokens": 1024, "include_thoughts": include}
    assert body(reasoning=reasoning)["thinking"]["display"] == display
    adaptive: Any = {"effort": "low", "include_thoughts": include}
    assert body(OPUS_4_7, reasoning=adaptive)["thinking"]["display"] == display
    assert "display" not in body(reasoning={"budget_tokens": 1024})["thinking"]


@pytest.mark.usefixtures("fresh_warnings")
def test_include_thoughts_alone_is_said_once(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="aether.anthropic"):
        for _ in range(3):
            assert "thinking" not in body(reasoning={"include_thoughts": True})
        assert "thinking" not in body(reasoning={"include_thoughts": False})
    (record,) = caplog.records
    assert "thinks only when asked" in record.getMessage()


def test_with_thinking_on_temperature_is_one_or_none_and_top_p_high() -> None:
    thinking: Any = {"budget_tokens": 1024}
    assert body(reasoning=thinking, temperature=1.0)["temperature"] == 1.0
    with pytest.raises(ConfigurationError, match=r"temperature 1 or none.*temperature=0\.2"):
        body(reasoning=thinking, temperature=0.2)
    assert body(reasoning=thinking, top_p=0.95)["top_p"] == 0.95
    with pytest.raises(ConfigurationError, match=r"top_p from 0\.95 to 1, got 0\.9"):
        body(reasoning=thinking, top_p=0.9)


@pytest.mark.parametrize("choice", ["required", "lookup"])
def test_with_thinking_on_a_forced_tool_choice_is_refused(choice: str) -> None:
    tools = [ToolSpec(name="lookup")]
    with pytest.raises(ConfigurationError, match="tool_choice may be 'auto' or 'none'"):
        body(reasoning={"effort": "low"}, tools=tools, tool_choice=choice)
    assert body(reasoning={"effort": "low"}, tools=tools, tool_choice="auto")["tool_choice"] == {
        "type": "auto"
    }


def test_thinking_turned_on_through_provider_options_also_drops_the_default() -> None:
    options = {"thinking": {"type": "enabled", "budget_tokens": 2000}}
    sent = body(default_temperature=0.7, provider_options=options)
    assert sent["thinking"] == options["thinking"]
    assert "temperature" not in sent


# --- provider_options ---------------------------------------------------------------------


def test_provider_options_are_deep_merged_last() -> None:
    sent = body(
        OPUS_4_6,
        reasoning={"effort": "low"},
        provider_options={
            "metadata": {"user_id": "u-42"},
            "top_k": 5,
            "output_config": {"format": {"type": "json_schema", "schema": {}}},
            "max_tokens": 99,
        },
    )
    assert sent["metadata"] == {"user_id": "u-42"}
    assert sent["top_k"] == 5
    assert sent["output_config"] == {
        "effort": "low",
        "format": {"type": "json_schema", "schema": {}},
    }
    assert sent["max_tokens"] == 99, "the escape hatch has the last word"
