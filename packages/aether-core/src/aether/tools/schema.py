"""A tool's argument model and JSON Schema, generated once from its signature and docstring.

Pydantic builds both: the model validates what the LLM sends, and its JSON Schema tells the
LLM what to send, so the two can never disagree. Parameter descriptions come from the
docstring (Google, NumPy or reST style, via ``docstring_parser``) unless the annotation
already carries one (``Annotated[str, Field(description=...)]``).
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import docstring_parser
from pydantic import BaseModel, ConfigDict, Field, PydanticUserError, create_model
from pydantic.fields import FieldInfo
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import CoreSchema

from aether.errors import ConfigurationError

__all__ = ["ArgumentsSchema", "build_arguments_schema", "describe_function"]


@dataclass(frozen=True, slots=True)
class ArgumentsSchema:
    """What a tool needs to validate and describe its arguments, computed once.

    Attributes:
        model: Validates an arguments object; its fields are aliased to the parameter names.
        parameters: The JSON Schema of the arguments object (an ``object`` schema).
        positional_only: Parameter names that must be passed positionally, in order.
        names: ``(model field, parameter name)`` pairs, in signature order.
    """

    model: type[BaseModel]
    parameters: dict[str, Any]
    positional_only: tuple[str, ...]
    names: tuple[tuple[str, str], ...]


class _ToolJsonSchema(GenerateJsonSchema):
    """Pydantic's generator minus per-field titles ("A", "Customer Id"): tokens, no meaning."""

    def field_title_should_be_set(self, schema: CoreSchema) -> bool:
        return False


def describe_function(function: Callable[..., Any]) -> tuple[str, dict[str, str]]:
    """The function's description and its parameters' descriptions, from the docstring.

    The description is the docstring's summary and body, without the ``Args``/``Parameters``
    sections, which end up in the schema instead.
    """
    doc = inspect.getdoc(function) or ""
    if not doc:
        return "", {}
    # The leading newline lets a docstring that starts with its ``Args:`` section (no
    # summary line) parse as Google style instead of as a one-line summary "Args:".
    parsed = docstring_parser.parse("\n" + doc)
    text = "\n\n".join(
        part.strip()
        for part in (parsed.short_description, parsed.long_description)
        if part and part.strip()
    )
    params = {p.arg_name: p.description.strip() for p in parsed.params if p.description}
    return text, params


def build_arguments_schema(
    function: Callable[..., Any], *, name: str, descriptions: dict[str, str]
) -> ArgumentsSchema:
    """Build the argument model and JSON Schema of ``function`` (called once per tool).

    Args:
        function: The tool's function.
        name: The tool's name, used in error messages.
        descriptions: Parameter descriptions (typically from :func:`describe_function`).

    Raises:
        ConfigurationError: A parameter cannot be described to a model (``*args``,
            ``**kwargs``, an annotation that does not resolve or that pydantic cannot handle).
    """
    signature = inspect.signature(function)
    hints = _type_hints(function, name)
    fields: dict[str, Any] = {}
    positional_only: list[str] = []
    for index, param in enumerate(signature.parameters.values()):
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise ConfigurationError(
                f"Tool {name!r} takes {param}; a model can only call tools with named "
                f"parameters. Replace it by explicit parameters (a list or dict if needed)."
            )
        if param.kind is param.POSITIONAL_ONLY:
            positional_only.append(param.name)
        annotation = hints.get(param.name, Any)
        default = ... if param.default is param.empty else param.default
        extra: dict[str, Any] = {}
        if param.name in descriptions and not _has_description(annotation):
            extra["description"] = descriptions[param.name]  # an explicit None would win
        # Fields get neutral names aliased to the parameter's: a parameter may be called
        # ``json`` or ``model_config`` without clashing with BaseModel's attributes.
        fields[f"p{index}"] = (annotation, Field(default, alias=param.name, **extra))
    try:
        model = create_model(
            f"{name}_arguments",
            __config__=ConfigDict(extra="forbid"),
            **fields,
        )
        parameters = model.model_json_schema(by_alias=True, schema_generator=_ToolJsonSchema)
    except (PydanticUserError, TypeError, ValueError) as exc:
        raise ConfigurationError(
            f"Cannot build the argument schema of tool {name!r}: {exc}. Annotate its "
            f"parameters with JSON-compatible types (str, int, list, dict, Literal, Enum, "
            f"pydantic models, dataclasses)."
        ) from exc
    parameters.pop("title", None)
    parameters.setdefault("properties", {})
    names = tuple((field, info.alias or field) for field, info in model.model_fields.items())
    return ArgumentsSchema(model, parameters, tuple(positional_only), names)


def _type_hints(function: Callable[..., Any], name: str) -> dict[str, Any]:
    target: Any = function
    if isinstance(target, functools.partial):
        target = target.func
    elif not inspect.isroutine(target):
        target = type(target).__call__  # a callable object: its __call__ is the signature
    try:
        return typing.get_type_hints(target, include_extras=True)
    except Exception as exc:
        raise ConfigurationError(
            f"Cannot resolve the type annotations of tool {name!r}: {exc}. Define the types "
            f"it uses at module level (string annotations are resolved in the function's "
            f"module)."
        ) from exc


def _has_description(annotation: Any) -> bool:
    if typing.get_origin(annotation) is not Annotated:
        return False
    return any(isinstance(meta, FieldInfo) and meta.description for meta in annotation.__metadata__)
