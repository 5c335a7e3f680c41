"""The helpers every provider's wire mapping shares (``aether.llm.mapping``)."""

from __future__ import annotations

from typing import Any, get_type_hints

import pytest

from aether.errors import BadRequestError
from aether.llm import LLMResponse, Usage, check_tool_choice, token_count
from aether.llm.contracts import LLMRequest, Message, ToolSpec, _Usage

ADD = ToolSpec(name="add")
SUB = ToolSpec(name="sub")


def request(tool_choice: str | None, tools: list[ToolSpec]) -> LLMRequest:
    return LLMRequest(
        messages=[Message(role="user", content="hi")], tools=tools, tool_choice=tool_choice
    )


# --- check_tool_choice ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("choice", "tools"),
    [
        (None, []),
        (None, [ADD]),
        ("auto", []),  # nothing to choose from: means what no tools means
        ("auto", [ADD]),
        ("none", []),
        ("none", [ADD]),
        ("required", [ADD]),
        ("add", [ADD]),
        ("sub", [ADD, SUB]),
    ],
)
def test_choices_that_can_be_honoured_pass(choice: str | None, tools: list[ToolSpec]) -> None:
    check_tool_choice(request(choice, tools), provider="acme")


@pytest.mark.parametrize("choice", ["required", "add"])
def test_a_choice_that_needs_tools_without_tools_is_rejected(choice: str) -> None:
    with pytest.raises(BadRequestError) as info:
        check_tool_choice(request(choice, []), provider="acme")
    error = info.value
    assert error.provider == "acme"
    assert error.status_code is None  # raised here, not by an API
    assert f"tool_choice={choice!r} needs tools, but the request has none" in error.message
    assert "pass tools=[...]" in error.message  # how to fix it


def test_a_named_tool_not_among_the_tools_is_rejected() -> None:
    with pytest.raises(BadRequestError) as info:
        check_tool_choice(request("mul", [ADD, SUB]), provider="acme")
    error = info.value
    assert error.provider == "acme"
    assert "tool_choice names 'mul', which is not among the request's tools" in error.message
    assert "('add', 'sub')" in error.message  # what it could have named
    assert "'auto', 'required' or 'none'" in error.message
    assert str(error).startswith("[acme] ")


def test_tool_names_are_matched_exactly() -> None:
    with pytest.raises(BadRequestError, match="not among"):
        check_tool_choice(request("Add", [ADD]), provider="acme")


# --- token_count and Usage -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0),
        (42, 42),
        (None, 0),
        ("42", 0),
        (4.0, 0),
        (True, 0),  # a bool is an int subclass, but no count
        (False, 0),
        ({"tokens": 3}, 0),
    ],
)
def test_token_count(value: Any, expected: int) -> None:
    assert token_count(value) == expected
    assert type(token_count(value)) is int


def test_usage_keys_are_the_contracts_usage_fields() -> None:
    # _Usage is the base that gives LLMResponse and LLMStreamChunk their usage fields.
    assert set(get_type_hints(Usage)) == set(_Usage.model_fields)
    # Every key optional: a provider leaves out what it does not report.
    assert Usage.__required_keys__ == frozenset()


def test_usage_passes_as_keywords() -> None:
    counts: Usage = {"input_tokens": 5, "cache_write_tokens": 2}
    response = LLMResponse(text="ok", **counts)
    assert (response.input_tokens, response.cache_write_tokens, response.output_tokens) == (5, 2, 0)
