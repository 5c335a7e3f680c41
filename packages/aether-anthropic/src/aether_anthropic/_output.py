"""``LLMRequest.output`` as Anthropic's structured output (JSON outputs; no I/O here).

The request asks for ``output_config: {"format": {"type": "json_schema", "schema": ...}}``, and
the answer's text is JSON following the schema, which Anthropic holds the model to with a
grammar (so ``OutputSpec.strict`` changes nothing: it is always strict). The schema is first
rewritten to the subset the grammar takes (:mod:`._schema`). ``OutputSpec.name`` has no
Anthropic field; its ``description`` becomes the schema's, when the schema has none (and is
not a lone ``$ref``).

The format is generally available, with no beta header. Where the call's ``anthropic-beta``
names :data:`STRUCTURED_OUTPUTS_BETA` (a platform where structured outputs are still a beta,
or a gateway on an older API version), the beta's shape is sent instead: a top-level
``output_format``.

Refused before sending: a model whose :class:`~aether_anthropic.ClaudeTraits` say
``native_output=False``, and a conversation ending in an assistant turn (a prefill), which
the API does not take with a JSON output.
"""

from __future__ import annotations

from typing import Any

from aether.errors import ConfigurationError
from aether.llm.contracts import OutputSpec
from aether_anthropic._messages import Conversation
from aether_anthropic._models import ClaudeTraits
from aether_anthropic._schema import grammar_schema

__all__ = ["STRUCTURED_OUTPUTS_BETA", "output_format"]

STRUCTURED_OUTPUTS_BETA = "structured-outputs-2025-11-13"
"""The ``anthropic-beta`` of structured outputs before they were generally available; with it
the format goes as a top-level ``output_format``."""


def output_format(
    spec: OutputSpec, *, model: str, traits: ClaudeTraits, conversation: Conversation
) -> dict[str, Any]:
    """The ``format`` object asking ``model`` for an answer in ``spec``'s schema.

    Raises:
        ConfigurationError: The model has no native structured output, the conversation ends
            in a prefill, or the schema cannot be expressed (see :mod:`._schema`).
    """
    if not traits.native_output:
        raise ConfigurationError(
            f"The anthropic model {model!r} has no native structured output (its row in "
            f"aether_anthropic.MODELS says native_output=False), but the call asks for an "
            f"answer in the {spec.name!r} schema. Ask with output_type=Output(T, mode='tool') "
            f"instead, use a "
            f"model that has it (Claude Sonnet 4.5, Haiku 4.5, Opus 4.5 or later), or register "
            f"the model's traits if it does."
        )
    if conversation.turns and conversation.turns[-1]["role"] == "assistant":
        raise ConfigurationError(
            f"Anthropic takes no prefilled answer (a conversation ending in an assistant "
            f"message) with structured output, but the call to {model!r} ends in one and asks "
            f"for the {spec.name!r} schema: end the conversation with a user message."
        )
    schema = grammar_schema(
        spec.json_schema,
        subject=f"the {spec.name!r} answer's schema",
        fix="ask for the answer with output_type=Output(T, mode='tool') or mode='prompted'",
    )
    if spec.description and not {"description", "$ref"} & schema.keys():
        schema["description"] = spec.description
    return {"type": "json_schema", "schema": schema}
