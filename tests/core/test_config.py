from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

from aether import config
from aether.errors import ConfigurationError


@pytest.fixture(autouse=True)
def fresh_reports(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts as a new process would: no bad setting reported yet."""
    monkeypatch.setattr(config, "_reported", set())


def reports(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "aether.config"]


def test_env_read_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AETHER_DEFAULT_TEMPERATURE", raising=False)
    assert config.default_temperature() == 0.7
    monkeypatch.setenv("AETHER_DEFAULT_TEMPERATURE", "0.2")
    assert config.default_temperature() == 0.2
    assert config.default_temperature(1.1) == 1.1  # kwarg beats env


@pytest.mark.parametrize("bad", ["hot", "nan", "inf", "-1", "9"])
def test_invalid_value_is_logged_with_name_and_value(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, bad: str
) -> None:
    monkeypatch.setenv("AETHER_DEFAULT_TEMPERATURE", bad)
    assert config.default_temperature() == 0.7
    [message] = reports(caplog)
    assert message == (
        f"Environment variable AETHER_DEFAULT_TEMPERATURE={bad!r} is not a number between "
        f"0.0 and 2.0; using the default 0.7 instead. Fix or unset AETHER_DEFAULT_TEMPERATURE."
    )
    assert caplog.records[0].levelno == logging.WARNING


def test_each_bad_value_is_reported_once_per_process(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("AETHER_MAX_TOOL_ITERATIONS", "zero")
    for _ in range(3):
        assert config.max_tool_iterations() == 10
    assert len(reports(caplog)) == 1
    # A different bad value, or another variable, is news: it is reported too.
    monkeypatch.setenv("AETHER_MAX_TOOL_ITERATIONS", "-4")
    config.max_tool_iterations()
    config.max_tool_iterations()
    monkeypatch.setenv("AETHER_DEFAULT_TEMPERATURE", "hot")
    config.default_temperature()
    assert [m.split(" is ")[0] for m in reports(caplog)] == [
        "Environment variable AETHER_MAX_TOOL_ITERATIONS='zero'",
        "Environment variable AETHER_MAX_TOOL_ITERATIONS='-4'",
        "Environment variable AETHER_DEFAULT_TEMPERATURE='hot'",
    ]


def test_without_logging_configured_it_is_one_plain_line_on_stderr() -> None:
    script = (
        "from aether import config\n"
        "for _ in range(3):\n"
        "    assert config.max_tool_iterations() == 10\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AETHER_")}
    env["AETHER_MAX_TOOL_ITERATIONS"] = "zero"
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == (
        "Environment variable AETHER_MAX_TOOL_ITERATIONS='zero' is not an integer >= 1; using "
        "the default 10 instead. Fix or unset AETHER_MAX_TOOL_ITERATIONS.\n"
    )


def test_strict_mode_refuses_the_value(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("AETHER_STRICT", "1")
    monkeypatch.setenv("AETHER_MAX_TOOL_ITERATIONS", "zero")
    for _ in range(2):  # raised every time, not once
        with pytest.raises(ConfigurationError) as caught:
            config.max_tool_iterations()
        message = str(caught.value)
        assert "AETHER_MAX_TOOL_ITERATIONS='zero' is not an integer >= 1" in message
        assert "refused because AETHER_STRICT=1 is set" in message
        assert "using the default" not in message
    assert reports(caplog) == []


def test_report_invalid_masks_values_of_secret_looking_variables(
    caplog: pytest.LogCaptureFixture,
) -> None:
    config.report_invalid("ACME_API_KEY", "sk-live-123", "not a key", fallback="no key")
    [message] = reports(caplog)
    assert "sk-live-123" not in message and "ACME_API_KEY=**********" in message
    assert message.endswith("using no key instead. Fix or unset ACME_API_KEY.")


def test_max_tool_iterations_precedence(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("AETHER_MAX_TOOL_ITERATIONS", raising=False)
    assert config.max_tool_iterations() == 10
    monkeypatch.setenv("AETHER_MAX_TOOL_ITERATIONS", "3")
    assert config.max_tool_iterations() == 3
    assert config.max_tool_iterations(5) == 5
    with pytest.raises(ConfigurationError):
        config.max_tool_iterations(0)
    monkeypatch.setenv("AETHER_MAX_TOOL_ITERATIONS", "0")
    assert config.max_tool_iterations() == 10
    assert reports(caplog)


def test_env_bool_and_list(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("X_FLAG", "Yes")
    assert config.env_bool("X_FLAG") is True
    monkeypatch.setenv("X_FLAG", "maybe")
    assert config.env_bool("X_FLAG", True) is True
    [message] = reports(caplog)
    assert message.startswith("Environment variable X_FLAG='maybe' is not a boolean")
    monkeypatch.setenv("X_LIST", " a, ,b ,")
    assert config.env_list("X_LIST") == ("a", "b")


def test_provider_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLM_PROVIDER", raising=False)
    assert config.provider_name() == "openai"
    monkeypatch.setenv("LLM_PROVIDER", " Fake ")
    assert config.provider_name() == "fake"
    assert config.provider_name("gemini") == "gemini"


def test_warn_once_says_a_thing_once_per_logger_until_forgotten(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import logging

    from aether.config import forget_warnings, warn_once

    forget_warnings()
    one, other = logging.getLogger("aether.one"), logging.getLogger("aether.other")
    caplog.set_level("WARNING")
    for _ in range(3):
        warn_once(one, "cache-key", "no effect here")
    warn_once(other, "cache-key", "nor here")
    forget_warnings()
    warn_once(one, "cache-key", "no effect here")
    assert [(r.name, r.getMessage()) for r in caplog.records] == [
        ("aether.one", "no effect here"),
        ("aether.other", "nor here"),
        ("aether.one", "no effect here"),
    ]
