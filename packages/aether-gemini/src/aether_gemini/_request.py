"""The body of ``generateContent``: contents, tools, ``generationConfig``, caching, options.

Every setting a model cannot take is refused here, before anything is sent, with the model
named and what it takes instead; settings meant for other providers' caches are said once in
the log and have no effect. ``provider_options`` is laid over the finished body last. The
answer's schema (``LLMRequest.output``) is :mod:`aether_gemini._output`'s to map.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aether.config import warn_once
from aether.errors import BadRequestError, ConfigurationError
from aether.llm.contracts import LLMRequest
from aether.llm.mapping import check_tool_choice
from aether.llm.models import check_sampling
from aether.llm.parts import TextPart
from aether.llm.settings import deep_merge
from aether_gemini._contents import build_contents
from aether_gemini._log import logger
from aether_gemini._mapping import PROVIDER
from aether_gemini._models import GeminiTraits, traits_for
from aether_gemini._output import response_format
from aether_gemini._schema import DeclarationCache
from aether_gemini._tools import function_calling

__all__ = ["EFFORT_BUDGETS", "build_payload", "thinking_config"]

EFFORT_BUDGETS = {"low": 1024, "medium": 8192, "high": 24576}
"""``thinkingBudget`` per effort on a budget model (Gemini 2.5), within the model's range;
``high`` is the model's most, ``minimal`` turns thinking off."""

# Only these may sit beside cachedContent: the rest must be in the cache itself.
_NOT_WITH_CACHE = ("systemInstruction", "tools", "toolConfig")


def _budget(budget: int, model: str, traits: GeminiTraits) -> int:
    span = traits.thinking_budget
    takes = f"{span[0]} to {span[1]} tokens" if span else "a budget above 0"
    if budget == 0 and not traits.thinking_off:
        raise ConfigurationError(
            f"The gemini model {model!r} cannot turn thinking off (a budget of 0); give "
            f"{takes}, or a low effort."
        )
    if budget and span and not span[0] <= budget <= span[1]:
        off = ", or 0 to turn thinking off" if traits.thinking_off else ""
        raise ConfigurationError(
            f"The gemini model {model!r} takes a thinking budget of {takes}{off}; got "
            f"budget_tokens={budget}."
        )
    return budget


def _effort(effort: str, model: str, traits: GeminiTraits) -> dict[str, Any]:
    levels = traits.thinking_levels
    if levels:
        if effort not in levels:
            off = " (it cannot turn thinking off)" if effort == "minimal" else ""
            raise ConfigurationError(
                f"The gemini model {model!r} takes reasoning effort {', '.join(levels)}, not "
                f"{effort!r}{off}."
            )
        return {"thinkingLevel": effort.upper()}
    if effort == "minimal":
        if not traits.thinking_off:
            raise ConfigurationError(
                f"Reasoning effort 'minimal' turns thinking off, which the gemini model "
                f"{model!r} cannot do; use effort 'low', or budget_tokens."
            )
        return {"thinkingBudget": 0}
    budget = EFFORT_BUDGETS[effort]
    span = traits.thinking_budget
    if span is not None:
        budget = span[1] if effort == "high" else min(max(budget, span[0]), span[1])
    return {"thinkingBudget": budget}


def thinking_config(
    reasoning: Mapping[str, Any] | None, model: str, traits: GeminiTraits
) -> dict[str, Any] | None:
    """``thinkingConfig`` for the request's reasoning settings; None when there are none.

    Raises:
        ConfigurationError: Both effort and a budget, reasoning for a model that does not
            think, an effort or budget the model does not take.
    """
    if not reasoning:
        return None
    effort = reasoning.get("effort")
    budget = reasoning.get("budget_tokens")
    thoughts = reasoning.get("include_thoughts")
    if effort is not None and budget is not None:
        raise ConfigurationError(
            f"reasoning takes effort or budget_tokens, not both (Gemini's thinkingLevel and "
            f"thinkingBudget exclude each other); got effort={effort!r}, budget_tokens={budget}."
        )
    if not traits.reasoning:
        if effort is None and not budget and not thoughts:
            return None  # thinking off, or thoughts not wanted: what this model does anyway
        raise ConfigurationError(
            f"The gemini model {model!r} does not think, so it takes no reasoning settings "
            f"(got {dict(reasoning)!r}): remove them, or use a thinking model such as "
            f"gemini-2.5-flash. If it does think, register its traits on aether_gemini.MODELS."
        )
    config: dict[str, Any] = {}
    if effort is not None:
        config.update(_effort(effort, model, traits))
    if budget is not None:
        config["thinkingBudget"] = _budget(budget, model, traits)
    if thoughts is not None:
        config["includeThoughts"] = thoughts
    return config or None


