"""What each OpenAI model accepts: :data:`MODELS`, a table users extend for their own models.

The provider reads it on every request: a defaulted temperature is not sent to a model of fixed
sampling, an explicit one is refused before sending, and media, reasoning and cache breakpoints
are mapped only where the model takes them. Register a fine-tune or a new model::

    from aether_openai import MODELS, OpenAIModelTraits
    MODELS.register("ft:o4-mini", OpenAIModelTraits(sampling=False, reasoning=True))

A model no row matches (an OpenAI-compatible server's ``llama3.2``, ``qwen3``, ...) gets
:data:`COMPATIBLE`: sampling, reasoning effort, every kind of media and cache breakpoints are
all sent as asked. Refusing them would block servers that do take them, and a server that does
not answers with an error of its own naming what it rejected, so nothing is dropped silently.

The same goes for structured output: a model no row matches answers in a response schema
(``native_output``), since vLLM, llama.cpp's server, Ollama, LM Studio and most hosted
servers constrain decoding to a ``json_schema`` ``response_format``, which needs no tool
calling from the model. For a server that takes JSON mode only (or ignores
``response_format``), register its models without it, so structured output uses a tool or
instructions instead::

    MODELS.register("llama3", dataclasses.replace(MODELS.default, native_output=False))
"""

from __future__ import annotations

from dataclasses import dataclass

from aether.llm.models import ModelTable, ModelTraits

__all__ = ["COMPATIBLE", "MODELS", "OpenAIModelTraits", "takes_cache_breakpoints"]


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenAIModelTraits(ModelTraits):
    """:class:`~aether.llm.ModelTraits` plus what only OpenAI's models differ in.

    Attributes:
        cache_breakpoints: Takes explicit prompt-cache breakpoints (``prompt_cache_breakpoint``
            on a content part, gpt-5.6 and later). Elsewhere a cache mark has no effect (the
            model caches prompt prefixes on its own) and is left out with a one-time warning.
    """

    cache_breakpoints: bool = False


def takes_cache_breakpoints(traits: ModelTraits) -> bool:
    """Whether ``traits`` take cache breakpoints (plain ``ModelTraits`` registered: no)."""
    return isinstance(traits, OpenAIModelTraits) and traits.cache_breakpoints


# Structured outputs (response_format json_schema) came with gpt-4o-2024-08-06 and gpt-4o-mini;
# older chat models and the audio and ChatGPT variants take JSON mode at most.
_CHAT = OpenAIModelTraits(native_output=True)
_OLD_CHAT = OpenAIModelTraits()
_TEXT_ONLY = OpenAIModelTraits(image_input=False, document_input=False)
_AUDIO = OpenAIModelTraits(image_input=False, document_input=False, audio_input=True)
# OpenAI's reasoning models take no temperature, top_p or penalties (only their own defaults).
_REASONING = OpenAIModelTraits(sampling=False, reasoning=True, native_output=True)
_REASONING_TEXT = OpenAIModelTraits(
    sampling=False, reasoning=True, image_input=False, document_input=False, native_output=True
)
# The first reasoning models take no reasoning_effort (nor a response schema) either.
_EARLY_REASONING = OpenAIModelTraits(sampling=False, image_input=False, document_input=False)
_BREAKPOINTS = OpenAIModelTraits(
    sampling=False, reasoning=True, native_output=True, cache_breakpoints=True
)

COMPATIBLE = OpenAIModelTraits(
    sampling=True,
    reasoning=True,
    image_input=True,
    document_input=True,
    audio_input=True,
    native_output=True,
    cache_breakpoints=True,
)
"""The traits of a model :data:`MODELS` does not know: everything is sent as asked."""

MODELS = ModelTable(
    {
        "gpt-3.5": _TEXT_ONLY,
        "gpt-4": _TEXT_ONLY,
        "gpt-4-turbo": _OLD_CHAT,
        "gpt-4o": _CHAT,
        "gpt-4o-2024-05-13": _OLD_CHAT,
        "gpt-4o-audio": _AUDIO,
        "gpt-4o-mini": _CHAT,
        "gpt-4o-mini-audio": _AUDIO,
        "gpt-audio": _AUDIO,
        "chatgpt-4o": _OLD_CHAT,
        "gpt-4.1": _CHAT,
        "gpt-4.5": _CHAT,
        "o1": _REASONING,
        "o1-mini": _EARLY_REASONING,
        "o1-preview": _EARLY_REASONING,
        "o3": _REASONING,
        "o3-mini": _REASONING_TEXT,
        "o4": _REASONING,
        "codex-mini": _REASONING,
        "gpt-5": _REASONING,
        "gpt-5.6": _BREAKPOINTS,
        "gpt-6": _BREAKPOINTS,
    },
    default=COMPATIBLE,
)
"""OpenAI's models by name prefix (the longest matching prefix wins; a ``vendor/`` path, as
OpenRouter's ``openai/gpt-4o``, is ignored)."""
