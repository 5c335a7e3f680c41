"""JSON Schemas in OpenAI's strict subset: :func:`strict_json_schema` and its check.

Strict structured outputs (``response_format`` with ``strict: true``, and strict tools)
constrain decoding to the schema, so the schema must lie in the subset the decoder compiles:
every object lists all its properties in ``required`` and has ``additionalProperties: false``,
a ``$ref`` stands alone, every value has a type, the root is an object, and a list of keywords
is refused. Schemas pydantic generates break most of these rules, so structured output makes
them strict first::

    from aether.llm import strict_json_schema

    schema = strict_json_schema(Invoice.model_json_schema())

The transform changes as little as strict mode demands. An optional field (not required, or
with a default) becomes a required one that may be null, and loses its default: give such a
field ``X | None`` where null must validate, since ``copies: int = 1`` answered with null does
not. ``oneOf`` becomes ``anyOf``; a single ``allOf`` is folded into its node; a ``$ref`` with
keywords beside it becomes ``{"anyOf": [{"$ref": ...}], ...}``; every object is closed. Length
and count constraints and unsupported formats move into the description, where the model
still reads them, and are checked when the answer is validated. What strict mode cannot
express is refused with a :class:`~aether.errors.ConfigurationError` naming each place: a dict
(an object with free-form keys), a value of any type, a root that is no object, and the
keywords without a strict equivalent (``not``, ``if``/``then``/``else``, several ``allOf``
entries, ...).

:func:`strict_schema_issues` is the check behind it (what a provider runs on a strict tool's
hand-written schema); it accepts every schema :func:`strict_json_schema` returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from aether.errors import ConfigurationError

# aether.tools imports aether.llm, so its schema helpers are imported where they are used, not
# with this module (which aether.llm exports).
if TYPE_CHECKING:
    from aether.tools.json_schema import SchemaIssue

__all__ = ["STRICT_FORMATS", "UNSUPPORTED_KEYWORDS", "strict_json_schema", "strict_schema_issues"]

UNSUPPORTED_KEYWORDS: Final = frozenset(
    {
        "allOf",
        "contains",
        "default",
        "dependentRequired",
        "dependentSchemas",
        "else",
        "if",
        "maxContains",
        "maxLength",
        "maxProperties",
        "minContains",
        "minLength",
        "minProperties",
        "not",
        "oneOf",
        "patternProperties",
        "propertyNames",
        "then",
        "unevaluatedItems",
        "unevaluatedProperties",
        "uniqueItems",
    }
)
"""Keywords OpenAI's strict mode refuses (its structured-outputs guide, "Supported schemas")."""

STRICT_FORMATS: Final = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
)
"""The string ``format`` values strict mode takes."""

# Constraints the decoder cannot enforce; the answer is validated against them afterwards, so
# they move into the description instead of failing the request.
_DESCRIBED = (
    "minLength",
    "maxLength",
    "minProperties",
    "maxProperties",
    "uniqueItems",
    "minContains",
    "maxContains",
)
# Annotations that are no JSON Schema (``discriminator`` is OpenAPI's, next to ``oneOf``).
_DROPPED = ("discriminator",)
_TYPED = ("type", "$ref", "anyOf", "enum", "const")
_PRIMITIVES = frozenset({"string", "number", "integer", "boolean"})
_NULL: Final = {"type": "null"}
_FIX = (
    "Give those values fixed types (a list of key/value objects instead of a dict), or ask "
    "without strict mode (strict=False, or another output mode)"
)


def _issue(path: str, keyword: str, detail: str) -> SchemaIssue:
    from aether.tools.json_schema import SchemaIssue

    return SchemaIssue(path, keyword, detail)


def _is_object(node: Mapping[str, Any]) -> bool:
    kind = node.get("type")
    return kind == "object" or (isinstance(kind, list) and "object" in kind) or "properties" in node


def _is_array(node: Mapping[str, Any]) -> bool:
    kind = node.get("type")
    return kind == "array" or (isinstance(kind, list) and "array" in kind)


