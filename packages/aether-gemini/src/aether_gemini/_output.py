"""The answer's schema: ``LLMRequest.output`` as ``responseMimeType`` and a response schema.

Gemini holds an answer to a schema given in ``generationConfig``: ``responseJsonSchema``, the
JSON Schema whole (Gemini 2.0 and later), or ``responseSchema``, Gemini's OpenAPI subset, into
which the schema is translated by :func:`~aether_gemini._schema.translate_schema` (what that
loses is said once in the log). Decoding is constrained either way, so ``OutputSpec.strict``
has nothing to change here, and Gemini has no field for the schema's name. Before Gemini 3 a
model cannot answer in a schema in a request that lets it call functions (HTTP 400 "Function
calling with a response mime type: 'application/json' is unsupported"): that is refused
before sending, except under ``tool_choice='none'`` (mode ``NONE``), which Gemini takes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from aether.config import warn_once
from aether.errors import ConfigurationError
from aether.llm.contracts import LLMRequest, OutputSpec
from aether_gemini._log import logger
from aether_gemini._models import GeminiTraits
from aether_gemini._schema import translate_schema

__all__ = ["response_format"]

_SCHEMA_KEYS = ("responseJsonSchema", "responseSchema", "response_json_schema", "response_schema")


def _schema(output: OutputSpec) -> dict[str, Any]:
    schema = output.json_schema
    # The description tells the model what the answer is; the schema's own wins, and a root
    # $ref takes no siblings.
    if output.description and "description" not in schema and "$ref" not in schema:
        schema = {**schema, "description": output.description}
    return schema


def _check_options(request: LLMRequest) -> None:
    generation = request.provider_options.get("generationConfig")
    given = [k for k in _SCHEMA_KEYS if isinstance(generation, Mapping) and k in generation]
    if given:
        raise ConfigurationError(
            f"The answer's schema is given twice, as output and as provider_options "
            f"generationConfig.{given[0]} (Gemini takes one): remove it from provider_options."
        )


def _translated(output: OutputSpec, schema: dict[str, Any], model: str) -> dict[str, Any]:
    translated, issues = translate_schema(schema)
    if issues:
        text = json.dumps(schema, sort_keys=True, ensure_ascii=False)
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        warn_once(
            logger,
            f"output:{model}:{output.name}:{digest}",
            f"The gemini model {model!r} takes the answer's schema only in the OpenAPI subset "
            f"(responseSchema), which cannot say all of {output.name!r}: "
            f"{'; '.join(map(str, issues))}. The answer is asked for in the simpler form; "
            f"simplify the type, or register GeminiTraits(json_schema_output=True) for the "
            f"model on aether_gemini.MODELS if it takes responseJsonSchema.",
        )
    return translated


def response_format(
    request: LLMRequest, model: str, traits: GeminiTraits, *, may_call: bool
) -> dict[str, Any]:
    """The ``generationConfig`` fields asking for the answer in ``request.output``'s schema.

    Empty when the request asks for free text.

    Args:
        request: The request.
        model: The model, for messages.
        traits: The model's traits.
        may_call: The request lets the model call a declared function.

    Raises:
        ConfigurationError: The model takes no response schema, cannot take one beside
            function calling, or ``provider_options`` gives a schema too.
    """
    output = request.output
    if output is None:
        return {}
    if not traits.native_output:
        raise ConfigurationError(
            f"The gemini model {model!r} takes no response schema (its traits say "
            f"native_output=False), but the request asks for the answer {output.name!r} in "
            f"one: use output_type=Output(T, mode='tool') or mode='prompted', or register its "
            f"traits with "
            f"native_output=True on aether_gemini.MODELS if it takes one."
        )
    if may_call and not traits.output_with_tools:
        raise ConfigurationError(
            f"The gemini model {model!r} cannot answer in a schema ({output.name!r}) while it "
            f"may call functions (Gemini refuses a response schema beside function calling "
            f"before Gemini 3): use output_type=Output(T, mode='tool'), set tool_choice='none', "
            f"send the "
            f"request without tools, or use a Gemini 3 model."
        )
    _check_options(request)
    schema = _schema(output)
    if traits.json_schema_output:
        return {"responseMimeType": "application/json", "responseJsonSchema": schema}
    return {
        "responseMimeType": "application/json",
        "responseSchema": _translated(output, schema, model),
    }
