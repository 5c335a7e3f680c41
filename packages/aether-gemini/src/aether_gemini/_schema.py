"""Tool declarations and the answer's schema: whole JSON Schema, or Gemini's OpenAPI subset.

Models that take ``parametersJsonSchema`` (Gemini 2.5 and later; see
:class:`~aether_gemini.GeminiTraits`) get the tool's JSON Schema as it is: ``$ref``,
``anyOf``, ``additionalProperties`` survive. Older ones take only ``parameters``, the
OpenAPI 3.0 subset, which rejects (HTTP 400) what pydantic emits routinely: ``$ref``/``$defs``,
``additionalProperties``, ``const``, ``type: [..., "null"]``, ``prefixItems``, most string
``format`` values, ``enum`` on non-strings. There each tool's schema is translated once, when
it is first seen; whatever cannot be expressed is simplified and reported with a
:class:`GeminiSchemaWarning` naming the tool and the keyword, so the call still goes through.
The answer's schema, on a model without ``responseJsonSchema``, goes through the same
:func:`translate_schema` (see :mod:`aether_gemini._output`).
"""

from __future__ import annotations

import json
import warnings
from collections import OrderedDict
from typing import Any

from aether.llm.contracts import ToolSpec
from aether.tools.json_schema import (
    SchemaIssue,
    inline_refs,
    merge_single_all_of,
    split_null_variants,
    transform_schema,
)

__all__ = ["DeclarationCache", "GeminiSchemaWarning", "to_gemini_schema", "translate_schema"]

# The fields of Gemini's ``Schema`` message we emit.
_SUPPORTED = frozenset(
    {
        "anyOf",
        "description",
        "enum",
        "format",
        "items",
        "maxItems",
        "maxLength",
        "maxProperties",
        "maximum",
        "minItems",
        "minLength",
        "minProperties",
        "minimum",
        "nullable",
        "pattern",
        "properties",
        "propertyOrdering",
        "required",
        "type",
    }
)
# Annotations with no effect on what the model may send: dropped without a warning.
_ANNOTATIONS = frozenset(
    {
        "$anchor",
        "$comment",
        "$id",
        "$schema",
        "contentEncoding",
        "contentMediaType",
        "deprecated",
        "discriminator",
        "examples",
        "readOnly",
        "title",
        "writeOnly",
    }
)
_FORMATS = {
    "string": frozenset({"enum", "date-time"}),
    "number": frozenset({"float", "double"}),
    "integer": frozenset({"int32", "int64"}),
}
_OBJECT_ONLY = ("properties", "required", "minProperties", "maxProperties", "propertyOrdering")


class GeminiSchemaWarning(UserWarning):
    """A tool's parameter schema used JSON Schema Gemini cannot express; it was simplified."""


def _describe(node: dict[str, Any], note: str) -> None:
    existing = node.get("description")
    node["description"] = f"{existing} ({note})" if existing else note


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _visit(node: dict[str, Any], path: str, issues: list[SchemaIssue]) -> dict[str, Any]:
    node = _fold_combinators(node, path, issues)
    _fold_type_list(node)
    node = _fold_nullable(node)
    _fold_values(node, path, issues)
    _fold_arrays(node, path, issues)
    _fold_objects(node, path, issues)
    _fold_annotations(node, path, issues)
    return node


def _fold_combinators(node: dict[str, Any], path: str, issues: list[SchemaIssue]) -> dict[str, Any]:
    node = merge_single_all_of(node)
    all_of = node.pop("allOf", None)
    if isinstance(all_of, list):
        merged: dict[str, Any] = {}
        for part in all_of:
            if isinstance(part, dict):
                properties = {**merged.get("properties", {}), **part.get("properties", {})}
                required = [*merged.get("required", []), *part.get("required", [])]
                merged = {**merged, **part}
                if properties:
                    merged["properties"] = properties
                if required:
                    merged["required"] = list(dict.fromkeys(required))
        node = {**merged, **node}
        issues.append(SchemaIssue(path, "allOf", "parts merged into one schema"))
    one_of = node.pop("oneOf", None)
    if isinstance(one_of, list):
        # "Exactly one of" reads as "any of" to a model generating arguments.
        if "anyOf" in node:
            issues.append(SchemaIssue(path, "oneOf", "dropped: anyOf is already present"))
        else:
            node["anyOf"] = one_of
    return node


