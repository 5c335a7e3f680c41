"""A JSON schema as Anthropic's grammar takes it: structured output and strict tools (no I/O).

Anthropic holds the model to a JSON output's schema, and to a strict tool's input schema, with
a grammar, which takes a subset of JSON Schema:

* every object must say ``additionalProperties: false``: it is added where missing, and an
  object that allows any keys (a ``dict``: ``additionalProperties`` true or a schema, or no
  ``properties`` at all) is refused, since the grammar cannot express it;
* constraints the grammar does not take (``minimum``, ``maxLength``, ``maxItems``, a
  ``minItems`` above 1, a string ``format`` it does not know...) are moved into the
  ``description``, so the model still reads them, and validation enforces them;
* ``oneOf`` becomes ``anyOf``; an ``allOf`` of one ``$ref`` becomes that ``$ref``; a ``$ref``
  with keywords beside it (a field's ``description``) becomes the definition it names, with
  them; annotations without meaning for the answer (``examples``, ``$schema``,
  ``discriminator``...) are dropped;
* recursive schemas and references outside the schema are refused.

Unlike OpenAI's strict mode, optional properties stay optional (and keep their defaults).
A schema that already follows these rules is sent unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from aether.errors import ConfigurationError

__all__ = ["grammar_schema"]

_FORMATS = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "uri", "ipv4", "ipv6", "uuid"}
)
_KEPT = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "enum",
        "const",
        "anyOf",
        "allOf",
        "$defs",
        "definitions",
        "description",
        "title",
        "default",
        "pattern",
    }
)
# ``discriminator`` is an OpenAPI hint: each branch's ``const`` tag already says it.
_DROPPED = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
        "discriminator",
    }
)
_DEFS = ("$defs", "definitions")


@dataclass(frozen=True)
class _Context:
    defs: Mapping[str, Any]
    """The schema's definitions by the ``$ref`` that names them."""
    subject: str
    fix: str


def grammar_schema(schema: Mapping[str, Any], *, subject: str, fix: str) -> dict[str, Any]:
    """``schema`` rewritten to the subset Anthropic's grammar takes (see the module docs).

    Args:
        schema: The schema (pydantic's ``model_json_schema()``, or one written by hand).
        subject: What the schema is, for errors ("the answer's schema").
        fix: The way out an error offers when the schema cannot be expressed.

    Raises:
        ConfigurationError: The schema allows free-form objects, is recursive, or refers
            outside itself.
    """
    context = _Context(_definitions(schema), subject, fix)
    _check_references(schema, context)
    return _node(schema, "#", context)


def _definitions(schema: Mapping[str, Any]) -> dict[str, Any]:
    defs: dict[str, Any] = {}
    for key in _DEFS:
        found = schema.get(key)
        if isinstance(found, Mapping):
            defs.update({f"#/{key}/{name}": item for name, item in found.items()})
    return defs


def _node(schema: Mapping[str, Any], path: str, context: _Context) -> dict[str, Any]:
    schema = _unwrap(schema)
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return _reference(schema, ref, path, context)
    out: dict[str, Any] = {}
    leftover: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _DROPPED:
            continue
        if key in ("anyOf", "oneOf", "allOf") and isinstance(value, list):
            union = "allOf" if key == "allOf" else "anyOf"
            out[union] = [_sub(item, f"{path}/{key}/{i}", context) for i, item in enumerate(value)]
        elif key in ("properties", *_DEFS) and isinstance(value, Mapping):
            out[key] = _each(value, f"{path}/{key}", context)
        elif key == "items" and isinstance(value, Mapping):
            out[key] = _sub(value, f"{path}/items", context)
        elif _takes(key, value):
            out[key] = value
        else:
            leftover[key] = value
    if _is_object(out):
        _close(out, path, context)
    if leftover:
        described = ", ".join(f"{key}: {json.dumps(value)}" for key, value in leftover.items())
        before = out.get("description")
        out["description"] = (f"{before}\n\n" if before else "") + "{" + described + "}"
    return out


