"""Signature + docstring → JSON Schema, one test per docstring style and per type family."""

from __future__ import annotations

import dataclasses
import enum
import functools
from typing import Annotated, Any, Literal, Optional

import pytest
from pydantic import BaseModel, Field

from aether.errors import ConfigurationError
from aether.tools import make_tool


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Address(BaseModel):
    street: str
    city: str = "Paris"


@dataclasses.dataclass
class Point:
    x: float
    y: float = 0.0


def google(customer_id: str, limit: int = 10) -> dict[str, Any]:
    """Look up a customer.

    Searches the CRM first.

    Args:
        customer_id: Internal customer ID (UUID).
        limit: How many orders to include.
    """
    return {}


def numpy_style(customer_id: str, limit: int = 10) -> None:
    """Look up a customer.

    Parameters
    ----------
    customer_id : str
        Internal customer ID (UUID).
    limit : int
        How many orders to include.
    """


def rest_style(customer_id: str, limit: int = 10) -> None:
    """Look up a customer.

    :param customer_id: Internal customer ID (UUID).
    :param limit: How many orders to include.
    """


@pytest.mark.parametrize("function", [google, numpy_style, rest_style])
def test_parameter_descriptions_come_from_each_docstring_style(function: Any) -> None:
    tool = make_tool(function)
    props = tool.parameters["properties"]
    assert props["customer_id"] == {"type": "string", "description": "Internal customer ID (UUID)."}
    assert props["limit"] == {
        "type": "integer",
        "default": 10,
        "description": "How many orders to include.",
    }
    assert tool.parameters["required"] == ["customer_id"]
    assert tool.description.startswith("Look up a customer.")
    assert "customer_id" not in tool.description  # the Args section goes to the schema


def test_description_keeps_summary_and_body_but_explicit_one_wins() -> None:
    assert make_tool(google).description == "Look up a customer.\n\nSearches the CRM first."
    assert make_tool(google, description="Find one").description == "Find one"
    assert make_tool(google, description="Find one").spec.description == "Find one"


def test_spec_example_docstring_only_has_args_section() -> None:
    def get_customer(customer_id: str) -> dict[str, str]:
        """
        Args:
            customer_id: Internal customer ID (UUID).
        """
        return {"id": customer_id, "name": "..."}

    tool = make_tool(get_customer, description="Look up a customer by ID")
    assert tool.spec.model_dump(exclude={"strict"}) == {
        "name": "get_customer",
        "description": "Look up a customer by ID",
        "parameters": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "customer_id": {"type": "string", "description": "Internal customer ID (UUID)."}
            },
            "required": ["customer_id"],
        },
    }


def test_annotated_description_wins_over_docstring() -> None:
    def tool_fn(q: Annotated[str, Field(description="From the annotation.")]) -> None:
        """Search.

        Args:
            q: From the docstring.
        """

    assert make_tool(tool_fn).parameters["properties"]["q"]["description"] == "From the annotation."


def test_optional_and_defaults() -> None:
    def f(a: Optional[int] = None, b: str | None = "x", c: bool = False) -> None:  # noqa: UP045
        pass

    props = make_tool(f).parameters["properties"]
    assert props["a"] == {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None}
    assert props["b"] == {"anyOf": [{"type": "string"}, {"type": "null"}], "default": "x"}
    assert props["c"] == {"type": "boolean", "default": False}
    assert "required" not in make_tool(f).parameters


def test_enums_and_literals() -> None:
    def f(color: Color, mode: Literal["fast", "slow"] = "fast") -> None:
        pass

    schema = make_tool(f).parameters
    assert schema["properties"]["mode"] == {
        "enum": ["fast", "slow"],
        "type": "string",
        "default": "fast",
    }
    assert schema["properties"]["color"] == {"$ref": "#/$defs/Color"}
    assert schema["$defs"]["Color"]["enum"] == ["red", "green"]


