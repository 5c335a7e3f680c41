"""strict_json_schema: pydantic schemas made fit for OpenAI's strict mode, or refused by place."""

from __future__ import annotations

import copy
import dataclasses
import enum
from typing import Annotated, Any, Literal

import pytest
from pydantic import AnyUrl, BaseModel, ConfigDict, Field, TypeAdapter
from typing_extensions import NotRequired, TypedDict

import aether.llm
from aether.errors import ConfigurationError
from aether.llm import strict_json_schema
from aether.llm.output_schema import strict_schema_issues

NULL = {"type": "null"}


class Priority(enum.Enum):
    LOW = "low"
    HIGH = "high"


class Address(BaseModel):
    street: str
    city: str = Field(description="The city")


class Card(BaseModel):
    kind: Literal["card"]
    last4: str = Field(min_length=4, max_length=4)


class Cash(BaseModel):
    kind: Literal["cash"]
    currency: str = "EUR"


class Tree(BaseModel):
    label: str
    children: list[Tree] = Field(default_factory=list, description="Subtrees")


class Invoice(BaseModel):
    """An invoice."""

    number: int = Field(description="Invoice number")
    note: str | None = None
    copies: int = 1
    status: Literal["draft", "sent"] = "draft"
    priority: Priority = Field(default=Priority.LOW, description="How urgent")
    billing: Address = Field(description="Where the bill goes")
    shipping: Address | None = None
    lines: list[Address] = []
    payment: Annotated[Card | Cash, Field(discriminator="kind")]
    amount: int | float | str
    tree: Tree
    website: AnyUrl | None = None


ADDRESS = {
    "properties": {
        "street": {"title": "Street", "type": "string"},
        "city": {"description": "The city", "title": "City", "type": "string"},
    },
    "required": ["street", "city"],
    "title": "Address",
    "type": "object",
    "additionalProperties": False,
}

TREE = {
    "properties": {
        "label": {"title": "Label", "type": "string"},
        "children": {
            "anyOf": [{"items": {"$ref": "#/$defs/Tree"}, "type": "array"}, NULL],
            "title": "Children",
            "description": "Subtrees",
        },
    },
    "required": ["label", "children"],
    "title": "Tree",
    "type": "object",
    "additionalProperties": False,
}


def test_a_nasty_model_is_made_strict_field_by_field() -> None:
    original = Invoice.model_json_schema()
    kept = copy.deepcopy(original)
    strict = strict_json_schema(original)
    assert original == kept  # the input is never changed
    assert strict_schema_issues(strict) == []
    properties = strict["properties"]
    assert list(properties) == list(Invoice.model_fields)  # the answer's key order
    optional = [name for name in properties if name not in original["required"]]
    assert strict["required"] == original["required"] + optional
    assert strict["additionalProperties"] is False
    assert strict["description"] == "An invoice."
    assert properties["number"] == {
        "description": "Invoice number",
        "title": "Number",
        "type": "integer",
    }
    # Optional fields: required, may be null, no default.
    assert properties["note"] == {"anyOf": [{"type": "string"}, NULL], "title": "Note"}
    assert properties["copies"] == {"title": "Copies", "type": ["integer", "null"]}
    assert properties["status"] == {
        "anyOf": [{"enum": ["draft", "sent"], "type": "string"}, NULL],
        "title": "Status",
    }
    assert properties["priority"] == {
        "anyOf": [{"$ref": "#/$defs/Priority"}, NULL],
        "description": "How urgent",
    }
    # A described model reference: the $ref alone inside anyOf, the description beside it.
    assert properties["billing"] == {
        "anyOf": [{"$ref": "#/$defs/Address"}],
        "description": "Where the bill goes",
    }
    assert properties["shipping"] == {"anyOf": [{"$ref": "#/$defs/Address"}, NULL]}
    assert properties["lines"] == {
        "anyOf": [{"items": {"$ref": "#/$defs/Address"}, "type": "array"}, NULL],
        "title": "Lines",
    }
    # A discriminated union: oneOf becomes anyOf, OpenAPI's discriminator goes.
    assert properties["payment"] == {
        "title": "Payment",
        "anyOf": [{"$ref": "#/$defs/Card"}, {"$ref": "#/$defs/Cash"}],
    }
    assert properties["amount"]["anyOf"] == [
        {"type": "integer"},
        {"type": "number"},
        {"type": "string"},
    ]
    assert properties["tree"] == {"$ref": "#/$defs/Tree"}
    # Constraints strict mode refuses move into the description, where the model reads them.
    assert properties["website"] == {
        "anyOf": [{"type": "string", "description": "minLength: 1, format: uri"}, NULL],
        "title": "Website",
    }