def _unwrap(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """An ``allOf`` of one ``$ref`` (how older generators annotate a reference) as the ``$ref``:
    Anthropic takes no ``allOf`` holding a ``$ref``."""
    single = schema.get("allOf")
    if isinstance(single, list) and len(single) == 1 and isinstance(single[0], Mapping):
        ref = single[0].get("$ref")
        if isinstance(ref, str) and "$ref" not in schema:
            rest = {key: value for key, value in schema.items() if key != "allOf"}
            return {**rest, "$ref": ref}
    return schema


def _reference(schema: Mapping[str, Any], ref: str, path: str, context: _Context) -> dict[str, Any]:
    """A ``$ref`` alone (with the definitions, at the root), or the definition it names with
    the keywords beside it (a field's ``description``): the API takes no ``$ref`` with
    siblings, and the schema holds no cycle, so the definition can stand in its place."""
    beside = {key: value for key, value in schema.items() if key not in ("$ref", *_DEFS)}
    named = context.defs.get(ref)
    if beside and isinstance(named, Mapping):
        return _node({**named, **beside}, path, context)
    out: dict[str, Any] = {"$ref": ref}
    for key in _DEFS:
        found = schema.get(key)
        if isinstance(found, Mapping):
            out[key] = _each(found, f"{path}/{key}", context)
    return out


def _each(schemas: Mapping[str, Any], path: str, context: _Context) -> dict[str, Any]:
    return {name: _sub(item, f"{path}/{name}", context) for name, item in schemas.items()}


def _sub(value: Any, path: str, context: _Context) -> Any:
    return _node(value, path, context) if isinstance(value, Mapping) else value


def _takes(key: str, value: Any) -> bool:
    """Whether the grammar takes ``key`` with ``value`` as it is."""
    if key == "format":
        return isinstance(value, str) and value in _FORMATS
    if key == "minItems":
        return type(value) is int and value in (0, 1)
    return key in _KEPT


def _is_object(schema: Mapping[str, Any]) -> bool:
    kind = schema.get("type")
    return kind == "object" or (isinstance(kind, list) and "object" in kind)


def _close(schema: dict[str, Any], path: str, context: _Context) -> None:
    """``additionalProperties: false`` on an object, or the error saying why it cannot be."""
    extra = schema.get("additionalProperties")
    if extra is False:
        return
    if extra is None and "properties" in schema:
        schema["additionalProperties"] = False
    elif extra is None or extra is True or isinstance(extra, Mapping):
        raise ConfigurationError(
            f"Anthropic's grammar takes objects with fixed properties only, but "
            f"{context.subject} has at {path} an object without them (a dict, or "
            f"additionalProperties={extra!r}): give it fixed properties, or {context.fix}."
        )


def _check_references(schema: Mapping[str, Any], context: _Context) -> None:
    """Refuse a reference outside the schema, or a schema that contains itself."""
    for ref in _refs(schema):
        if not ref.startswith("#"):
            raise ConfigurationError(
                f"Anthropic's grammar takes references within the schema only, but "
                f"{context.subject} refers to {ref!r}: inline that definition."
            )
        if ref == "#":
            raise _recursive("#", context)
    for start, definition in context.defs.items():
        seen: set[str] = set()
        todo = list(_refs(definition))
        while todo:
            ref = todo.pop()
            if ref == start:
                raise _recursive(start, context)
            if ref not in seen and ref in context.defs:
                seen.add(ref)
                todo.extend(_refs(context.defs[ref]))


def _recursive(where: str, context: _Context) -> ConfigurationError:
    return ConfigurationError(
        f"Anthropic's grammar takes no recursive schema, but in {context.subject} {where} "
        f"contains itself: give it a fixed depth, or {context.fix}."
    )


def _refs(node: Any) -> Iterator[str]:
    """Every ``$ref`` in ``node``, however deep (a definition's own included)."""
    if isinstance(node, Mapping):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)
