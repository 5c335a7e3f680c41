"""Tool schemas translated to Gemini's dialect, for every pydantic type family."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import warnings
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field, TypeAdapter

from aether.llm.contracts import ToolSpec
from aether_gemini import GeminiSchemaWarning, to_gemini_schema
from aether_gemini._schema import DeclarationCache

# Everything Gemini's Schema object accepts; anything else in the output would be a 400.
ALLOWED = {
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


def assert_gemini_dialect(node: Any, path: str = "") -> None:
    assert isinstance(node, dict), path
    assert set(node) <= ALLOWED, f"{path}: {set(node) - ALLOWED}"
    assert not isinstance(node.get("type"), list), path
    if "enum" in node:
        assert node["type"] == "string" and all(isinstance(v, str) for v in node["enum"]), path
    if "properties" in node or "required" in node:
        assert node["type"] == "object", path
    for name, child in node.get("properties", {}).items():
        assert_gemini_dialect(child, f"{path}/properties/{name}")
    if "items" in node:
        assert_gemini_dialect(node["items"], f"{path}/items")
    for i, child in enumerate(node.get("anyOf", [])):
        assert_gemini_dialect(child, f"{path}/anyOf/{i}")


def translate(tp: Any) -> tuple[dict[str, Any], list[str]]:
    schema, issues = to_gemini_schema(TypeAdapter(tp).json_schema())
    assert_gemini_dialect(schema)
    return schema, [issue.keyword for issue in issues]


def props(tp: Any) -> tuple[dict[str, Any], list[str]]:
    schema, issues = translate(tp)
    return schema["properties"], issues


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Address(BaseModel):
    """A postal address."""

    street: str
    city: str = "Paris"


@dataclasses.dataclass
class Point:
    x: float
    y: float = 0.0


def test_scalars_keep_types_and_lose_titles() -> None:
    class Args(BaseModel):
        s: str
        i: int
        f: float
        b: bool

    schema, issues = translate(Args)
    assert schema == {
        "type": "object",
        "properties": {
            "s": {"type": "string"},
            "i": {"type": "integer"},
            "f": {"type": "number"},
            "b": {"type": "boolean"},
        },
        "required": ["s", "i", "f", "b"],
    }
    assert issues == []


def test_optional_becomes_nullable() -> None:
    class Args(BaseModel):
        a: int | None = None
        b: int | None = Field(default=None, description="maybe b")
        c: Address | None = None

    properties, issues = props(Args)
    assert properties["a"] == {"type": "integer", "nullable": True}
    assert properties["b"] == {"type": "integer", "nullable": True, "description": "maybe b"}
    assert properties["c"]["nullable"] is True
    assert properties["c"]["type"] == "object"
    assert set(properties["c"]["properties"]) == {"street", "city"}
    assert issues == []


def test_literal_enum_and_const() -> None:
    class Args(BaseModel):
        mode: Literal["fast", "slow"]
        color: Color = Color.RED
        only: Literal["x"]
        maybe: Literal["a", "b"] | None = None

    properties, issues = props(Args)
    assert properties["mode"] == {"type": "string", "enum": ["fast", "slow"]}
    assert properties["color"]["enum"] == ["red", "blue"]
    assert properties["color"]["description"].endswith('default: "red"')
    assert properties["only"] == {"type": "string", "enum": ["x"]}
    assert properties["maybe"] == {"type": "string", "enum": ["a", "b"], "nullable": True}
    assert issues == []


def test_null_inside_an_enum_becomes_nullable() -> None:
    schema, issues = to_gemini_schema(
        {"type": "object", "properties": {"m": {"enum": ["a", None]}}}
    )
    assert schema["properties"]["m"] == {"enum": ["a"], "nullable": True, "type": "string"}
    assert issues == []


def test_non_string_enums_move_to_description_with_an_issue() -> None:
    class Args(BaseModel):
        level: Level
        n: Literal[1, 2, 3]

    properties, issues = props(Args)
    assert properties["level"]["type"] == "integer"
    assert "enum" not in properties["level"]
    assert "one of: 1, 2" in properties["level"]["description"]
    assert properties["n"] == {"type": "integer", "description": "one of: 1, 2, 3"}
    assert issues == ["enum", "enum"]


def test_lists_sets_and_tuples() -> None:
    class Args(BaseModel):
        tags: list[str]
        ids: set[int]
        pair: tuple[int, int]
        mixed: tuple[int, str]
        many: tuple[float, ...]

    properties, issues = props(Args)
    assert properties["tags"] == {"type": "array", "items": {"type": "string"}}
    assert properties["ids"] == {
        "type": "array",
        "items": {"type": "integer"},
        "description": "items must be unique",
    }
    assert properties["pair"] == {
        "type": "array",
        "items": {"type": "integer"},
        "minItems": 2,
        "maxItems": 2,
    }
    assert properties["mixed"]["items"] == {"anyOf": [{"type": "integer"}, {"type": "string"}]}
    assert properties["many"] == {"type": "array", "items": {"type": "number"}}
    assert issues == ["prefixItems"]


def test_dict_loses_value_type_with_an_issue() -> None:
    class Args(BaseModel):
        counts: dict[str, int]

    properties, issues = props(Args)
    assert properties["counts"]["type"] == "object"
    assert "additionalProperties" not in properties["counts"]
    assert "integer values" in properties["counts"]["description"]
    assert issues == ["additionalProperties"]


def test_nested_models_and_dataclasses_are_inlined() -> None:
    class Args(BaseModel):
        home: Address = Field(description="where they live")
        where: Point
        homes: list[Address]

    properties, issues = props(Args)
    home = properties["home"]
    assert home["description"] == "where they live"
    assert home["properties"]["city"] == {"type": "string", "description": 'default: "Paris"'}
    assert home["required"] == ["street"]
    assert properties["where"]["properties"]["x"] == {"type": "number"}
    assert properties["homes"]["items"]["properties"]["street"] == {"type": "string"}
    assert issues == []


def test_defaults_go_to_the_description() -> None:
    class Args(BaseModel):
        n: int = Field(default=3, description="How many")
        flag: bool = False
        nothing: str | None = None

    properties, _ = props(Args)
    assert properties["n"] == {"type": "integer", "description": "How many (default: 3)"}
    assert properties["flag"] == {"type": "boolean", "description": "default: false"}
    assert properties["nothing"] == {"type": "string", "nullable": True}


def test_constraints_and_formats() -> None:
    class Args(BaseModel):
        when: datetime.datetime
        day: datetime.date
        count: int = Field(gt=0, lt=10)
        ratio: float = Field(gt=0, le=1)
        name: str = Field(min_length=1, max_length=5, pattern="^[a-z]+$")

    properties, issues = props(Args)
    assert properties["when"] == {"type": "string", "format": "date-time"}
    assert properties["day"] == {"type": "string", "description": "format: date"}
    assert properties["count"] == {"type": "integer", "minimum": 1, "maximum": 9}
    assert properties["ratio"] == {"type": "number", "minimum": 0, "maximum": 1}
    assert properties["name"] == {
        "type": "string",
        "minLength": 1,
        "maxLength": 5,
        "pattern": "^[a-z]+$",
    }
    assert issues == ["exclusiveMinimum"]


def test_unions_become_any_of() -> None:
    class Cat(BaseModel):
        kind: Literal["cat"]
        meows: int

    class Dog(BaseModel):
        kind: Literal["dog"]
        barks: int

    class Args(BaseModel):
        pet: Cat | Dog = Field(discriminator="kind")
        value: int | str | None

    properties, issues = props(Args)
    assert [set(v["properties"]) for v in properties["pet"]["anyOf"]] == [
        {"kind", "meows"},
        {"kind", "barks"},
    ]
    assert properties["value"] == {
        "anyOf": [{"type": "integer"}, {"type": "string"}],
        "nullable": True,
    }
    assert issues == []


def test_recursive_model_is_cut_after_one_level_with_an_issue() -> None:
    class Node(BaseModel):
        value: int
        children: list[Node] = []

    schema, issues = translate(Node)
    assert schema["properties"]["children"]["items"] == {"type": "object"}
    assert issues == ["$ref"]


def test_type_lists_and_hand_written_schemas() -> None:
    schema, issues = to_gemini_schema(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "a": {"type": ["string", "null"]},
                "b": {"type": ["integer", "string"]},
                "c": {"allOf": [{"type": "string"}, {"minLength": 2}]},
                "d": {"not": {"type": "string"}},
                "e": {"type": "array", "items": [{"type": "integer"}]},
                "f": {"oneOf": [{"type": "integer"}, {"type": "null"}]},
            },
            "required": ["a", "ghost"],
            "additionalProperties": False,
        }
    )
    assert_gemini_dialect(schema)
    p = schema["properties"]
    assert p["a"] == {"type": "string", "nullable": True}
    assert p["b"] == {"anyOf": [{"type": "integer"}, {"type": "string"}]}
    assert p["c"] == {"type": "string", "minLength": 2}
    assert p["d"] == {}
    assert p["e"] == {"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 1}
    assert p["f"] == {"type": "integer", "nullable": True}
    assert schema["required"] == ["a"]
    # The subset has no way to forbid extra keys: said, never dropped in silence.
    assert sorted(i.keyword for i in issues) == ["additionalProperties", "allOf", "not"]


def test_root_that_is_not_an_object_is_wrapped() -> None:
    schema, issues = to_gemini_schema({"type": "string"})
    assert schema == {
        "type": "object",
        "properties": {"value": {"type": "string"}},
        "required": ["value"],
    }
    assert [i.keyword for i in issues] == ["type"]


def test_empty_parameters_are_an_empty_object() -> None:
    assert to_gemini_schema({"type": "object", "properties": {}}) == (
        {"type": "object", "properties": {}},
        [],
    )


def test_warnings_name_the_tool_and_keyword_and_fire_once_per_tool() -> None:
    class Args(BaseModel):
        counts: dict[str, int]

    tool = ToolSpec(name="tally", description="Count", parameters=Args.model_json_schema())
    cache = DeclarationCache()
    with pytest.warns(GeminiSchemaWarning, match=r"'tally'.*'additionalProperties'"):
        first = cache.declaration(tool)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = cache.declaration(ToolSpec.model_validate(tool.model_dump()))
    assert again is first
    assert first["name"] == "tally"
    assert first["description"] == "Count"
    assert first["parameters"]["properties"]["counts"]["type"] == "object"


def test_cache_is_bounded() -> None:
    cache = DeclarationCache(maxsize=2)
    tools = [ToolSpec(name=f"t{i}") for i in range(3)]
    entries = [cache.declaration(t) for t in tools]
    assert cache.declaration(tools[2]) is entries[2]
    assert cache.declaration(tools[0]) is not entries[0]  # evicted, rebuilt
    assert cache.declaration(tools[0]) == entries[0]
