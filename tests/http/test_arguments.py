"""Tool-call arguments: JSON objects parsed, anything else kept verbatim."""

from __future__ import annotations

import pytest

from aether.http import RAW_ARGUMENTS_KEY, dump_tool_arguments, parse_tool_arguments


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"city": "Paris"}', {"city": "Paris"}),
        ("", {}),
        ("  ", {}),
        (None, {}),
        ('{"a": ', {RAW_ARGUMENTS_KEY: '{"a": '}),
        ("[1, 2]", {RAW_ARGUMENTS_KEY: "[1, 2]"}),
        ('"Paris"', {RAW_ARGUMENTS_KEY: '"Paris"'}),
    ],
)
def test_parse(raw: str | None, expected: dict[str, object]) -> None:
    assert parse_tool_arguments(raw) == expected


def test_round_trip() -> None:
    assert dump_tool_arguments({"city": "Zürich"}) == '{"city":"Zürich"}'
    assert dump_tool_arguments(parse_tool_arguments("[1, 2")) == "[1, 2"
    assert dump_tool_arguments({RAW_ARGUMENTS_KEY: 1}) == '{"__raw_arguments__":1}'
    assert dump_tool_arguments({}) == "{}"