def _fold_type_list(node: dict[str, Any]) -> None:
    kinds = node.get("type")
    if not isinstance(kinds, list):
        return
    rest = [kind for kind in kinds if kind != "null"]
    if len(rest) < len(kinds):
        node["nullable"] = True
    if len(rest) == 1:
        node["type"] = rest[0]
    elif not rest:
        node["type"] = "null"
    else:
        del node["type"]
        node["anyOf"] = [{"type": kind} for kind in rest]


def _fold_nullable(node: dict[str, Any]) -> dict[str, Any]:
    variants = node.get("anyOf")
    if not isinstance(variants, list):
        return node
    kept, nullable = split_null_variants(variants)
    rest = {key: value for key, value in node.items() if key != "anyOf"}
    if nullable:
        rest["nullable"] = True
    if len(kept) == 1 and isinstance(kept[0], dict):
        # Optional[X]: the field's own keywords (its description) win over X's.
        merged = {**kept[0], **rest}
        if nullable or kept[0].get("nullable"):
            merged["nullable"] = True
        return merged
    if not kept:
        return {**rest, "type": "null"}
    return {**rest, "anyOf": kept}


def _fold_values(node: dict[str, Any], path: str, issues: list[SchemaIssue]) -> None:
    if "const" in node:
        node["enum"] = [node.pop("const")]
    values = node.get("enum")
    if isinstance(values, list) and None in values:
        node["enum"] = values = [value for value in values if value is not None]
        node["nullable"] = True
    if isinstance(values, list):
        if values and all(isinstance(value, str) for value in values):
            node.setdefault("type", "string")
        else:
            del node["enum"]
            choices = ", ".join(_json(value) for value in values)
            _describe(node, f"one of: {choices}")
            if "type" not in node:
                kinds = {type(value) for value in values}
                if kinds <= {int}:
                    node["type"] = "integer"
                elif kinds <= {int, float}:
                    node["type"] = "number"
                elif kinds <= {bool}:
                    node["type"] = "boolean"
            issues.append(
                SchemaIssue(path, "enum", "Gemini only accepts string enums; moved to description")
            )
    if "default" in node:
        default = node.pop("default")
        if default is not None:
            _describe(node, f"default: {_json(default)}")
    kind = node.get("type")
    fmt = node.get("format")
    if isinstance(fmt, str) and fmt not in _FORMATS.get(kind if isinstance(kind, str) else "", ()):
        del node["format"]
        _describe(node, f"format: {fmt}")
    for keyword, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        limit = node.pop(keyword, None)
        if isinstance(limit, bool) or not isinstance(limit, (int, float)):
            continue  # draft-4 boolean form: the inclusive bound is already there
        if kind == "integer" and isinstance(limit, int):
            node[bound] = limit + 1 if bound == "minimum" else limit - 1
        else:
            node[bound] = limit
            issues.append(
                SchemaIssue(path, keyword, f"exclusive bound {limit} sent as an inclusive {bound}")
            )


def _fold_arrays(node: dict[str, Any], path: str, issues: list[SchemaIssue]) -> None:
    if node.pop("uniqueItems", False) is True:
        _describe(node, "items must be unique")  # set[X]: told to the model in words
    prefix = node.pop("prefixItems", None)
    if isinstance(prefix, list):
        distinct = [item for i, item in enumerate(prefix) if item not in prefix[:i]]
        tail = node.get("items")
        if isinstance(tail, dict) and tail not in distinct:
            distinct.append(tail)
        node["items"] = distinct[0] if len(distinct) == 1 else {"anyOf": distinct}
        node.setdefault("minItems", len(prefix))
        if tail is None or tail is False:
            node.setdefault("maxItems", len(prefix))
        if len(distinct) > 1:
            issues.append(
                SchemaIssue(path, "prefixItems", "tuple positions lost; items may be any of them")
            )
    elif isinstance(node.get("items"), list):  # draft-4 tuple form
        node["prefixItems"] = node.pop("items")
        _fold_arrays(node, path, issues)