def test_the_definitions_are_made_strict_and_recursion_is_kept() -> None:
    defs = strict_json_schema(Invoice.model_json_schema())["$defs"]
    assert defs["Address"] == ADDRESS
    assert defs["Priority"] == {"enum": ["low", "high"], "title": "Priority", "type": "string"}
    assert defs["Card"]["properties"]["last4"] == {
        "title": "Last4",
        "type": "string",
        "description": "minLength: 4, maxLength: 4",
    }
    assert defs["Cash"]["properties"]["currency"] == {
        "title": "Currency",
        "type": ["string", "null"],
    }
    assert defs["Cash"]["required"] == ["kind", "currency"]
    assert defs["Tree"] == TREE


def test_a_recursive_root_is_its_definition_which_stays_for_the_references() -> None:
    schema = Tree.model_json_schema()
    assert schema["$ref"] == "#/$defs/Tree"  # pydantic's form: the root is a reference
    strict = strict_json_schema(schema)
    assert strict == {**TREE, "$defs": {"Tree": TREE}}
    assert strict_schema_issues(strict) == []


def test_mutually_recursive_definitions_are_kept() -> None:
    class Employee(BaseModel):
        name: str
        desk: Desk

    class Desk(BaseModel):
        owner: Employee | None = None

    Employee.model_rebuild()
    strict = strict_json_schema(Employee.model_json_schema())
    assert strict["properties"]["desk"] == {"$ref": "#/$defs/Desk"}
    assert strict["$defs"]["Desk"]["properties"]["owner"] == {
        "anyOf": [{"$ref": "#/$defs/Employee"}, NULL]
    }
    assert strict["$defs"]["Employee"]["properties"] == strict["properties"]
    assert strict_schema_issues(strict) == []


@pytest.mark.parametrize(
    "shape",
    [
        TypeAdapter(dict[str, int]),
        TypeAdapter(dict[str, Any]),
        TypeAdapter(dict),  # type: ignore[type-arg]
    ],
    ids=["dict[str, int]", "dict[str, Any]", "dict"],
)
def test_a_dict_field_is_refused_with_the_way_out(shape: TypeAdapter[Any]) -> None:
    schema = {
        "type": "object",
        "properties": {"counts": shape.json_schema()},
        "required": ["counts"],
    }
    with pytest.raises(ConfigurationError) as info:
        strict_json_schema(schema)
    message = str(info.value)
    assert "'additionalProperties' at /properties/counts: an object with free-form keys" in message
    assert "use a list of key/value objects" in message
    assert "strict=False, or another output mode" in message


def test_every_place_strict_mode_cannot_express_is_named_at_once() -> None:
    class Loose(BaseModel):
        tags: dict[str, int] = {}
        anything: Any = None
        things: list = []  # type: ignore[type-arg]
        inner: Address

    with pytest.raises(ConfigurationError) as info:
        strict_json_schema(Loose.model_json_schema())
    message = str(info.value)
    for place in (
        "'additionalProperties' at /properties/tags:",
        "'type' at /properties/anything: strict mode needs a type",
        "'type' at /properties/things/items:",
    ):
        assert place in message
    assert "/properties/inner" not in message  # what can be made strict is not named


@pytest.mark.parametrize("root", [list[int], int | str, int])
def test_a_root_that_is_no_object_is_refused(root: Any) -> None:
    with pytest.raises(ConfigurationError, match="'type' at /: the root must be an object"):
        strict_json_schema(TypeAdapter(root).json_schema())


@pytest.mark.parametrize(
    ("keyword", "value"),
    [
        ("not", {"type": "string"}),
        ("if", {"type": "string"}),
        ("allOf", [{"type": "string"}, {"type": "string", "pattern": "a"}]),
        ("dependentRequired", {"a": ["b"]}),
    ],
)
def test_a_keyword_without_a_strict_equivalent_is_refused(keyword: str, value: Any) -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string", keyword: value}},
        "required": ["a"],
    }
    with pytest.raises(ConfigurationError) as info:
        strict_json_schema(schema)
    assert f"'{keyword}' at /properties/a: strict mode does not take this keyword" in str(
        info.value
    )


def test_a_single_all_of_is_folded_into_its_node() -> None:
    # Older pydantic's form of a described model reference.
    schema = {
        "type": "object",
        "properties": {
            "home": {"allOf": [{"$ref": "#/$defs/Address"}], "description": "Home"},
            "work": {"allOf": [{"type": "string"}], "title": "Work"},
        },
        "required": ["home", "work"],
        "$defs": {"Address": Address.model_json_schema()},
    }
    properties = strict_json_schema(schema)["properties"]
    assert properties["home"] == {"anyOf": [{"$ref": "#/$defs/Address"}], "description": "Home"}
    assert properties["work"] == {"type": "string", "title": "Work"}


