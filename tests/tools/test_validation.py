"""SchemaValidator: the JSON Schema keywords tool schemas use, and schemas it refuses."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from aether.errors import ConfigurationError
from aether.tools.validation import SchemaValidator


def errors(schema: Any, value: Any) -> list[str]:
    return SchemaValidator(schema, tool="t").errors(value)


# (schema, a valid value, an invalid value, a fragment of the error for the invalid one)
CASES: list[tuple[str, Any, Any, Any, str]] = [
    ("type", {"type": "integer"}, 3, "3", "arguments: must be of type integer (got '3')"),
    ("integer-float", {"type": "integer"}, 3.0, 3.5, "must be of type integer"),
    ("bool-not-number", {"type": "number"}, 1.5, True, "must be of type number"),
    ("type-list", {"type": ["string", "null"]}, None, 1, "must be of type string or null"),
    ("nullable", {"type": "string", "nullable": True}, None, 1, "string or null"),
    ("enum", {"enum": ["a", 1]}, 1, "b", "must be one of ['a', 1] (got 'b')"),
    ("enum-bool-is-not-1", {"enum": [1]}, 1.0, True, "must be one of"),
    ("const", {"const": {"k": [1]}}, {"k": [1.0]}, {"k": [2]}, "must be {'k': [1]}"),
    ("minimum", {"minimum": 2}, 2, 1, "must be at least 2 (got 1)"),
    ("maximum", {"maximum": 2}, 2, 3, "must be at most 2 (got 3)"),
    ("exclusiveMinimum", {"exclusiveMinimum": 2}, 3, 2, "must be greater than 2"),
    ("exclusiveMaximum", {"exclusiveMaximum": 2}, 1, 2, "must be less than 2"),
    ("draft4-exclusive", {"minimum": 2, "exclusiveMinimum": True}, 3, 2, "greater than 2"),
    ("multipleOf", {"multipleOf": 0.1}, 0.3, 0.35, "must be a multiple of 0.1"),
    ("multipleOf-int", {"multipleOf": 3}, 9, 10, "must be a multiple of 3"),
    ("minLength", {"minLength": 2}, "ab", "a", "at least 2 characters"),
    ("maxLength", {"maxLength": 2}, "ab", "abc", "at most 2 characters"),
    ("pattern", {"pattern": "^[a-z]+$"}, "abc", "ab1", "must match the pattern"),
    ("items", {"items": {"type": "string"}}, ["a"], ["a", 2], "1: must be of type string (got 2)"),
    (
        "prefixItems",
        {"prefixItems": [{"type": "string"}], "items": False},
        ["a"],
        ["a", 1],
        "1: no value",
    ),
    (
        "draft7-tuple",
        {"items": [{"type": "string"}], "additionalItems": False},
        ["a"],
        ["a", 1],
        "1: no value",
    ),
    ("minItems", {"minItems": 1}, [1], [], "at least 1 items"),
    ("maxItems", {"maxItems": 1}, [1], [1, 2], "at most 1 items"),
    (
        "uniqueItems",
        {"uniqueItems": True},
        [1, True, "1"],
        [{"a": 1}, {"a": 1.0}],
        "must be unique",
    ),
    (
        "contains",
        {"contains": {"type": "string"}},
        [1, "a"],
        [1, 2],
        "0 items of the required form",
    ),
    ("maxContains", {"contains": {"const": 1}, "maxContains": 1}, [1, 2], [1, 1], "2 items"),
    ("required", {"required": ["a"]}, {"a": 1}, {}, "a: required but missing"),
    ("properties", {"properties": {"a": {"type": "string"}}}, {"a": "x"}, {"a": 1}, "a: must be"),
    (
        "additionalProperties-false",
        {"additionalProperties": False},
        {},
        {"b": 1},
        "b: unexpected property",
    ),
    (
        "additionalProperties-schema",
        {"additionalProperties": {"type": "string"}},
        {"b": "x"},
        {"b": 1},
        "b: must be",
    ),
    (
        "patternProperties",
        {"patternProperties": {"^x-": {"type": "string"}}, "additionalProperties": False},
        {"x-a": "v"},
        {"y": "v"},
        "y: unexpected property",
    ),
    (
        "propertyNames",
        {"propertyNames": {"maxLength": 2}},
        {"ab": 1},
        {"abc": 1},
        "abc: is not an allowed property name",
    ),
    ("minProperties", {"minProperties": 1}, {"a": 1}, {}, "at least 1 properties"),
    ("maxProperties", {"maxProperties": 1}, {"a": 1}, {"a": 1, "b": 2}, "at most 1 properties"),
    (
        "dependentRequired",
        {"dependentRequired": {"a": ["b"]}},
        {"a": 1, "b": 2},
        {"a": 1},
        "b: required when 'a' is given",
    ),
    (
        "draft7-dependencies",
        {"dependencies": {"a": ["b"]}},
        {"b": 1},
        {"a": 1},
        "b: required when 'a'",
    ),
    (
        "dependentSchemas",
        {"dependentSchemas": {"a": {"required": ["c"]}}},
        {"a": 1, "c": 1},
        {"a": 1},
        "c: required but missing",
    ),
    ("allOf", {"allOf": [{"minimum": 1}, {"maximum": 3}]}, 2, 4, "must be at most 3"),
    (
        "anyOf",
        {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        1,
        1.5,
        "matches none of the allowed forms",
    ),
    ("oneOf", {"oneOf": [{"minimum": 1}, {"maximum": 3}]}, 5, 2, "matches more than one"),
    ("not", {"not": {"type": "string"}}, 1, "a", "matches a form that is not allowed"),
    (
        "if-then",
        {"if": {"const": "a"}, "then": {"type": "string", "minLength": 2}},
        "b",
        "a",
        "at least 2",
    ),
    ("if-else", {"if": {"type": "string"}, "else": {"type": "integer"}}, 1, 1.5, "of type integer"),
    (
        "ref",
        {"$defs": {"P": {"type": "integer"}}, "properties": {"a": {"$ref": "#/$defs/P"}}},
        {"a": 1},
        {"a": "1"},
        "a: must be of type integer",
    ),
    (
        "definitions",
        {"definitions": {"P": {"type": "integer"}}, "items": {"$ref": "#/definitions/P"}},
        [1],
        ["1"],
        "0: must be",
    ),
    ("false-schema", {"properties": {"a": False}}, {}, {"a": 1}, "a: no value is allowed here"),
]


@pytest.mark.parametrize(
    ("schema", "valid", "invalid", "fragment"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_keyword_accepts_what_matches_and_names_what_does_not(
    schema: dict[str, Any], valid: Any, invalid: Any, fragment: str
) -> None:
    assert errors(schema, valid) == []
    found = errors(schema, invalid)
    assert any(fragment in problem for problem in found), found


def test_a_recursive_schema_validates_recursive_data() -> None:
    tree = {
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
                "required": ["children"],
            }
        },
        "$ref": "#/$defs/Node",
    }
    assert errors(tree, {"children": [{"children": []}]}) == []
    assert errors(tree, {"children": [{"children": [{}]}]}) == [
        "children.0.children.0.children: required but missing"
    ]


def test_nested_paths_use_dots_and_the_root_is_called_arguments() -> None:
    schema = {"properties": {"rows": {"items": {"properties": {"id": {"type": "integer"}}}}}}
    assert errors(schema, {"rows": [{"id": 1}, {"id": "x"}]}) == [
        "rows.1.id: must be of type integer (got 'x')"
    ]
    assert errors({"type": "object"}, []) == ["arguments: must be of type object (got [])"]


def test_at_most_ten_problems_are_listed() -> None:
    schema = {"additionalProperties": False}
    assert len(errors(schema, {f"k{i}": i for i in range(50)})) == 10


def test_format_and_unknown_keywords_constrain_nothing() -> None:
    schema = {"type": "string", "format": "email", "x-vendor": True, "unevaluatedProperties": False}
    assert errors(schema, "not an email") == []
    assert errors({"type": "uuid"}, 1) == []  # not a JSON Schema type: nothing to enforce


@pytest.mark.parametrize(
    ("schema", "fragment"),
    [
        ({"$ref": "#"}, "refers back to itself"),
        (
            {"allOf": [{"$ref": "#/$defs/A"}], "$defs": {"A": {"anyOf": [{"$ref": "#"}]}}},
            "refers back",
        ),
        (
            {"$defs": {"A": {"$ref": "#/$defs/B"}, "B": {"not": {"$ref": "#/$defs/A"}}}},
            "refers back",
        ),
        ({"properties": {"a": {"$ref": "#/$defs/Missing"}}}, "points at nothing"),
        ({"properties": {"a": {"$ref": "https://example.com/s.json"}}}, "only references into"),
        ({"properties": {"a": {"$ref": "#anchor"}}}, "only references into"),
    ],
    ids=["self", "through-combinators", "mutual", "missing", "remote", "anchor"],
)
def test_schemas_that_cannot_be_followed_are_refused_when_built(
    schema: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ConfigurationError, match=fragment):
        SchemaValidator(schema, tool="t")


def test_a_schema_nested_too_deeply_is_refused_when_built() -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(300):
        node["items"] = {}
        node = node["items"]
    with pytest.raises(ConfigurationError, match="nested more than 200 levels"):
        SchemaValidator(deep, tool="t")


def test_a_pattern_python_cannot_compile_is_logged_and_not_enforced(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="aether.tools"):
        validator = SchemaValidator({"pattern": r"\p{L}+"}, tool="letters")
    assert errors({"pattern": r"\p{L}+"}, "123") == []
    assert validator.errors("123") == []
    assert "'letters'" in caplog.text and "is not checked" in caplog.text
