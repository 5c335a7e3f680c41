"""Tools to Chat Completions: strict tools and their schema rules, and allowed_tools."""

from __future__ import annotations

import json
from typing import Any

import pytest

from aether.errors import BadRequestError, ConfigurationError
from aether.llm import strict_json_schema
from aether.llm.contracts import LLMRequest, Message, ToolSpec
from aether.tools import make_tool
from aether_openai import _tools
from aether_openai._request import build_payload
from aether_openai._tools import strict_issues, tool_to_wire
from tests.openai._wire import request_problems
from tests.support.conformance import load, record_files

CITY = {
    "type": "object",
    "properties": {"city": {"type": "string", "description": "A city name."}},
    "required": ["city"],
    "additionalProperties": False,
}
# A real strict schema OpenAI accepted (tests/recorded/openai/001.json): $defs, $ref, arrays.
ANSWERS = {
    "$defs": {
        "Answer": {
            "additionalProperties": False,
            "properties": {"answer": {"type": "string"}, "label": {"type": "string"}},
            "required": ["label", "answer"],
            "type": "object",
        }
    },
    "additionalProperties": False,
    "properties": {"answers": {"items": {"$ref": "#/$defs/Answer"}, "type": "array"}},
    "required": ["answers"],
    "type": "object",
}
NULLABLE = {
    "type": "object",
    "properties": {
        "when": {"type": ["string", "null"], "format": "date"},
        "kind": {"anyOf": [{"type": "string", "enum": ["a", "b"]}, {"type": "integer"}]},
    },
    "required": ["when", "kind"],
    "additionalProperties": False,
}


@pytest.mark.parametrize("schema", [CITY, ANSWERS, NULLABLE])
def test_a_strict_tool_is_sent_strict(schema: dict[str, Any]) -> None:
    spec = ToolSpec(name="t", description="d", parameters=schema, strict=True)
    assert tool_to_wire(spec) == {
        "type": "function",
        "function": {"name": "t", "description": "d", "parameters": schema, "strict": True},
    }
    assert "strict" not in tool_to_wire(ToolSpec(name="t", parameters=schema))["function"]


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        (
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
            "'additionalProperties' at /: every object needs additionalProperties: false",
        ),
        (
            {**CITY, "properties": {"city": {"type": "string"}, "n": {"type": "integer"}}},
            "'required' at /: every property must be required, and 'n' is not",
        ),
        (
            {
                **CITY,
                "properties": {"city": {"type": "object", "properties": {}}},
            },
            "'additionalProperties' at /properties/city",
        ),
        (
            {**CITY, "properties": {"city": {"type": "string", "minLength": 2}}},
            "'minLength' at /properties/city: strict mode does not take this keyword",
        ),
        (
            {**CITY, "properties": {"city": {"type": "string", "default": "Oslo"}}},
            "'default' at /properties/city",
        ),
        (
            {**CITY, "properties": {"city": {"type": "string", "format": "uri"}}},
            "'format' at /properties/city: strict mode takes only date, date-time",
        ),
        (
            {**CITY, "properties": {"city": {"oneOf": [{"type": "string"}]}}},
            "'oneOf' at /properties/city",
        ),
        (
            {
                **ANSWERS,
                "properties": {"answers": {"$ref": "#/$defs/Answer", "description": "x"}},
            },
            "'$ref' at /properties/answers: strict mode takes no keyword beside $ref",
        ),
        (
            {"anyOf": [CITY, ANSWERS]},
            "'type' at /: the root must be an object (not anyOf,",
        ),
    ],
)
def test_a_strict_schema_breaking_a_rule_is_refused(schema: dict[str, Any], expected: str) -> None:
    spec = ToolSpec(name="lookup", parameters=schema, strict=True)
    with pytest.raises(ConfigurationError) as info:
        tool_to_wire(spec)
    message = str(info.value)
    assert "Tool 'lookup' is strict" in message and expected in message
    assert "strict=False" in message
    # Sent without strict, the same schema is the model's to follow as it can.
    assert tool_to_wire(spec.model_copy(update={"strict": False}))["function"]["parameters"] == (
        schema
    )


def test_every_broken_rule_is_named_at_once() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string", "maxLength": 3}}}
    assert [(i.path, i.keyword) for i in strict_issues(schema)] == [
        ("/properties/a", "maxLength"),
        ("", "additionalProperties"),
        ("", "required"),
    ]


def test_a_function_with_an_optional_parameter_cannot_be_strict() -> None:
    def forecast(city: str, days: int = 3) -> str:
        return city * days

    spec = make_tool(forecast).spec.model_copy(update={"strict": True})
    with pytest.raises(ConfigurationError) as info:
        tool_to_wire(spec)
    assert "'days' is not" in str(info.value) and "'default' at /properties/days" in str(info.value)


