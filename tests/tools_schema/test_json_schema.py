"""Core's provider-neutral JSON Schema helpers, on what pydantic really emits."""

from __future__ import annotations

import copy
import dataclasses
import enum
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field, TypeAdapter

from aether.errors import ConfigurationError
from aether.tools.json_schema import (
    SchemaIssue,
    inline_refs,
    merge_single_all_of,
    split_null_variants,
    strip_keys,
    transform_schema,
)


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Address(BaseModel):
    street: str
    city: str = "Paris"


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Person(BaseModel):
    name: str
    home: Address = Field(description="Where they live")
    work: Address | None = None
    where: Point
    color: Color = Color.RED


class Tree(BaseModel):
    value: int
    children: list[Tree] = []


def schema_of(tp: Any) -> dict[str, Any]:
    return TypeAdapter(tp).json_schema()


def refs_in(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in refs_in(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs_in(value)]
    return []


# --- inline_refs -----------------------------------------------------------------------


def test_inline_refs_resolves_nested_models_dataclasses_and_enums() -> None:
    schema = schema_of(Person)
    assert "$defs" in schema
    inlined = inline_refs(schema)
    assert refs_in(inlined) == []
    assert "$defs" not in inlined
    props = inlined["properties"]
    assert props["home"]["properties"]["street"] == {"title": "Street", "type": "string"}
    assert props["where"]["properties"]["x"]["type"] == "integer"
    assert props["color"]["enum"] == ["red", "green"]
    # The referenced model's own description does not beat the field's.
    assert props["home"]["description"] == "Where they live"
    # Optional[Model]: the reference inside anyOf is inlined too.
    assert props["work"]["anyOf"][0]["properties"]["city"]["default"] == "Paris"
    assert props["work"]["anyOf"][1] == {"type": "null"}


def test_inline_refs_does_not_mutate_its_input() -> None:
    schema = schema_of(Person)
    before = copy.deepcopy(schema)
    inline_refs(schema)
    assert schema == before


def test_inline_refs_accepts_draft7_definitions_and_root_level_ref() -> None:
    schema = {
        "definitions": {"Leaf": {"type": "string", "title": "Leaf"}},
        "$ref": "#/definitions/Leaf",
        "description": "outer",
    }
    assert inline_refs(schema) == {"type": "string", "title": "Leaf", "description": "outer"}


def test_inline_refs_with_older_pydantic_all_of_wrapper() -> None:
    schema = {
        "$defs": {"A": {"type": "object", "properties": {"n": {"type": "integer"}}}},
        "type": "object",
        "properties": {"a": {"allOf": [{"$ref": "#/$defs/A"}], "description": "an A"}},
    }
    inlined = inline_refs(schema)
    merged = merge_single_all_of(inlined["properties"]["a"])
    assert merged == {
        "type": "object",
        "properties": {"n": {"type": "integer"}},
        "description": "an A",
    }


def test_recursive_model_raises_configuration_error_naming_the_ref() -> None:
    with pytest.raises(ConfigurationError, match=r"#/\$defs/Tree.*recursive"):
        inline_refs(schema_of(Tree))


def test_self_reference_to_root_is_recursion() -> None:
    schema = {"type": "object", "properties": {"next": {"$ref": "#"}}}
    with pytest.raises(ConfigurationError, match="'#'"):
        inline_refs(schema)


def test_recursive_model_can_be_truncated_with_an_issue() -> None:
    issues: list[SchemaIssue] = []
    inlined = inline_refs(schema_of(Tree), on_recursion="truncate", issues=issues)
    assert refs_in(inlined) == []
    children = inlined["properties"]["children"]
    assert children["items"] == {"type": "object"}
    assert inlined["properties"]["value"]["type"] == "integer"
    assert len(issues) == 1
    assert issues[0].keyword == "$ref"
    assert issues[0].path == "/properties/children/items"
    assert "#/$defs/Tree" in issues[0].detail


def test_unused_recursive_definitions_are_not_expanded() -> None:
    schema = schema_of(Tree)
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "$defs": schema["$defs"]}
    assert inline_refs(schema) == {"type": "object", "properties": {"n": {"type": "integer"}}}


