"""A JSON schema rewritten to the subset Anthropic's grammar (structured output, strict tools)
takes."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field, TypeAdapter

from aether.errors import ConfigurationError
from aether_anthropic._schema import grammar_schema


class Cat(BaseModel):
    kind: Literal["cat"]
    lives: int = Field(ge=0, le=9)


class Dog(BaseModel):
    kind: Literal["dog"]
    name: str = Field(max_length=20, description="What it answers to.")


class Owner(BaseModel):
    """Someone with pets."""

    born: date
    pet: Annotated[Cat | Dog, Field(discriminator="kind")]
    tags: list[str] = Field(min_length=2)
    best: Cat | None = None
    friend: Dog = Field(description="The best friend.")


def output_schema(schema: dict[str, Any]) -> dict[str, Any]:
    return grammar_schema(schema, subject="the answer's schema", fix="ask another way")


def objects(node: Any) -> list[dict[str, Any]]:
    """Every object schema in ``node``, however deep."""
    found = []
    if isinstance(node, dict):
        if node.get("type") == "object":
            found.append(node)
        for value in node.values():
            found += objects(value)
    elif isinstance(node, list):
        for item in node:
            found += objects(item)
    return found


def keywords(node: Any, *, names: bool = False) -> set[str]:
    """Every keyword used in ``node`` (``names``: it maps property names to schemas)."""
    if isinstance(node, dict):
        found = set() if names else set(node)
        for key, value in node.items():
            found |= keywords(value, names=key in ("properties", "$defs") and not names)
        return found
    if isinstance(node, list):
        return {key for item in node for key in keywords(item)}
    return set()


def test_a_schema_that_follows_the_rules_is_sent_unchanged() -> None:
    schema = {
        "type": "object",
        "title": "City",
        "properties": {
            "name": {"type": "string", "description": "Its name."},
            "size": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None},
            "when": {"type": "string", "format": "date-time"},
            "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "minItems": 1},
        },
        "required": ["name"],
        "additionalProperties": False,
    }
    assert output_schema(schema) == schema


def test_every_object_is_closed_and_the_rewrite_is_stable() -> None:
    out = output_schema(Owner.model_json_schema())
    assert objects(out), "the model's objects are all there"
    assert all(obj["additionalProperties"] is False for obj in objects(out))
    assert output_schema(out) == out, "rewriting a rewritten schema changes nothing"


def test_constraints_the_grammar_does_not_take_are_described_instead() -> None:
    out = output_schema(Owner.model_json_schema())
    cat = out["$defs"]["Cat"]["properties"]["lives"]
    assert cat == {"title": "Lives", "type": "integer", "description": "{maximum: 9, minimum: 0}"}
    name = out["$defs"]["Dog"]["properties"]["name"]
    assert name["description"] == "What it answers to.\n\n{maxLength: 20}"
    tags = out["properties"]["tags"]
    assert (tags["description"], "minItems" in tags) == ("{minItems: 2}", False)
    assert not {"minimum", "maximum", "maxLength"} & keywords(out)
    assert out["properties"]["born"]["format"] == "date", "a format the grammar knows stays"
    odd = output_schema({"type": "string", "format": "int64", "pattern": "^[0-9]+$"})
    assert odd == {"type": "string", "pattern": "^[0-9]+$", "description": '{format: "int64"}'}


def test_a_tagged_union_is_any_of_its_branches() -> None:
    pet = output_schema(Owner.model_json_schema())["properties"]["pet"]
    assert pet == {"anyOf": [{"$ref": "#/$defs/Cat"}, {"$ref": "#/$defs/Dog"}], "title": "Pet"}


def test_a_reference_with_a_description_becomes_the_definition() -> None:
    out = output_schema(Owner.model_json_schema())
    friend = out["properties"]["friend"]
    assert "$ref" not in friend
    assert friend["description"] == "The best friend."
    assert friend["properties"].keys() == {"kind", "name"}
    assert friend["additionalProperties"] is False
    wrapped = {
        "$defs": {"Cat": Cat.model_json_schema()},
        "type": "object",
        "properties": {"c": {"allOf": [{"$ref": "#/$defs/Cat"}]}},
        "required": ["c"],
    }
    assert output_schema(wrapped)["properties"]["c"] == {"$ref": "#/$defs/Cat"}


def test_annotations_without_meaning_are_dropped() -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "string",
        "examples": ["x"],
        "deprecated": True,
    }
    assert output_schema(schema) == {"type": "string"}


@pytest.mark.parametrize(
    ("shape", "where"),
    [
        (dict[str, int], "#"),
        (dict[str, Any], "#"),
        (list[dict[str, int]], "#/items"),
    ],
)
def test_an_object_without_fixed_properties_is_refused(shape: Any, where: str) -> None:
    schema = TypeAdapter(shape).json_schema()
    with pytest.raises(ConfigurationError, match=f"answer's schema has at {where} an object"):
        output_schema(schema)
    with pytest.raises(ConfigurationError, match="give it fixed properties, or ask another way"):
        output_schema({"type": "object"})


class Node(BaseModel):
    children: list[Node]


def test_a_recursive_schema_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"no recursive schema.*#/\$defs/Node contains"):
        output_schema(Node.model_json_schema())
    with pytest.raises(ConfigurationError, match="schema # contains itself"):
        output_schema({"type": "object", "properties": {"again": {"$ref": "#"}}})


def test_a_reference_outside_the_schema_is_refused() -> None:
    schema = {"type": "object", "properties": {"x": {"$ref": "https://example.com/x.json"}}}
    with pytest.raises(ConfigurationError, match="references within the schema only"):
        output_schema(schema)
