"""Provider-neutral JSON Schema helpers: inline references, strip keywords, rewrite subschemas.

Every provider accepts a different dialect of JSON Schema for tool parameters (Gemini takes an
OpenAPI 3.0 subset without ``$ref``, OpenAI's strict mode wants ``additionalProperties: false``
everywhere, ...). The dialects differ, the plumbing does not: walk the schema without mistaking
data for schema (a property *named* ``title`` is not the ``title`` keyword), resolve ``$ref``
without looping on recursive models, and report what could not be expressed so the provider
can warn once instead of failing with a 400 at run time. A provider plugin composes these:

    schema = inline_refs(tool.parameters)
    schema, issues = transform_schema(schema, my_dialect_visitor)
    for issue in issues:
        warnings.warn(f"tool {tool.name!r}: {issue}", MyProviderSchemaWarning, stacklevel=2)

Inputs are never mutated; every function returns a new schema.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from aether.errors import ConfigurationError

__all__ = [
    "SchemaIssue",
    "SchemaVisitor",
    "inline_refs",
    "merge_single_all_of",
    "split_null_variants",
    "strip_keys",
    "transform_schema",
]

# Keywords whose value is itself a schema, a name → schema map, or a list of schemas. Every
# other keyword holds data (``enum``, ``const``, ``default``, ``required``, ...) and is never
# walked into.
_SUBSCHEMA = frozenset(
    {
        "additionalItems",
        "additionalProperties",
        "contains",
        "else",
        "if",
        "items",
        "not",
        "propertyNames",
        "then",
        "unevaluatedItems",
        "unevaluatedProperties",
    }
)
_SUBSCHEMA_MAP = frozenset(
    {"$defs", "definitions", "dependentSchemas", "patternProperties", "properties"}
)
_SUBSCHEMA_LIST = frozenset({"allOf", "anyOf", "oneOf", "prefixItems", "items"})
_DEFINITIONS = ("$defs", "definitions")


@dataclass(frozen=True)
class SchemaIssue:
    """Something in a schema a dialect could not express, found while transforming it.

    Attributes:
        path: JSON Pointer of the subschema (``""`` is the root), e.g. ``"/properties/tags"``.
        keyword: The JSON Schema keyword concerned, e.g. ``"additionalProperties"``.
        detail: What was done about it, for a human.
    """

    path: str
    keyword: str
    detail: str

    def __str__(self) -> str:
        return f"{self.keyword!r} at {self.path or '/'}: {self.detail}"


SchemaVisitor = Callable[[dict[str, Any], str, list[SchemaIssue]], dict[str, Any]]
"""``visitor(subschema, path, issues) -> new_subschema``, called by :func:`transform_schema`.

