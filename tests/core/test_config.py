from __future__ import annotations

import pytest

from aether import config
from aether.config import AetherConfigWarning
from aether.errors import ConfigurationError


def test_env_read_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AETHER_DEFAULT_TEMPERATURE", raising=False)
    assert config.default_temperature() == 0.7
    monkeypatch.setenv("AETHER_DEFAULT_TEMPERATURE", "0.2")
    assert config.default_temperature() == 0.2
    assert config.default_temperature(1.1) == 1.1  # kwarg beats env


@pytest.mark.parametrize("bad", ["hot", "nan", "inf", "-1", "9"])
def test_invalid_value_warns_with_name_and_value(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("AETHER_DEFAULT_TEMPERATURE", bad)
    with pytest.warns(AetherConfigWarning) as caught:
        assert config.default_temperature() == 0.7
    message = str(caught[0].message)
    assert "AETHER_DEFAULT_TEMPERATURE" in message and repr(bad) in message


def test_strict_mode_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AETHER_STRICT", "1")
    monkeypatch.setenv("AETHER_MAX_TOOL_ITERATIONS", "zero")
    with pytest.raises(ConfigurationError, match="AETHER_MAX_TOOL_ITERATIONS"):
        config.max_tool_iterations()


def test_max_tool_iterations_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AETHER_MAX_TOOL_ITERATIONS", raising=False)
    assert config.max_tool_iterations() == 10
    monkeypatch.setenv("AETHER_MAX_TOOL_ITERATIONS", "3")
    assert config.max_tool_iterations() == 3
    assert config.max_tool_iterations(5) == 5
    with pytest.raises(ConfigurationError):
        config.max_tool_iterations(0)
    monkeypatch.setenv("AETHER_MAX_TOOL_ITERATIONS", "0")
    with pytest.warns(AetherConfigWarning):
        assert config.max_tool_iterations() == 10


def test_env_bool_and_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_FLAG", "Yes")
    assert config.env_bool("X_FLAG") is True
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.warns(AetherConfigWarning, match="X_FLAG"):
        assert config.env_bool("X_FLAG", True) is True
    monkeypatch.setenv("X_LIST", " a, ,b ,")
    assert config.env_list("X_LIST") == ("a", "b")


def test_provider_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLM_PROVIDER", raising=False)
    assert config.provider_name() == "openai"
    monkeypatch.setenv("LLM_PROVIDER", " Fake ")
    assert config.provider_name() == "fake"
    assert config.provider_name("gemini") == "gemini"