def test_lists_and_dicts() -> None:
    def f(tags: list[str], scores: dict[str, float], matrix: list[list[int]] | None = None) -> None:
        pass

    props = make_tool(f).parameters["properties"]
    assert props["tags"] == {"type": "array", "items": {"type": "string"}}
    assert props["scores"] == {"type": "object", "additionalProperties": {"type": "number"}}
    assert props["matrix"]["anyOf"][0] == {
        "type": "array",
        "items": {"type": "array", "items": {"type": "integer"}},
    }


def test_nested_pydantic_models_and_dataclasses() -> None:
    def f(address: Address, points: list[Point]) -> None:
        pass

    schema = make_tool(f).parameters
    assert schema["properties"]["address"] == {"$ref": "#/$defs/Address"}
    assert schema["properties"]["points"] == {"type": "array", "items": {"$ref": "#/$defs/Point"}}
    assert schema["$defs"]["Address"]["properties"] == {
        "street": {"type": "string"},
        "city": {"type": "string", "default": "Paris"},
    }
    assert schema["$defs"]["Address"]["required"] == ["street"]
    assert schema["$defs"]["Point"]["required"] == ["x"]


def test_unannotated_parameters_accept_anything() -> None:
    def f(value, count=3):  # type: ignore[no-untyped-def]
        pass

    props = make_tool(f).parameters["properties"]
    assert props["value"] == {}
    assert props["count"] == {"default": 3}


def test_parameter_names_that_shadow_basemodel_attributes_work() -> None:
    def f(json: str, model_config: int, schema: bool = True) -> str:
        return f"{json}{model_config}{schema}"

    tool = make_tool(f)
    assert set(tool.parameters["properties"]) == {"json", "model_config", "schema"}
    assert tool.bind({"json": "j", "model_config": 2}) == ([], {"json": "j", "model_config": 2})


def test_no_parameters() -> None:
    def now() -> str:
        return "noon"

    assert make_tool(now).parameters == {
        "type": "object",
        "properties": {},
        "additionalProperties": False,
    }


def test_callable_objects_and_partials() -> None:
    class Scale:
        async def __call__(self, value: float, factor: float = 2.0) -> float:
            return value * factor

    def power(base: int, exponent: int) -> int:
        return int(base**exponent)

    scaled = make_tool(Scale(), name="scale")
    assert scaled.is_async
    assert set(scaled.parameters["properties"]) == {"value", "factor"}
    squared = make_tool(functools.partial(power, exponent=2), name="square")
    assert not squared.is_async
    assert squared.parameters["required"] == ["base"]


def test_schema_is_built_once_and_shared() -> None:
    tool = make_tool(google)
    assert tool.spec is tool.spec
    assert tool.parameters is tool.spec.parameters


@pytest.mark.parametrize(
    ("source", "match"),
    [
        ("def f(*args: int) -> None: pass", r"\*args"),
        ("def f(**kwargs: int) -> None: pass", r"\*\*kwargs"),
        ("def f(x: 'Missing') -> None: pass", "Missing"),
        # Python 3.10 already fails while resolving the annotation; later ones while building.
        (
            "def f(x: object()) -> None: pass",
            "Cannot (build the argument schema|resolve the type annotations)",
        ),
    ],
)
def test_parameters_a_model_cannot_call_fail_at_build_time(source: str, match: str) -> None:
    namespace: dict[str, Any] = {}
    exec(source, namespace)
    with pytest.raises(ConfigurationError, match=match):
        make_tool(namespace["f"])


@pytest.mark.parametrize("name", ["", "has space", "a" * 65, "1starts_with_digit", "dot.ted"])
def test_names_every_provider_rejects_fail_early(name: str) -> None:
    with pytest.raises(ConfigurationError, match="Tool name"):
        make_tool(google, name=name)


def test_lambda_needs_a_name() -> None:
    with pytest.raises(ConfigurationError, match="pass name="):
        make_tool(lambda x: x)
    assert make_tool(lambda x: x, name="identity").name == "identity"


def test_invalid_timeout_and_non_callables_are_rejected() -> None:
    with pytest.raises(ConfigurationError, match="timeout"):
        make_tool(google, timeout=0)
    with pytest.raises(TypeError, match="must be a function"):
        make_tool(42)  # type: ignore[arg-type]
