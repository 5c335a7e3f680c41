"""A provider declares what it serves; the kit and the client read it through any layers."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import pytest

from aether.errors import ConfigurationError
from aether.extensions.llm.builder import ProviderConfig, build_provider
from aether.extensions.llm.fake import FakeProvider
from aether.llm import ProviderCapabilities, capabilities_of, check_supported
from aether.llm.contracts import LLMRequest, Message, ToolCall, ToolSpec
from aether_anthropic import AnthropicProvider
from aether_gemini import GeminiProvider
from aether_openai import OpenAIProvider


class TextOnly(FakeProvider):
    name = "text-only"
    capabilities = ProviderCapabilities(tools=False)


def _request(**fields: Any) -> LLMRequest:
    return LLMRequest(messages=[Message(role="user", content="hi")], **fields)


def test_undeclared_means_the_base_contract_and_nothing_opt_in() -> None:
    class Undeclared:
        async def complete(self, request: object) -> None: ...

    claimed = capabilities_of(Undeclared())
    assert claimed == ProviderCapabilities()
    assert [name for name in claimed.names() if claimed.claims(name)] == ["tools", "streaming"]


def test_the_bundled_providers_claim_what_they_map() -> None:
    claimed = {
        provider: vars(provider)["capabilities"]
        for provider in (OpenAIProvider, GeminiProvider, AnthropicProvider)
    }
    media = ("image_input", "document_input", "audio_input", "reasoning")
    assert {p.__name__: [m for m in media if c.claims(m)] for p, c in claimed.items()} == {
        "OpenAIProvider": ["image_input", "document_input", "audio_input", "reasoning"],
        "GeminiProvider": ["image_input", "document_input", "audio_input", "reasoning"],
        "AnthropicProvider": ["image_input", "document_input", "reasoning"],  # no audio input
    }
    assert all(c.tools and c.streaming for c in claimed.values())
    assert claimed[GeminiProvider].structured_output


def test_a_declaration_is_frozen_and_keyword_only() -> None:
    claimed = ProviderCapabilities(tools=False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        claimed.tools = True  # type: ignore[misc]
    with pytest.raises(TypeError):
        ProviderCapabilities(False)  # type: ignore[call-arg]


def test_a_value_other_than_a_bool_is_refused_by_name() -> None:
    with pytest.raises(TypeError, match=r"not tools='no', reasoning=1\.$"):
        ProviderCapabilities(tools="no", reasoning=1)  # type: ignore[arg-type]


def test_an_unknown_capability_name_is_an_error_not_a_no() -> None:
    with pytest.raises(ValueError, match="'tool' is not a provider capability; known: tools, "):
        ProviderCapabilities().claims("tool")


def test_the_declaration_is_found_through_the_client_stack() -> None:
    provider = TextOnly()
    stack = build_provider(ProviderConfig(), provider=provider)
    assert stack is not provider, "the default config wraps the provider in layers"
    assert capabilities_of(stack) == ProviderCapabilities(tools=False)


def test_a_declaration_of_the_wrong_type_says_how_to_write_it() -> None:
    class Sloppy(FakeProvider):
        capabilities: ClassVar[object] = {"tools": False}

    with pytest.raises(TypeError, match=r"Sloppy.capabilities is \{'tools': False\}; it must be"):
        capabilities_of(build_provider(ProviderConfig(), provider=Sloppy()))


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"tools": [ToolSpec(name="add")]}, "the request offers tools ('add')"),
        ({"tool_choice": "required"}, "the request sets tool_choice='required'"),
        (
            {
                "messages": [
                    Message(role="user", content="2+3?"),
                    Message(role="assistant", tool_calls=[ToolCall(id="c1", name="add")]),
                    Message(role="tool", content="5", tool_call_id="c1", name="add"),
                ]
            },
            "the conversation holds tool calls or their results",
        ),
    ],
)
def test_tool_use_is_refused_for_a_provider_without_tools(fields: dict[str, Any], why: str) -> None:
    request = _request(**fields) if "messages" not in fields else LLMRequest(**fields)
    stack = build_provider(ProviderConfig(), provider=TextOnly())
    with pytest.raises(ConfigurationError) as caught:
        check_supported(stack, request)
    assert str(caught.value) == (
        f"The 'text-only' provider does not support tools (TextOnly.capabilities has "
        f"tools=False), but {why}: send the request without tools, or use a provider that "
        f"supports them."
    )


@pytest.mark.parametrize("choice", [None, "auto", "none"])
def test_a_request_without_tool_use_is_served(choice: str | None) -> None:
    check_supported(TextOnly(), _request(tool_choice=choice))


def test_tool_use_is_served_when_claimed_or_undeclared() -> None:
    class WithTools(FakeProvider):
        capabilities = ProviderCapabilities(tools=True, streaming=False)

    request = _request(tools=[ToolSpec(name="add")], tool_choice="add")
    check_supported(FakeProvider(), request)
    check_supported(build_provider(ProviderConfig(), provider=WithTools()), request)


def test_streaming_is_never_refused() -> None:
    class CompleteOnly(FakeProvider):
        capabilities = ProviderCapabilities(streaming=False)

    check_supported(CompleteOnly(), _request())  # the client streams it as one chunk