@pytest.mark.parametrize(
    ("ref", "match"),
    [
        ("https://example.com/schema.json", "not local"),
        ("#/$defs/Missing", "points at nothing"),
    ],
)
def test_bad_references_are_configuration_errors(ref: str, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        inline_refs({"type": "object", "properties": {"a": {"$ref": ref}}})


def test_ref_pointer_escapes_are_decoded() -> None:
    schema = {"$defs": {"a/b": {"type": "integer"}}, "properties": {"x": {"$ref": "#/$defs/a~1b"}}}
    assert inline_refs(schema)["properties"]["x"] == {"type": "integer"}


# --- strip_keys ------------------------------------------------------------------------


def test_strip_keys_removes_keywords_but_not_property_names_or_data() -> None:
    class Doc(BaseModel):
        title: str
        default: Literal["title"] = "title"

    schema = schema_of(Doc)
    stripped = strip_keys(schema, {"title", "default"})
    assert set(stripped["properties"]) == {"title", "default"}
    assert "title" not in stripped
    assert stripped["properties"]["title"] == {"type": "string"}
    assert stripped["properties"]["default"] == {"const": "title", "type": "string"}
    assert stripped["required"] == ["title"]


def test_strip_keys_walks_every_schema_position() -> None:
    schema = schema_of(tuple[dict[str, Address], list[int] | None])
    stripped = strip_keys(inline_refs(schema), {"title"})

    def titles(node: Any) -> int:
        if isinstance(node, dict):
            return ("title" in node) + sum(titles(v) for v in node.values())
        if isinstance(node, list):
            return sum(titles(v) for v in node)
        return 0

    assert titles(inline_refs(schema)) > 0
    assert titles(stripped) == 0
    assert stripped["prefixItems"][0]["additionalProperties"]["properties"]["city"]["default"] == (
        "Paris"
    )


# --- transform_schema ------------------------------------------------------------------


def test_transform_schema_visits_bottom_up_with_paths_and_collects_issues() -> None:
    seen: list[str] = []

    def visitor(node: dict[str, Any], path: str, issues: list[SchemaIssue]) -> dict[str, Any]:
        seen.append(path)
        if "format" in node:
            issues.append(SchemaIssue(path, "format", "dropped"))
            del node["format"]
        return node

    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "when": {"type": "string", "format": "date"},
            "tags": {"type": "array", "items": {"type": "string", "format": "uri"}},
            "a/b": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
        },
        "additionalProperties": False,
    }
    result, issues = transform_schema(schema, visitor)
    assert seen == [
        "/properties/when",
        "/properties/tags/items",
        "/properties/tags",
        "/properties/a~1b/anyOf/0",
        "/properties/a~1b/anyOf/1",
        "/properties/a~1b",
        "",
    ]
    assert [(i.path, i.keyword) for i in issues] == [
        ("/properties/when", "format"),
        ("/properties/tags/items", "format"),
    ]
    assert result["properties"]["tags"]["items"] == {"type": "string"}
    assert result["additionalProperties"] is False
    assert schema["properties"]["when"]["format"] == "date"  # input untouched


def test_schema_issue_str_names_keyword_and_path() -> None:
    issue = SchemaIssue("/properties/x", "const", "turned into enum")
    assert str(issue) == "'const' at /properties/x: turned into enum"
    assert str(SchemaIssue("", "type", "wrapped")) == "'type' at /: wrapped"


def test_split_null_variants() -> None:
    kept, nullable = split_null_variants([{"type": "integer"}, {"type": "null"}])
    assert (kept, nullable) == ([{"type": "integer"}], True)
    kept, nullable = split_null_variants([{"type": "integer"}, {"type": "string"}])
    assert (kept, nullable) == ([{"type": "integer"}, {"type": "string"}], False)
    # A described null is a real variant, not the Optional marker.
    described = {"type": "null", "description": "explicitly nothing"}
    assert split_null_variants([described]) == ([described], False)


def test_merge_single_all_of_leaves_other_nodes_alone() -> None:
    node = {"allOf": [{"type": "string"}, {"minLength": 1}]}
    assert merge_single_all_of(node) == node
    assert merge_single_all_of({"type": "string"}) == {"type": "string"}
