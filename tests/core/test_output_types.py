"""``Output``: every kind of type, its schema, name and description, and how answers are read."""

from __future__ import annotations

import enum
import pickle
from dataclasses import dataclass
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field, ValidationError
from typing_extensions import TypedDict

from aether import Output
from aether.errors import AetherError, ConfigurationError, OutputValidationError
from aether.extensions.llm.builder import ProviderConfig
from aether.llm.output import extract_json


class Invoice(BaseModel):
    """An invoice, as printed."""

    number: str
    total: float
    note: str = ""


@dataclass
class Point:
    x: int
    y: int


class Person(TypedDict):
    name: str
    age: int


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Node(BaseModel):
    value: int
    children: list[Node] = []


def test_an_object_type_is_asked_for_as_its_own_schema() -> None:
    output = Output(Invoice)
    assert output.name == "Invoice"
    assert output.description == "An invoice, as printed."
    assert output.json_schema == Invoice.model_json_schema()
    assert output.validate_json('{"number": "A-1", "total": 12.5}') == Invoice(
        number="A-1", total=12.5
    )


@pytest.mark.parametrize(
    ("type_", "name", "value", "answer"),
    [
        (list[int], "list_int", [1, 2, 3], "[1, 2, 3]"),
        (int | str, "int_or_str", "x", '"x"'),
        (Literal["red", "green"], "choice", "green", '"green"'),
        (Color, "Color", Color.RED, '"red"'),
        (float, "float", 2.5, "2.5"),
        (bool, "bool", True, "true"),
        (str, "str", "hello", '"hello"'),
        (list[Invoice], "list_Invoice", [Invoice(number="1", total=2)], '[{"number": "1", '
         '"total": 2}]'),
        (Node, "Node", Node(value=1, children=[Node(value=2)]), '{"value": 1, "children": '
         '[{"value": 2}]}'),
    ],
)  # fmt: skip
def test_other_types_are_asked_for_wrapped_and_read_either_way(
    type_: Any, name: str, value: Any, answer: str
) -> None:
    output = Output(type_)
    assert output.name == name
    schema = output.json_schema
    assert schema["type"] == "object" and schema["required"] == ["response"]
    # References into the type's definitions still resolve from the root.
    assert "$defs" not in schema["properties"]["response"]
    assert output.validate_json(f'{{"response": {answer}}}') == value
    assert output.validate_json(answer) == value  # a model that leaves the wrapper out


def test_object_types_of_every_kind_keep_their_own_schema() -> None:
    assert Output(Point).validate_json('{"x": 1, "y": 2}') == Point(1, 2)
    assert Output(Point).description == ""  # not the signature dataclasses put in __doc__
    assert Output(Person).validate_json('{"name": "Ada", "age": 36}') == {"name": "Ada", "age": 36}
    assert Output(Person).json_schema["type"] == "object"
    assert "response" not in Output(Person).json_schema["properties"]


def test_name_description_mode_and_retries_can_be_set() -> None:
    output = Output(Invoice, name="bill", description="A bill.", mode="tool", retries=3)
    assert (output.name, output.description, output.mode, output.retries) == (
        "bill",
        "A bill.",
        "tool",
        3,
    )
    assert repr(output) == "Output(Invoice, mode='tool', retries=3)"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"mode": "json"}, "Output mode 'json' is unknown; use one of native, tool, prompted"),
        ({"retries": -1}, "whole number >= 0"),
        ({"retries": True}, "whole number >= 0"),
        ({"name": "my invoice"}, "1 to 64 letters, digits"),
    ],
)
def test_bad_options_are_refused_saying_what_is_accepted(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Output(Invoice, **options)


def test_a_type_pydantic_cannot_validate_is_refused_with_the_fix() -> None:
    class Opaque:
        pass

    with pytest.raises(TypeError, match=r"output_type=.*Opaque is not a type Aether can ask for"):
        Output(Opaque)
    with pytest.raises(TypeError, match="takes a type, not another Output"):
        Output(Output(Invoice))


def test_fences_prose_and_nulls_for_defaults_are_tolerated() -> None:
    output = Output(Invoice)
    fenced = 'Here it is:\n```json\n{"number": "A-1", "total": 3}\n```\nAnything else?'
    assert output.validate_json(fenced) == Invoice(number="A-1", total=3)
    assert output.validate_json('Sure! {"number": "A-1", "total": 3} Done.').total == 3
    # What a strict schema makes a model send for an optional field: null, meaning "default".
    assert output.validate_json('{"number": "A-1", "total": 3, "note": null}').note == ""
    with pytest.raises(ValidationError):  # a required field is still required
        output.validate_json('{"number": null, "total": 3}')


def test_null_for_a_default_is_dropped_inside_lists_and_unions() -> None:
    class Line(BaseModel):
        sku: str
        qty: int = 1

    class Order(BaseModel):
        lines: list[Line]
        coupon: str | int = "none"

    order = Output(Order).validate_json(
        '{"lines": [{"sku": "a", "qty": null}, {"sku": "b", "qty": 2}], "coupon": null}'
    )
    assert order == Order(lines=[Line(sku="a"), Line(sku="b", qty=2)], coupon="none")


def test_extract_json() -> None:
    assert extract_json("```\n[1, 2]\n```") == "[1, 2]"
    assert extract_json("```JSON\n{}\n```") == "{}"
    assert extract_json('text {"a": [1]} more') == '{"a": [1]}'
    assert extract_json("no json here") == "no json here"


def test_aliases_follow_the_schema() -> None:
    class Aliased(BaseModel):
        invoice_number: str = Field(alias="invoiceNumber")

    assert "invoiceNumber" in Output(Aliased).json_schema["properties"]
    assert Output(Aliased).validate_json('{"invoiceNumber": "7"}').invoice_number == "7"


# --- the error, and the client default -------------------------------------------------------


def test_output_validation_error_says_where_without_the_text() -> None:
    errors: list[dict[str, Any]] = [
        {"type": "missing", "loc": ("total",), "msg": "Field required", "input": {"x": 1}},
        {"type": "string_type", "loc": (), "msg": "Input should be a valid string", "input": 1},
    ]
    error = OutputValidationError(
        text='{"secret prompt echo": 1}', errors=errors, attempts=2, output_name="Invoice"
    )
    assert isinstance(error, AetherError)
    message = str(error)
    assert "did not fit Invoice after 2 answers: total: Field required; (root): Input" in message
    assert "secret prompt echo" not in message  # model text stays on .text
    assert error.text == '{"secret prompt echo": 1}'
    assert "raise output_retries" in message.lower()
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.text, copy.errors, copy.attempts, copy.output_name) == (
        error.text,
        error.errors,
        2,
        "Invoice",
    )
    cut = OutputValidationError(
        text="{", errors=errors, attempts=1, output_name="X", truncated=True
    )
    assert "cut at max_tokens: raise max_tokens" in str(cut)
    assert pickle.loads(pickle.dumps(cut)).truncated


def test_provider_config_output_retries() -> None:
    assert ProviderConfig().output_retries == 1
    assert ProviderConfig(output_retries=0).output_retries == 0
    wrong: Any
    for wrong in (-1, 1.5, "2", True):
        with pytest.raises(ConfigurationError, match="output_retries must be a whole number"):
            ProviderConfig(output_retries=wrong)