def _node_issues(
    node: Mapping[str, Any], path: str, issues: list[SchemaIssue], ignore: frozenset[str]
) -> None:
    """The strict-mode rules one subschema breaks, its subschemas aside."""
    keys = [key for key in node if key not in ignore]
    for keyword in sorted(UNSUPPORTED_KEYWORDS.intersection(keys)):
        issues.append(_issue(path, keyword, "strict mode does not take this keyword"))
    if "format" in node and node["format"] not in STRICT_FORMATS:
        detail = f"strict mode takes only {', '.join(sorted(STRICT_FORMATS))}"
        issues.append(_issue(path, "format", detail))
    if "$ref" in node and len(keys) > 1:
        detail = "strict mode takes no keyword beside $ref; use {'anyOf': [{'$ref': ...}], ...}"
        issues.append(_issue(path, "$ref", detail))
    if not any(key in node for key in _TYPED):
        detail = (
            "strict mode needs a type for every value, and this one has none (typing.Any, or "
            "a bare list or dict)"
        )
        issues.append(_issue(path, "type", detail))
    if _is_array(node) and not isinstance(node.get("items"), dict) and "prefixItems" not in node:
        detail = "strict mode needs the type of an array's items (list[X], not a bare list)"
        issues.append(_issue(path, "items", detail))
    if _is_object(node):
        _object_issues(node, path, issues)


def _object_issues(node: Mapping[str, Any], path: str, issues: list[SchemaIssue]) -> None:
    properties = node.get("properties")
    if node.get("additionalProperties") is not False:
        if isinstance(properties, dict):
            detail = "every object needs additionalProperties: false"
        else:
            detail = (
                "an object with free-form keys (a dict) cannot be expressed in strict mode, "
                "which needs every key named; use a list of key/value objects instead"
            )
        issues.append(_issue(path, "additionalProperties", detail))
    if not isinstance(properties, dict):
        return
    required = node.get("required") or []
    missing = [name for name in properties if name not in required]
    if missing:
        detail = (
            f"every property must be required, and {', '.join(map(repr, missing))} "
            f"{'is' if len(missing) == 1 else 'are'} not (to make one optional, keep it "
            f"required and let it be null: 'type': [..., 'null'])"
        )
        issues.append(_issue(path, "required", detail))
    for name, value in properties.items():
        if not isinstance(value, dict):
            detail = f"strict mode needs a type for every value, and property {name!r} has none"
            issues.append(_issue(path, "properties", detail))


def _root_issues(schema: Mapping[str, Any]) -> list[SchemaIssue]:
    if schema.get("type") != "object" or "anyOf" in schema:
        detail = (
            "the root must be an object (not anyOf, a list or a single value); wrap the value "
            "in an object with one property"
        )
        return [_issue("", "type", detail)]
    return []


def strict_schema_issues(schema: Mapping[str, Any]) -> list[SchemaIssue]:
    """Where ``schema`` breaks OpenAI's strict-mode rules (empty when it keeps them all).

    Example: ``strict_schema_issues({"type": "object", "properties": {}})`` names the missing
    ``additionalProperties: false`` at ``/``.
    """
    from aether.tools.json_schema import transform_schema

    def visit(node: dict[str, Any], path: str, issues: list[SchemaIssue]) -> dict[str, Any]:
        _node_issues(node, path, issues, frozenset())
        return node

    issues = transform_schema(schema, visit)[1]
    return _root_issues(schema) + issues


