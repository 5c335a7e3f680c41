"""Close-match suggestions shared by every lookup by name."""

from __future__ import annotations

import pytest

from aether._names import close_matches, did_you_mean, listing


@pytest.mark.parametrize(
    ("name", "available", "expected"),
    [
        ("opnai", ["anthropic", "fake", "gemini", "openai"], ("openai",)),
        ("sqlit", ["memory", "redis", "rediss", "sqlite"], ("sqlite",)),
        ("ad", ["add", "mul", "get_current_time"], ("add",)),
        ("OpenAI", ["openai", "fake"], ("openai",)),  # case is ignored
        ("redi", ["memory", "redis", "rediss"], ("redis", "rediss")),
        ("claude", ["anthropic", "fake", "gemini", "openai"], ()),  # nothing alike
        ("x", [], ()),
    ],
)
def test_close_matches(name: str, available: list[str], expected: tuple[str, ...]) -> None:
    assert close_matches(name, available) == expected


def test_close_matches_keeps_the_limit_and_puts_the_closest_first() -> None:
    names = ["tool_a", "tool_b", "tool_c", "tool_d", "toolx"]
    assert close_matches("tool_", names, limit=2) == ("tool_a", "tool_b")
    assert close_matches("toolx", names)[0] == "toolx"


def test_did_you_mean_phrases() -> None:
    assert did_you_mean([]) == ""
    assert did_you_mean(["openai"]) == "Did you mean 'openai'? "
    assert did_you_mean(["a", "b", "c"]) == "Did you mean 'a', 'b' or 'c'? "


def test_listing() -> None:
    assert listing(["b", "a", "b"]) == "a, b"
    assert listing([]) == "none"