def _generation_config(request: LLMRequest, model: str, traits: GeminiTraits) -> dict[str, Any]:
    explicit = {
        "temperature": request.temperature,
        "top_p": request.top_p,
        "presence_penalty": request.presence_penalty,
        "frequency_penalty": request.frequency_penalty,
    }
    check_sampling(PROVIDER, model, traits, explicit)
    wanted = {
        "temperature": request.sampling_temperature(traits.sampling and traits.default_temperature),
        "topP": request.top_p,
        "seed": request.seed,
        "presencePenalty": request.presence_penalty,
        "frequencyPenalty": request.frequency_penalty,
        "maxOutputTokens": request.max_tokens,
        "stopSequences": request.stop or None,
        "thinkingConfig": thinking_config(request.reasoning, model, traits),
    }
    return {key: value for key, value in wanted.items() if value is not None}


def _apply_cache(payload: dict[str, Any], request: LLMRequest) -> None:
    cache: Mapping[str, Any] = request.cache or {}
    name = cache.get("cached_content")
    if name is not None and not isinstance(name, str):
        raise ConfigurationError(
            f"cache cached_content is the name of a Gemini cache ('cachedContents/...'), "
            f"got {type(name).__name__}."
        )
    if name:
        payload["cachedContent"] = name if "/" in name else f"cachedContents/{name}"
        moved = [key for key in _NOT_WITH_CACHE if payload.pop(key, None) is not None]
        if moved:
            warn_once(
                logger,
                "cached_content",
                f"Gemini takes no {', '.join(moved)} beside cachedContent, so they are not "
                f"sent with it: the cache holds them (create it with the system instruction "
                f"and tools it is used with). Tools the model calls are still run.",
            )
    if cache.get("key"):
        warn_once(
            logger,
            "cache.key",
            "cache 'key' (OpenAI's prompt_cache_key) has no effect on Gemini, which caches "
            "repeated prompt prefixes on its own; cache 'cached_content' names an explicit cache.",
        )
    marked = [f"cache {key!r}" for key in ("system", "tools", "messages") if cache.get(key)]
    if any(
        isinstance(part, TextPart) and part.cache
        for message in request.messages
        if not isinstance(message.content, str)
        for part in message.content
    ):
        marked.append("TextPart(cache=True)")
    if marked:
        warn_once(
            logger,
            "cache.breakpoints",
            f"{', '.join(marked)}: cache breakpoints (Anthropic's) have no effect on Gemini, "
            f"which caches repeated prompt prefixes on its own; cache 'cached_content' names "
            f"an explicit cache.",
        )


def build_payload(
    request: LLMRequest, model: str, declarations: DeclarationCache
) -> dict[str, Any]:
    """The JSON body of ``models/<model>:generateContent`` (and the streaming variant).

    Raises:
        BadRequestError: The conversation has no user or assistant content, a tool message
            names no function, or ``tool_choice``/``allowed_tools`` cannot be honoured with
            the request's tools.
        ConfigurationError: A part, sampling or reasoning setting the model cannot take, or
            an answer's schema it cannot take (beside function calling, before Gemini 3).
    """
    traits = traits_for(model)
    check_tool_choice(request, provider=PROVIDER)
    contents, instruction = build_contents(request.messages, model, traits)
    if not contents:
        raise BadRequestError(
            "The conversation has no user or assistant content; Gemini needs at least one "
            "non-system message.",
            provider=PROVIDER,
        )
    payload: dict[str, Any] = {"contents": contents}
    if instruction is not None:
        payload["systemInstruction"] = instruction
    calling, offered = function_calling(request, model, traits)
    if offered:
        json_schema = traits.json_schema_tools
        declared = [declarations.declaration(t, json_schema=json_schema) for t in offered]
        payload["tools"] = [{"functionDeclarations": declared}]
    if calling is not None:
        payload["toolConfig"] = {"functionCallingConfig": calling}
    may_call = bool(offered) and (calling is None or calling["mode"] != "NONE")
    generation = _generation_config(request, model, traits)
    generation.update(response_format(request, model, traits, may_call=may_call))
    if generation:
        payload["generationConfig"] = generation
    _apply_cache(payload, request)
    if request.provider_options:
        payload = deep_merge(payload, request.provider_options)
    return payload