def test_optional_fields_of_typed_dicts_and_dataclasses_become_nullable() -> None:
    class Movie(TypedDict):
        title: str
        year: NotRequired[int]

    @dataclasses.dataclass
    class Review:
        movie: Movie
        stars: int = 3
        tags: list[str] = dataclasses.field(default_factory=list)

    strict = strict_json_schema(TypeAdapter(Review).json_schema())
    assert strict["required"] == ["movie", "stars", "tags"]
    assert strict["properties"]["stars"] == {"title": "Stars", "type": ["integer", "null"]}
    movie = strict["$defs"]["Movie"]
    assert movie["required"] == ["title", "year"]
    assert movie["properties"]["year"] == {"title": "Year", "type": ["integer", "null"]}
    assert strict_schema_issues(strict) == []


def test_declared_extra_keys_are_closed_and_forbidden_ones_stay_closed() -> None:
    class Open(BaseModel):
        model_config = ConfigDict(extra="allow")
        a: int

    class Closed(BaseModel):
        model_config = ConfigDict(extra="forbid")
        a: int

    for model in (Open, Closed):
        strict = strict_json_schema(model.model_json_schema())
        assert strict["additionalProperties"] is False
        assert strict["required"] == ["a"]


def test_an_empty_model_is_a_closed_empty_object_not_a_dict() -> None:
    class Nothing(BaseModel):
        pass

    assert strict_json_schema(Nothing.model_json_schema()) == {
        "properties": {},
        "title": "Nothing",
        "type": "object",
        "required": [],
        "additionalProperties": False,
    }


def test_a_value_already_nullable_gets_no_second_null() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": ["string", "null"], "default": None},
            "b": {"enum": ["x", None]},
            "c": {"anyOf": [{"type": "integer"}, {"type": ["string", "null"]}]},
        },
    }
    properties = strict_json_schema(schema)["properties"]
    assert properties == {
        "a": {"type": ["string", "null"]},
        "b": {"enum": ["x", None]},
        "c": {"anyOf": [{"type": "integer"}, {"type": ["string", "null"]}]},
    }


def test_properties_named_like_keywords_are_data_not_keywords() -> None:
    class Page(BaseModel):
        title: str
        default: str = "x"
        format: str

    strict = strict_json_schema(Page.model_json_schema())
    assert list(strict["properties"]) == ["title", "default", "format"]
    assert strict["properties"]["default"] == {"title": "Default", "type": ["string", "null"]}


def test_a_default_outside_properties_goes_too() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "array", "items": {"type": "string", "default": "x"}},
            "b": {"anyOf": [{"$ref": "#/$defs/B", "default": {}}, NULL]},
        },
        "required": ["a", "b"],
        "$defs": {"B": {"type": "object", "properties": {}}},
    }
    properties = strict_json_schema(schema)["properties"]
    assert properties["a"] == {"type": "array", "items": {"type": "string"}}
    assert properties["b"] == {"anyOf": [{"$ref": "#/$defs/B"}, NULL]}


def test_a_strict_schema_comes_back_unchanged() -> None:
    strict = strict_json_schema(Invoice.model_json_schema())
    assert strict_json_schema(strict) == strict
    hand_written = {
        "type": "object",
        "properties": {"when": {"type": ["string", "null"], "format": "date"}},
        "required": ["when"],
        "additionalProperties": False,
    }
    assert strict_schema_issues(hand_written) == []
    assert strict_json_schema(hand_written) == hand_written


def test_the_check_names_what_the_transform_fixes() -> None:
    issues = strict_schema_issues(Invoice.model_json_schema())
    named = {(issue.path, issue.keyword) for issue in issues}
    assert ("", "additionalProperties") in named
    assert ("", "required") in named
    assert ("/properties/billing", "$ref") in named
    assert ("/properties/payment", "oneOf") in named
    assert ("/$defs/Card/properties/last4", "minLength") in named
    assert ("/properties/copies", "default") in named


def test_it_is_exported_from_aether_llm() -> None:
    assert "strict_json_schema" in aether.llm.__all__
    assert aether.llm.strict_json_schema is strict_json_schema


def test_a_closing_unevaluated_keyword_goes_and_an_open_one_is_refused() -> None:
    closed = {
        "type": "object",
        "properties": {"a": {"type": "string"}},
        "required": ["a"],
        "unevaluatedProperties": False,
    }
    assert "unevaluatedProperties" not in strict_json_schema(closed)
    tuple_with_more = {
        "type": "object",
        "properties": {
            "t": {"type": "array", "prefixItems": [{"type": "string"}], "unevaluatedItems": NULL}
        },
        "required": ["t"],
    }
    with pytest.raises(ConfigurationError, match="'unevaluatedItems' at /properties/t"):
        strict_json_schema(tuple_with_more)
