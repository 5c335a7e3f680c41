"""An :class:`~aether.llm.contracts.LLMRequest` as the body of ``POST /chat/completions``.

No I/O here. The model's traits (:data:`~aether_openai._models.MODELS`) decide what is sent:
a defaulted temperature only to a model that takes one, an explicit sampling setting or
reasoning setting a model cannot take refused before sending, ``max_completion_tokens`` for
OpenAI's reasoning models, a response schema (``LLMRequest.output``, see ``_output``) only to
a model that answers in one. ``provider_options`` is deep-merged into the body last, so it can
add or override any field.
"""

from __future__ import annotations

from typing import Any, Literal

from aether.config import warn_once
from aether.errors import BadRequestError, ConfigurationError
from aether.http import dump_tool_arguments
from aether.llm.contracts import LLMRequest, Message
from aether.llm.mapping import check_tool_choice
from aether.llm.models import check_sampling
from aether.llm.settings import PromptCacheSettings, ReasoningSettings, deep_merge
from aether_openai._log import logger
from aether_openai._mapping import PROVIDER
from aether_openai._models import MODELS
from aether_openai._output import response_format
from aether_openai._parts import Target, assistant_text, breakpoint_marker, content_to_wire
from aether_openai._tools import check_allowed_tools, tool_choice_to_wire, tool_to_wire

__all__ = ["MaxTokensField", "Target", "build_payload", "message_to_wire", "target_of"]

MaxTokensField = Literal["max_tokens", "max_completion_tokens"]
"""OpenAI deprecated ``max_tokens`` (its reasoning models reject it); many compatible servers
only know ``max_tokens``."""

# Request fields sent as they are, under the same name, when set.
_OPTIONAL = ("top_p", "presence_penalty", "frequency_penalty", "seed")
# The roles whose messages take a cache breakpoint (assistant output takes none).
_MARKABLE = frozenset({"system", "user", "tool"})


# model -> its Target, built once: every request needs one. Checked against the table on each
# use, so traits registered later replace it.
_targets: dict[str, Target] = {}


def target_of(model: str) -> Target:
    """``model`` with its traits from :data:`~aether_openai._models.MODELS`."""
    traits = MODELS.lookup(model)
    target = _targets.get(model)
    if target is None or target.traits is not traits:
        if len(_targets) >= 4096:  # bounded: model names come from callers
            _targets.clear()
        target = _targets[model] = Target(model=model, traits=traits)
    return target


def message_to_wire(message: Message, target: Target) -> dict[str, Any]:
    """One :class:`Message` as a Chat Completions message.

    Raises:
        BadRequestError: A tool message has no ``tool_call_id``.
        ConfigurationError: A part the model or the API cannot take (see ``_parts``).
    """
    role = message.role
    if role == "tool":
        if not message.tool_call_id:
            raise BadRequestError(
                "A 'tool' message needs tool_call_id: set it to the id of the ToolCall it answers.",
                provider=PROVIDER,
            )
        content = content_to_wire(message, target)
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": content}
    if role == "assistant":
        text = assistant_text(message, target)
        if not message.tool_calls:
            return {"role": "assistant", "content": text}
        return {
            "role": "assistant",
            # null, not "", is what the API itself sends for a pure tool-call turn.
            "content": text or None,
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {
                        "name": call.name,
                        "arguments": dump_tool_arguments(call.arguments),
                    },
                }
                for call in message.tool_calls
            ],
        }
    if type(message.content) is str:  # the common message: its text, as it is
        return {"role": role, "content": message.content}
    return {"role": role, "content": content_to_wire(message, target)}


