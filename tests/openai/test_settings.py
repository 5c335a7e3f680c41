"""Call settings to Chat Completions: the model table, sampling, reasoning, max tokens,
provider_options and extra headers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from aether.errors import ConfigurationError
from aether.llm.contracts import LLMRequest, Message
from aether.llm.models import ModelTraits
from aether_openai import MODELS, OpenAIModelTraits, OpenAIProvider
from aether_openai._models import COMPATIBLE
from aether_openai._request import build_payload
from tests.openai._wire import request_problems

HI = [Message(role="user", content="hi")]


def body(model: str = "gpt-4o", **fields: Any) -> dict[str, Any]:
    payload = build_payload(LLMRequest(messages=HI, **fields), model=model, stream=False)
    assert request_problems(payload) == []
    return payload


@pytest.fixture
def registered() -> Iterator[Callable[[str, ModelTraits], None]]:
    """Register rows on MODELS for one test, then take them out again."""
    added: list[str] = []

    def register(prefix: str, traits: ModelTraits) -> None:
        added.append(prefix)
        MODELS.register(prefix, traits)

    yield register
    for prefix in added:
        MODELS._rows.pop(prefix)


@pytest.mark.parametrize(
    "model",
    ["o1", "o1-2024-12-17", "o3", "o3-mini", "o4-mini", "gpt-5", "gpt-5-mini", "gpt-5.2-pro"],
)
def test_reasoning_models_take_reasoning_and_no_sampling(model: str) -> None:
    traits = MODELS.lookup(model)
    assert (traits.sampling, traits.reasoning, traits.audio_input) == (False, True, False)


@pytest.mark.parametrize(
    "model", ["gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-nano", "chatgpt-4o-latest"]
)
def test_chat_models_take_sampling_and_no_reasoning(model: str) -> None:
    traits = MODELS.lookup(model)
    assert (traits.sampling, traits.reasoning, traits.image_input) == (True, False, True)
    assert not traits.audio_input


@pytest.mark.parametrize(
    "model", ["gpt-4o-audio-preview", "gpt-4o-mini-audio-preview-2024-12-17", "gpt-audio-mini"]
)
def test_only_audio_models_take_audio(model: str) -> None:
    assert MODELS.lookup(model).audio_input


def test_an_unknown_model_gets_the_permissive_default() -> None:
    assert MODELS.lookup("llama3.2") is COMPATIBLE
    assert MODELS.lookup("openai/gpt-4o") is MODELS.lookup("gpt-4o")  # OpenRouter's path
    assert COMPATIBLE.sampling and COMPATIBLE.reasoning and COMPATIBLE.audio_input


def test_the_defaulted_temperature_goes_only_to_models_that_take_one() -> None:
    assert body("gpt-4o", default_temperature=0.7)["temperature"] == 0.7
    assert "temperature" not in body("o3-mini", default_temperature=0.7)
    assert "temperature" not in body("gpt-5-mini", default_temperature=0.7)
    assert body("llama3.2", default_temperature=0.7)["temperature"] == 0.7


def test_sampling_settings_are_sent() -> None:
    sent = body(
        temperature=0.3,
        top_p=0.9,
        seed=7,
        presence_penalty=0.5,
        frequency_penalty=-0.5,
        default_temperature=0.7,
    )
    assert sent["temperature"] == 0.3  # the caller's, not the default
    assert (sent["top_p"], sent["seed"]) == (0.9, 7)
    assert (sent["presence_penalty"], sent["frequency_penalty"]) == (0.5, -0.5)


@pytest.mark.parametrize(
    "setting",
    [{"temperature": 0.2}, {"top_p": 0.5}, {"presence_penalty": 1.0}, {"frequency_penalty": 1.0}],
)
def test_an_explicit_sampling_setting_for_a_reasoning_model_is_refused(
    setting: dict[str, float],
) -> None:
    with pytest.raises(ConfigurationError) as info:
        body("o3-mini", **setting)
    (name,) = setting
    assert "'o3-mini'" in str(info.value) and name in str(info.value)


def test_a_seed_goes_to_reasoning_models_too() -> None:
    assert body("o3-mini", seed=3)["seed"] == 3


def test_reasoning_effort() -> None:
    assert body("o3-mini", reasoning={"effort": "high"})["reasoning_effort"] == "high"
    assert body("gpt-5", reasoning={"effort": "minimal"})["reasoning_effort"] == "minimal"
    assert body("qwen3", reasoning={"effort": "low"})["reasoning_effort"] == "low"
    assert "reasoning_effort" not in body("o3-mini")


def test_reasoning_effort_for_a_model_without_reasoning_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="'gpt-4o' takes no reasoning effort"):
        body("gpt-4o", reasoning={"effort": "low"})
    with pytest.raises(ConfigurationError, match="'o1-mini'"):
        body("o1-mini", reasoning={"effort": "low"})


def test_a_thinking_budget_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="effort, not a token budget") as info:
        body("o3", reasoning={"budget_tokens": 2048})
    assert "reasoning={'effort': 'low'}" in str(info.value)


def test_include_thoughts_is_told_once_and_not_sent(told: Callable[[], list[str]]) -> None:
    for _ in range(3):
        sent = body("o3", reasoning={"effort": "low", "include_thoughts": True})
    assert sent["reasoning_effort"] == "low"
    assert len(told()) == 1 and "include_thoughts" in told()[0]


def test_max_tokens_field_follows_the_model_when_not_chosen() -> None:
    def field(model: str, chosen: Any) -> set[str]:
        sent = build_payload(
            LLMRequest(messages=HI, max_tokens=5),
            model=model,
            stream=False,
            max_tokens_field=chosen,
        )
        return {"max_tokens", "max_completion_tokens"} & sent.keys()

    assert field("llama3.2", None) == {"max_tokens"}
    assert field("gpt-4o", None) == {"max_tokens"}
    assert field("o3-mini", None) == {"max_completion_tokens"}  # rejects max_tokens anywhere
    assert field("openai/gpt-5", None) == {"max_completion_tokens"}
    assert field("o3-mini", "max_tokens") == {"max_tokens"}  # a choice is a choice
    assert field("gpt-4o", "max_completion_tokens") == {"max_completion_tokens"}


def test_a_registered_model_is_read(registered: Callable[[str, ModelTraits], None]) -> None:
    registered("ft:o4-mini", OpenAIModelTraits(sampling=False, reasoning=True))
    assert "temperature" not in body("ft:o4-mini:acme", default_temperature=0.7)
    with pytest.raises(ConfigurationError, match="ft:o4-mini:acme"):
        body("ft:o4-mini:acme", temperature=0.1)


def test_traits_registered_after_a_model_was_used_apply_to_its_next_request(
    registered: Callable[[str, ModelTraits], None],
) -> None:
    assert body("ft:late-model", default_temperature=0.7)["temperature"] == 0.7
    registered("ft:late", OpenAIModelTraits(sampling=False))
    assert "temperature" not in body("ft:late-model", default_temperature=0.7)


def test_provider_options_are_deep_merged_last() -> None:
    sent = build_payload(
        LLMRequest(
            messages=HI,
            temperature=0.2,
            provider_options={
                "temperature": 0.9,  # replaces what Aether set
                "stream_options": {"include_obfuscation": False},  # merges beside include_usage
                "response_format": {"type": "json_object"},
                "web_search_options": {"search_context_size": "low"},
            },
        ),
        model="gpt-4o",
        stream=True,
    )
    assert sent["temperature"] == 0.9
    assert sent["stream_options"] == {"include_usage": True, "include_obfuscation": False}
    assert sent["response_format"] == {"type": "json_object"}
    assert sent["web_search_options"] == {"search_context_size": "low"}
    assert request_problems(sent) == []


@pytest.mark.parametrize("streaming", [False, True])
async def test_extra_headers_are_sent_beside_the_providers_own(streaming: bool) -> None:
    seen: list[httpx.Request] = []
    done = b'data: {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}\n\n'

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if streaming:
            return httpx.Response(200, content=done + b"data: [DONE]\n\n")
        return httpx.Response(200, json={"choices": [{"index": 0, "message": {"content": "ok"}}]})

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    provider = OpenAIProvider(api_key="sk-own", http_client=client)
    request = LLMRequest(
        messages=HI,
        extra_headers={"X-Trace": "t-1", "Authorization": "Bearer sk-other"},
    )
    if streaming:
        _ = [chunk async for chunk in provider.stream(request)]
    else:
        await provider.complete(request)
    await client.aclose()
    (sent,) = seen
    assert sent.headers["x-trace"] == "t-1"
    assert sent.headers["authorization"] == "Bearer sk-own"  # the provider's own win
    assert "x-trace" not in json.loads(sent.content)