The subschema's children have already been visited (bottom-up), so a visitor sees the final
form of everything below it. It may return the dict it was given, changed in place (it is a
private copy), and appends a :class:`SchemaIssue` for anything it could not express.
"""


def _pointer(path: str, *tokens: str) -> str:
    for token in tokens:
        path += "/" + token.replace("~", "~0").replace("/", "~1")
    return path


def _map_children(
    node: dict[str, Any], path: str, visit: Callable[[Any, str], Any]
) -> dict[str, Any]:
    """A copy of ``node`` whose subschemas are replaced by ``visit(child, child_path)``."""
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _SUBSCHEMA and isinstance(value, dict):
            out[key] = visit(value, _pointer(path, key))
        elif key in _SUBSCHEMA_MAP and isinstance(value, dict):
            out[key] = {
                name: visit(child, _pointer(path, key, name)) for name, child in value.items()
            }
        elif key in _SUBSCHEMA_LIST and isinstance(value, list):
            out[key] = [visit(child, _pointer(path, key, str(i))) for i, child in enumerate(value)]
        else:
            out[key] = copy.deepcopy(value)
    return out


def transform_schema(
    schema: Mapping[str, Any], visitor: SchemaVisitor
) -> tuple[dict[str, Any], list[SchemaIssue]]:
    """Rewrite every subschema bottom-up with ``visitor``; return the new schema and the issues.

    Only schema positions are visited (``properties`` values, ``items``, ``anyOf`` entries,
    ...), never data (``enum`` values, ``default``, property names). Boolean schemas
    (``additionalProperties: false``) are left as they are.

    Args:
        schema: The schema to rewrite; not modified.
        visitor: Called once per subschema with a private copy, its JSON Pointer and the
            shared issue list.
    """
    issues: list[SchemaIssue] = []

    def visit(node: Any, path: str) -> Any:
        if not isinstance(node, dict):
            return copy.deepcopy(node)
        return visitor(_map_children(node, path, visit), path, issues)

    return visit(dict(schema), ""), issues


def strip_keys(schema: Mapping[str, Any], keys: Collection[str]) -> dict[str, Any]:
    """Remove the given keywords from every subschema (never from data or property names).

    Example: ``strip_keys(s, {"title", "$schema"})`` keeps a property named ``title``.
    """
    drop = frozenset(keys)

    def visitor(node: dict[str, Any], path: str, issues: list[SchemaIssue]) -> dict[str, Any]:
        return {key: value for key, value in node.items() if key not in drop}

    return transform_schema(schema, visitor)[0]


def merge_single_all_of(node: Mapping[str, Any]) -> dict[str, Any]:
    """Fold ``{"allOf": [X], ...siblings}`` into ``{**X, ...siblings}``; other nodes unchanged.

    Older pydantic wraps a described model reference as ``allOf: [{"$ref": ...}]``; this
    undoes that once the reference is inlined. Siblings win, so a field's own
    ``description`` overrides the model's.
    """
    all_of = node.get("allOf")
    if not (isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], dict)):
        return dict(node)
    siblings = {key: value for key, value in node.items() if key != "allOf"}
    return {**all_of[0], **siblings}


def split_null_variants(variants: Iterable[Any]) -> tuple[list[Any], bool]:
    """Split ``anyOf``/``oneOf`` entries into the non-null ones and whether ``null`` was allowed.

    ``Optional[X]`` comes out of pydantic as ``anyOf: [X, {"type": "null"}]``; dialects that
    spell it ``nullable: true`` (OpenAPI 3.0, Gemini) need exactly this split.
    """
    kept: list[Any] = []
    nullable = False
    for variant in variants:
        if isinstance(variant, dict) and variant.get("type") == "null" and len(variant) == 1:
            nullable = True
        else:
            kept.append(variant)
    return kept, nullable


def inline_refs(
    schema: Mapping[str, Any],
    *,
    on_recursion: Literal["raise", "truncate"] = "raise",
    issues: list[SchemaIssue] | None = None,
) -> dict[str, Any]:
    """Replace every local ``$ref`` by the schema it points to, and drop ``$defs``.

    Keywords next to a ``$ref`` (pydantic puts a field's ``description`` there) override the
    referenced schema's. References are JSON Pointers into the same document (``#/$defs/X``,
    ``#/definitions/X``, ``#``).

    Args:
        schema: A schema, typically from ``pydantic.TypeAdapter(...).json_schema()``.
        on_recursion: A recursive model cannot be inlined. ``"raise"`` (the default) raises
            :class:`~aether.errors.ConfigurationError` naming the reference; ``"truncate"``
            inlines it once and replaces the inner self-reference by an unconstrained schema
            of the same ``type``, appending a :class:`SchemaIssue` to ``issues``.
        issues: Where ``"truncate"`` records what it cut.

    Raises:
        ConfigurationError: A reference is recursive (with ``"raise"``), remote, or points
            at nothing.
    """
    root = dict(schema)

    def expand(node: Any, path: str, stack: tuple[str, ...]) -> Any:
        if not isinstance(node, dict):
            return copy.deepcopy(node)
        # Definitions are expanded where they are referenced, never on their own.
        node = {key: value for key, value in node.items() if key not in _DEFINITIONS}
        ref = node.get("$ref")
        if not isinstance(ref, str):
            return _map_children(node, path, lambda child, at: expand(child, at, stack))
        siblings = _map_children(
            {key: value for key, value in node.items() if key != "$ref"},
            path,
            lambda child, at: expand(child, at, stack),
        )
        target = _resolve(root, ref)
        if ref in stack:
            if on_recursion == "raise":
                chain = " -> ".join((*stack[1:], ref))
                raise ConfigurationError(
                    f"JSON Schema reference {ref!r} at {path or '/'} is recursive ({chain}), "
                    f"so it cannot be inlined. Give the tool a non-recursive parameter type, "
                    f"or use a provider that accepts $ref."
                )
            stub = _truncated(target)
            if issues is not None:
                issues.append(
                    SchemaIssue(
                        path,
                        "$ref",
                        f"recursive reference {ref!r} inlined once; deeper levels are "
                        f"unconstrained {stub.get('type', 'values')}",
                    )
                )
            return {**stub, **siblings}
        expanded = expand(target, path, (*stack, ref))
        return {**expanded, **siblings}

    return expand(root, "", ("#",))  # type: ignore[no-any-return]


def _resolve(root: Mapping[str, Any], ref: str) -> Any:
    if not ref.startswith("#"):
        raise ConfigurationError(
            f"JSON Schema reference {ref!r} is not local to the schema; only '#/...' references "
            f"can be inlined. Embed the referenced schema under $defs."
        )
    node: Any = root
    for raw in ref[1:].split("/")[1:] if ref != "#" else []:
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise ConfigurationError(
                f"JSON Schema reference {ref!r} points at nothing; check the schema's $defs."
            )
    if not isinstance(node, (dict, bool)):
        raise ConfigurationError(f"JSON Schema reference {ref!r} does not point at a schema.")
    return node


def _truncated(target: Any) -> dict[str, Any]:
    if not isinstance(target, dict):
        return {}
    stub: dict[str, Any] = {}
    kind = target.get("type")
    if isinstance(kind, str):
        stub["type"] = kind
    elif "properties" in target:
        stub["type"] = "object"
    if isinstance(target.get("description"), str):
        stub["description"] = target["description"]
    return stub