def build_payload(
    request: LLMRequest,
    *,
    model: str,
    stream: bool,
    max_tokens_field: MaxTokensField | None = "max_completion_tokens",
) -> dict[str, Any]:
    """The JSON body of ``POST /chat/completions`` for ``request``.

    Media data in it is :class:`~aether.http.Base64Data`, written as its text by the HTTP
    client (it compares equal to that text).

    Args:
        request: The call.
        model: The model it goes to (the request's, else the provider's default).
        stream: Ask for a stream (with usage in its last chunk).
        max_tokens_field: The field carrying ``max_tokens``; None: ``max_completion_tokens``
            for a model of fixed sampling (OpenAI's reasoning models, which reject
            ``max_tokens``), ``max_tokens`` for any other.

    Raises:
        BadRequestError: A tool message has no ``tool_call_id``, or ``tool_choice`` or
            ``allowed_tools`` cannot be honoured with the request's tools.
        ConfigurationError: A part, setting, tool or output schema the model or the API cannot
            take.
    """
    if request.tool_choice is not None:
        check_tool_choice(request, provider=PROVIDER)
    if request.allowed_tools is not None:
        check_allowed_tools(request)
    target = target_of(model)
    traits = target.traits
    if not traits.sampling:
        check_sampling(
            PROVIDER,
            model,
            traits,
            {
                "temperature": request.temperature,
                "top_p": request.top_p,
                "presence_penalty": request.presence_penalty,
                "frequency_penalty": request.frequency_penalty,
            },
        )
    messages = [message_to_wire(m, target) for m in request.messages]
    cache = request.cache
    if cache:
        _mark_cache(messages, cache, target)
    payload: dict[str, Any] = {"model": model, "messages": messages}
    tokens_field = max_tokens_field or (
        "max_tokens" if traits.sampling else "max_completion_tokens"
    )
    temperature = request.sampling_temperature(traits.sampling)
    if temperature is not None:
        payload["temperature"] = temperature
    for key in _OPTIONAL:
        value = getattr(request, key)
        if value is not None:
            payload[key] = value
    if request.max_tokens is not None:
        payload[tokens_field] = request.max_tokens
    if request.stop:
        payload["stop"] = request.stop
    if request.reasoning:
        effort = _reasoning_effort(request.reasoning, target)
        if effort is not None:
            payload["reasoning_effort"] = effort
    if cache:
        cache_key = _cache_key(cache, target)
        if cache_key is not None:
            payload["prompt_cache_key"] = cache_key
    # Without tools only "auto"/"none" pass the checks, and leaving tool_choice out means the
    # same: the API rejects a tool_choice sent without tools.
    if request.tools:
        payload["tools"] = [tool_to_wire(t) for t in request.tools]
        choice = tool_choice_to_wire(request.tool_choice, request.allowed_tools)
        if choice is not None:
            payload["tool_choice"] = choice
    if request.output is not None:
        payload["response_format"] = response_format(request.output, target)
    if stream:
        payload["stream"] = True
        payload["stream_options"] = {"include_usage": True}
    if request.provider_options:
        payload = deep_merge(payload, request.provider_options)
    return payload


def _reasoning_effort(reasoning: ReasoningSettings, target: Target) -> str | None:
    if reasoning.get("budget_tokens") is not None:
        raise ConfigurationError(
            f"OpenAI takes a reasoning effort, not a token budget: reasoning="
            f"{{'budget_tokens': {reasoning['budget_tokens']}}} cannot be sent to the openai "
            f"model {target.model!r}. Use reasoning={{'effort': 'low'}} ('minimal', 'low', "
            f"'medium' or 'high')."
        )
    if reasoning.get("include_thoughts"):
        warn_once(
            logger,
            "include-thoughts",
            "reasoning={'include_thoughts': True} has no effect with OpenAI Chat Completions: "
            "it returns no thoughts (reasoning_text is filled where a compatible server sends "
            "them on its own). The setting was left out.",
        )
    effort = reasoning.get("effort")
    if effort is None:
        return None
    if not target.traits.reasoning:
        raise ConfigurationError(
            f"The openai model {target.model!r} takes no reasoning effort (reasoning="
            f"{{'effort': {effort!r}}}); remove it, or use a reasoning model (o3, o4-mini, "
            f"gpt-5, ...). If the model does take it, register its traits on "
            f"aether_openai.MODELS."
        )
    return effort


def _cache_key(cache: PromptCacheSettings, target: Target) -> str | None:
    if cache.get("cached_content") is not None:
        raise ConfigurationError(
            f"cache={{'cached_content': ...}} names a Gemini cache; the openai model "
            f"{target.model!r} caches prompt prefixes on its own and takes cache={{'key': "
            f"'...'}} (prompt_cache_key) to share a cache between requests. Remove "
            f"cached_content."
        )
    return cache.get("key")


def _mark_cache(messages: list[dict[str, Any]], cache: PromptCacheSettings, target: Target) -> None:
    """Add the breakpoints ``cache={'system': True, 'messages': True}`` ask for."""
    asked = [name for name in ("system", "tools", "messages") if cache.get(name)]
    if not asked:
        return
    if not target.breakpoints:
        warn_once(
            logger,
            f"cache-settings:{target.model}",
            f"cache={{{', '.join(repr(n) + ': True' for n in asked)}}} has no effect on the "
            f"openai model {target.model!r}: it caches prompt prefixes on its own (explicit "
            f"breakpoints need gpt-5.6 or later). Left out.",
        )
        return
    if cache.get("tools"):
        warn_once(
            logger,
            "cache-tools",
            "cache={'tools': True} has no effect with OpenAI: tool definitions take no cache "
            "breakpoint (they lead the prompt, so the first breakpoint after them covers them). "
            "Left out.",
        )
    if cache.get("system"):
        _mark_last(messages, frozenset({"system"}))
    if cache.get("messages"):
        _mark_last(messages, _MARKABLE)


def _mark_last(messages: list[dict[str, Any]], roles: frozenset[str]) -> None:
    """A breakpoint at the end of the last message with one of ``roles`` and some content."""
    for message in reversed(messages):
        content = message.get("content")
        if message["role"] not in roles or not content:
            continue
        if isinstance(content, str):
            message["content"] = [{"type": "text", "text": content}]
        message["content"][-1]["prompt_cache_breakpoint"] = breakpoint_marker()
        return