def strict_json_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` (e.g. pydantic's ``model_json_schema()``) rewritten for OpenAI's strict mode.

    The input is not modified. Recursive models keep their ``$defs`` and ``$ref``s; a root
    that is a ``$ref`` (pydantic's form of a recursive model) is replaced by a copy of its
    definition, since the root must be an object.

    Raises:
        ConfigurationError: The schema holds something strict mode cannot express (a dict, a
            value of any type, a non-object root, a keyword without a strict equivalent); the
            message names every place and what to do instead.
    """
    from aether.tools.json_schema import strip_keys, transform_schema

    root = _inline_root(dict(schema))
    strict, issues = transform_schema(root, _strict_node)
    # Defaults outside properties (in items, anyOf entries, ...): properties lost theirs above.
    strict = strip_keys(strict, {"default"})
    issues = _root_issues(strict) + issues
    if issues:
        raise ConfigurationError(
            f"The JSON Schema cannot be made strict for OpenAI's structured outputs: "
            f"{'; '.join(map(str, issues))}. {_FIX}."
        )
    return strict


def _inline_root(root: dict[str, Any]) -> dict[str, Any]:
    """The root with its ``$ref`` (or single ``allOf``) replaced by what it points at.

    The definition stays in ``$defs`` for the references inside it (a recursive model), as
    every server resolving ``$defs`` reads them.
    """
    from aether.tools.json_schema import _resolve, merge_single_all_of

    root = merge_single_all_of(root)
    ref = root.get("$ref")
    if not isinstance(ref, str):
        return root
    target = _resolve(root, ref)
    siblings = {key: value for key, value in root.items() if key != "$ref"}
    return {**target, **siblings} if isinstance(target, dict) else siblings


def _strict_node(node: dict[str, Any], path: str, issues: list[SchemaIssue]) -> dict[str, Any]:
    """One subschema (its subschemas already strict) made strict; what cannot be is an issue.

    A property's ``default`` is left for its object to read (it makes the property optional)
    and to remove.
    """
    from aether.tools.json_schema import merge_single_all_of

    for key in _DROPPED:
        node.pop(key, None)
    for key in ("unevaluatedProperties", "unevaluatedItems"):
        if node.get(key) is False:
            del node[key]  # the object is closed below; extra items are validated afterwards
    if "oneOf" in node and "anyOf" not in node:
        # Exactly one match is validated afterwards; pydantic's unions are disjoint anyway.
        node["anyOf"] = node.pop("oneOf")
    all_of = node.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], dict):
        node = merge_single_all_of(node)
    _describe_constraints(node)
    ref = node.get("$ref")
    siblings = [key for key in node if key not in ("$ref", "default")]
    if isinstance(ref, str) and siblings:
        node = {"anyOf": [{"$ref": node.pop("$ref")}], **node}
    if _is_object(node):
        _close_object(node)
    _node_issues(node, path, issues, frozenset({"default"}))
    return node


def _describe_constraints(node: dict[str, Any]) -> None:
    notes = [f"{key}: {node.pop(key)}" for key in _DESCRIBED if key in node]
    if "format" in node and node["format"] not in STRICT_FORMATS:
        notes.append(f"format: {node.pop('format')}")
    if notes:
        description = node.get("description")
        joined = ", ".join(notes)
        node["description"] = f"{description} ({joined})" if description else joined


def _close_object(node: dict[str, Any]) -> None:
    """Every property required (an optional one nullable instead), no other key allowed.

    An object without ``properties`` is left open: it is a dict, which :func:`_node_issues`
    refuses, since closing it would allow only ``{}``.
    """
    properties = node.get("properties")
    if not isinstance(properties, dict):
        if node.get("additionalProperties") is False:
            node["properties"] = {}
            node["required"] = []
        return
    required = [name for name in node.get("required") or () if name in properties]
    for name, value in properties.items():
        if not isinstance(value, dict):
            continue
        optional = name not in required or "default" in value
        value.pop("default", None)
        if optional:
            properties[name] = _nullable(value)
    node["required"] = required + [name for name in properties if name not in required]
    # Declared extra keys (extra="allow") are optional by nature: the answer simply has none.
    node["additionalProperties"] = False


def _accepts_null(node: Mapping[str, Any]) -> bool:
    kind = node.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    if "const" in node:
        return node["const"] is None
    if isinstance(node.get("enum"), list) and None in node["enum"]:
        return True
    variants = node.get("anyOf")
    return isinstance(variants, list) and any(
        isinstance(v, dict) and _accepts_null(v) for v in variants
    )


def _nullable(node: dict[str, Any]) -> dict[str, Any]:
    """``node`` also accepting null: ``type: [t, "null"]`` for a plain value, else ``anyOf``."""
    if _accepts_null(node):
        return node
    kind = node.get("type")
    if "anyOf" in node:
        return {**node, "anyOf": [*node["anyOf"], dict(_NULL)]}
    plain = "enum" not in node and "const" not in node
    if plain and isinstance(kind, str) and kind in _PRIMITIVES:
        return {**node, "type": [kind, "null"]}
    if plain and isinstance(kind, list) and _PRIMITIVES.issuperset(kind):
        return {**node, "type": [*kind, "null"]}
    # An enum, an object, an array or a $ref: the value as it is, or null.
    outer: dict[str, Any] = {key: node.pop(key) for key in ("title", "description") if key in node}
    return {"anyOf": [node, dict(_NULL)], **outer}
