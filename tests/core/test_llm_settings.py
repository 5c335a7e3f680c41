"""``aether.llm.settings``: the call-settings type, its checks and how layers merge."""

from __future__ import annotations

import pytest

from aether.errors import ConfigurationError
from aether.llm.settings import check_settings, deep_merge, merge_settings, stop_sequences


def test_a_string_is_one_stop_sequence() -> None:
    assert stop_sequences("\n\n") == ["\n\n"]
    assert stop_sequences(("a", "b")) == ["a", "b"]


@pytest.mark.parametrize("bad", [b"x", {"a": 1}, 3, ["ok", 4]])
def test_stop_of_another_type_is_a_clear_error(bad: object) -> None:
    with pytest.raises(ConfigurationError, match="stop"):
        stop_sequences(bad)  # type: ignore[arg-type]


def test_later_layers_win_and_nested_settings_merge() -> None:
    client = {
        "temperature": 0.2,
        "provider_options": {"a": {"x": 1}},
        "reasoning": {"effort": "low"},
    }
    call = {"temperature": 0.0, "provider_options": {"a": {"y": 2}}}
    merged = merge_settings(None, client, call)  # type: ignore[arg-type]
    assert merged == {
        "temperature": 0.0,
        "provider_options": {"a": {"x": 1, "y": 2}},
        "reasoning": {"effort": "low"},
    }
    assert client["provider_options"] == {"a": {"x": 1}}  # the layers are not changed


def test_deep_merge_replaces_what_is_not_a_dict() -> None:
    assert deep_merge({"a": [1], "b": {"c": 1}}, {"a": [2], "b": 3}) == {"a": [2], "b": 3}


def test_check_settings_normalises_stop_and_keeps_the_rest() -> None:
    checked = check_settings({"stop": "END", "seed": 7, "top_p": 0.5})
    assert checked == {"stop": ["END"], "seed": 7, "top_p": 0.5}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"temprature": 0.1}, "Unknown call setting.*'temprature'.*provider_options"),
        ({"temperature": "hot"}, "temperature must be a finite number"),
        ({"temperature": float("nan")}, "temperature must be a finite number"),
        ({"temperature": -1}, "temperature must be >= 0.0"),
        ({"top_p": 1.5}, "top_p must be between 0.0 and 1.0"),
        ({"presence_penalty": 3}, "presence_penalty must be between -2.0 and 2.0"),
        ({"max_tokens": 0}, "max_tokens must be >= 1"),
        ({"max_tokens": 1.5}, "max_tokens must be an integer"),
        ({"seed": True}, "seed must be an integer"),
        ({"timeout": 0}, "timeout must be > 0"),
        ({"reasoning": "high"}, "reasoning must be a dict"),
        ({"reasoning": {"effort": "max"}}, "effort must be one of minimal, low, medium, high"),
        ({"reasoning": {"budget": 10}}, "Unknown reasoning setting.*'budget'"),
        ({"reasoning": {"budget_tokens": -1}}, "budget_tokens must be an integer >= 0"),
        ({"provider_options": [1]}, "provider_options must be a dict"),
    ],
)
def test_check_settings_says_what_is_wrong(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        check_settings(settings)
