"""``LLMRequest.output`` as Chat Completions' ``response_format`` (structured outputs).

An :class:`~aether.llm.contracts.OutputSpec` becomes ``{"type": "json_schema", "json_schema":
{"name", "description", "schema", "strict"}}``. A strict one (the default) has its schema made
strict-compatible first (:func:`~aether.llm.strict_json_schema`: every property required, the
optional ones nullable, ``additionalProperties: false``, ...) and is sent with ``strict:
true``, so the model's decoding is held to it; a schema strict mode cannot express is refused
before sending, naming each place. A non-strict one is sent as given, without ``strict``
(the API's default, false), and the schema guides the model without binding it.

Only models whose traits say ``native_output`` get one (:data:`~aether_openai.MODELS`); asking
another is a :class:`~aether.errors.ConfigurationError`. The answer's ``text`` is the JSON, and
a model that declines says so in ``message.refusal``, kept on ``LLMResponse.refusal``.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from aether.errors import ConfigurationError
from aether.llm.contracts import OutputSpec
from aether.llm.output_schema import strict_json_schema
from aether_openai._parts import Target

__all__ = ["response_format"]

_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def response_format(output: OutputSpec, target: Target) -> dict[str, Any]:
    """The ``response_format`` asking ``target`` for an answer in ``output``'s schema.

    Raises:
        ConfigurationError: The model does not answer in a response schema, the name is not
            one the API takes, or the schema is strict and cannot be made strict-compatible.
    """
    if not target.traits.native_output:
        raise ConfigurationError(
            f"The openai model {target.model!r} cannot answer in a JSON schema "
            f"(response_format json_schema, structured outputs: gpt-4o-2024-08-06, gpt-4o-mini "
            f"and later), so output {output.name!r} cannot be asked for natively. Use "
            f"output_type=Output(T, mode='tool') or mode='prompted'. If the model does take it, "
            f"register its traits on "
            f"aether_openai.MODELS with native_output=True."
        )
    if not _NAME.fullmatch(output.name):
        raise ConfigurationError(
            f"OpenAI takes a response schema name of 1 to 64 letters, digits, '_' or '-', not "
            f"{output.name!r}; rename the output."
        )
    spec: dict[str, Any] = {"name": output.name}
    if output.description:
        spec["description"] = output.description
    if output.strict:
        spec["schema"] = _strict(output)
        spec["strict"] = True
    else:
        spec["schema"] = output.json_schema
    return {"type": "json_schema", "json_schema": spec}


def _strict(output: OutputSpec) -> dict[str, Any]:
    try:
        return _strict_schema(_Same(output.json_schema))
    except ConfigurationError as exc:
        raise ConfigurationError(f"Output {output.name!r}: {exc}") from None


class _Same:
    """A schema as a cache key by identity, so looking one up costs nothing whatever its size.

    Core asks for one type with one ``OutputSpec`` (and so one schema object) on every call and
    every turn of a tool loop. The key holds the schema, so its id is not reused while cached;
    a schema is taken as unchanged once sent, as core's own caches take it.
    """

    __slots__ = ("schema",)

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema

    def __hash__(self) -> int:
        return id(self.schema)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Same) and other.schema is self.schema


@lru_cache(maxsize=64)
def _strict_schema(key: _Same) -> dict[str, Any]:
    """The strict form of a schema, computed once per schema for every turn of a tool loop.

    Shared between requests: the body is serialised, never changed, once built.
    """
    return _strict_of_text(json.dumps(key.schema))


@lru_cache(maxsize=64)
def _strict_of_text(schema_text: str) -> dict[str, Any]:
    # Equal schemas in other objects (a spec built per call) share one strict form too; keyed
    # by the text in its own key order, which is the answer's key order.
    return strict_json_schema(json.loads(schema_text))