def test_a_strict_schema_is_checked_once_and_a_broken_one_every_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checks: list[dict[str, Any]] = []
    real = _tools.strict_issues

    def counting(parameters: dict[str, Any]) -> Any:
        checks.append(parameters)
        return real(parameters)

    monkeypatch.setattr(_tools, "strict_issues", counting)
    good = ToolSpec(name="good_once", parameters=CITY, strict=True)
    for _ in range(3):
        tool_to_wire(good)
    assert len(checks) == 1
    bad = ToolSpec(name="bad_always", parameters={"type": "object"}, strict=True)
    for _ in range(2):
        with pytest.raises(ConfigurationError):
            tool_to_wire(bad)
    assert len(checks) == 3


TOOLS = [
    ToolSpec(name="get_weather", parameters=CITY, strict=True),
    ToolSpec(name="final_result", parameters=ANSWERS, strict=True),
    ToolSpec(name="search"),
]


def payload(**fields: Any) -> dict[str, Any]:
    request = LLMRequest(messages=[Message(role="user", content="go")], tools=TOOLS, **fields)
    body = build_payload(request, model="gpt-5-mini", stream=False)
    assert request_problems(body) == []
    return body


def allowed(mode: str, *names: str) -> dict[str, Any]:
    return {
        "type": "allowed_tools",
        "allowed_tools": {
            "mode": mode,
            "tools": [{"type": "function", "function": {"name": n}} for n in names],
        },
    }


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (None, allowed("auto", "get_weather", "search")),
        ("auto", allowed("auto", "get_weather", "search")),
        ("required", allowed("required", "get_weather", "search")),
        ("none", "none"),
        ("search", {"type": "function", "function": {"name": "search"}}),
    ],
)
def test_allowed_tools_is_the_allowed_tools_choice(choice: Any, expected: Any) -> None:
    body = payload(allowed_tools=["get_weather", "search"], tool_choice=choice)
    assert body["tool_choice"] == expected
    assert [t["function"]["name"] for t in body["tools"]] == [t.name for t in TOOLS]


def test_allowing_no_tool_is_none() -> None:
    assert payload(allowed_tools=[])["tool_choice"] == "none"


def test_without_allowed_tools_the_choice_is_as_given() -> None:
    assert "tool_choice" not in payload()
    assert payload(tool_choice="required")["tool_choice"] == "required"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"allowed_tools": ["get_wether"]}, "allowed_tools names ['get_wether']"),
        (
            {"allowed_tools": ["search"], "tool_choice": "get_weather"},
            "tool_choice names 'get_weather', which allowed_tools does not allow",
        ),
        ({"allowed_tools": [], "tool_choice": "required"}, "allows none"),
    ],
)
def test_allowed_tools_that_cannot_be_honoured_are_refused(
    fields: dict[str, Any], expected: str
) -> None:
    with pytest.raises(BadRequestError, match="the tools offered are") as info:
        payload(**fields)
    assert expected in str(info.value)
    assert info.value.provider == "openai"


def _recorded_strict_schemas() -> list[tuple[str, dict[str, Any]]]:
    found: dict[str, dict[str, Any]] = {}
    for path in record_files("openai"):
        for tool in load(path)["request"]["json"].get("tools") or ():
            function = tool["function"]
            if function.get("strict"):
                found.setdefault(json.dumps(function["parameters"]), function["parameters"])
    return [(str(i), schema) for i, schema in enumerate(found.values())]


RECORDED_STRICT = _recorded_strict_schemas()


@pytest.mark.parametrize(
    "schema", [s for _, s in RECORDED_STRICT], ids=[i for i, _ in RECORDED_STRICT]
)
def test_a_schema_the_api_took_as_strict_passes_and_is_left_as_it_is(
    schema: dict[str, Any],
) -> None:
    # The check and the transform agree on what the API accepted (recorded real traffic).
    assert strict_issues(schema) == []
    assert strict_json_schema(schema) == schema


def test_the_check_accepts_what_the_transform_makes() -> None:
    def book(title: str, nights: int = 1, notes: str | None = None, tags: list[str] = []) -> str:  # noqa: B006
        return title

    parameters = make_tool(book).spec.parameters
    assert strict_issues(parameters)  # as generated, it breaks the rules
    strict = strict_json_schema(parameters)
    spec = ToolSpec(name="book", parameters=strict, strict=True)
    assert tool_to_wire(spec)["function"]["parameters"] == strict
    assert strict["required"] == ["title", "nights", "notes", "tags"]