def _fold_objects(node: dict[str, Any], path: str, issues: list[SchemaIssue]) -> None:
    extra = node.pop("additionalProperties", None)
    if extra is False:
        issues.append(
            SchemaIssue(
                path, "additionalProperties", "dropped: the subset cannot forbid extra keys"
            )
        )
    elif isinstance(extra, dict):
        value_type = extra.get("type")
        what = f"{value_type} values" if isinstance(value_type, str) else "values"
        _describe(node, f"an object with arbitrary keys and {what}")
        issues.append(
            SchemaIssue(path, "additionalProperties", "dropped: Gemini cannot type extra keys")
        )
    properties = node.get("properties")
    if isinstance(properties, dict) and "type" not in node:
        node["type"] = "object"
    if node.get("type") not in (None, "object"):
        for keyword in _OBJECT_ONLY:
            if keyword in node:
                del node[keyword]
                issues.append(SchemaIssue(path, keyword, "dropped: only allowed on objects"))
    required = node.get("required")
    if isinstance(required, list):
        known = properties if isinstance(properties, dict) else {}
        node["required"] = [name for name in required if name in known]
        if not node["required"]:
            del node["required"]


def _fold_annotations(node: dict[str, Any], path: str, issues: list[SchemaIssue]) -> None:
    for keyword in [key for key in node if key not in _SUPPORTED]:
        del node[keyword]
        if keyword not in _ANNOTATIONS:
            issues.append(SchemaIssue(path, keyword, "dropped: not supported by Gemini"))


def translate_schema(schema: dict[str, Any]) -> tuple[dict[str, Any], list[SchemaIssue]]:
    """Any JSON Schema in Gemini's OpenAPI subset, and what was lost on the way.

    The one translation, for tool arguments (:func:`to_gemini_schema`) and for the answer's
    ``responseSchema`` alike: ``$ref`` inlined (a recursive one cut), unions folded, what the
    subset has no keyword for moved into the description or dropped.
    """
    issues: list[SchemaIssue] = []
    inlined = inline_refs(schema, on_recursion="truncate", issues=issues)
    translated, found = transform_schema(inlined, _visit)
    issues.extend(found)
    return translated, issues


def to_gemini_schema(parameters: dict[str, Any]) -> tuple[dict[str, Any], list[SchemaIssue]]:
    """Translate a JSON Schema of tool arguments; return Gemini's schema and what was lost.

    The root is always an object schema, as ``functionDeclarations[].parameters`` requires.
    """
    schema, issues = translate_schema(parameters)
    if schema.get("type") != "object":
        issues.append(SchemaIssue("", "type", "the arguments must be an object; wrapped as one"))
        schema = {"type": "object", "properties": {"value": schema}, "required": ["value"]}
    schema.setdefault("properties", {})
    return schema, issues


class DeclarationCache:
    """``functionDeclarations`` entries per tool, translated (and warned about) once.

    Keyed by the tool's content, not its identity, so a ``ToolSpec`` rebuilt on every call
    still hits. Bounded, so a process generating tools dynamically does not grow forever.
    """

    def __init__(self, maxsize: int = 256) -> None:
        self._maxsize = maxsize
        self._entries: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def declaration(self, tool: ToolSpec, *, json_schema: bool = False) -> dict[str, Any]:
        """The ``functionDeclarations`` entry for ``tool``; warns the first time it is built.

        Args:
            tool: The tool.
            json_schema: Send its schema whole as ``parametersJsonSchema``; False: translated
                to the OpenAPI subset, as ``parameters``.
        """
        if json_schema:  # nothing to translate, so nothing to keep
            return _declaration(tool, "parametersJsonSchema", tool.parameters)
        key = _json([tool.name, tool.description, tool.parameters])
        cached = self._entries.get(key)
        if cached is not None:
            self._entries.move_to_end(key)
            return cached
        schema, issues = to_gemini_schema(tool.parameters)
        for issue in issues:
            warnings.warn(
                f"Gemini tool {tool.name!r}: {issue}. The tool still works; simplify its "
                f"parameter types to silence this warning.",
                GeminiSchemaWarning,
                stacklevel=4,
            )
        declaration = _declaration(tool, "parameters", schema)
        self._entries[key] = declaration
        if len(self._entries) > self._maxsize:
            self._entries.popitem(last=False)
        return declaration


def _declaration(tool: ToolSpec, field: str, schema: dict[str, Any]) -> dict[str, Any]:
    declaration: dict[str, Any] = {"name": tool.name, field: schema}
    if tool.description:
        declaration["description"] = tool.description
    return declaration
