from __future__ import annotations

import json

import pytest

from aether.cli import main
from aether.llm.contracts import LLMRequest, LLMResponse
from aether.registry import default_registry


def test_ask_with_fake_streams(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LLM_PROVIDER", "fake")
    assert main(["ask", "Hello there"]) == 0
    assert capsys.readouterr().out == "You said: Hello there\n"


def test_ask_provider_flag_and_no_stream(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LLM_PROVIDER", "nosuch")
    assert main(["ask", "x", "--provider", "fake", "--no-stream"]) == 0
    assert capsys.readouterr().out == "You said: x\n"


class ModelEcho:
    """Answers with the model its request named, to see which model the CLI chose."""

    def __init__(self, api_key: str | None = None, default_model: str = "echo-default") -> None:
        self.default_model = default_model

    async def complete(self, request: LLMRequest) -> LLMResponse:
        return LLMResponse(text=f"model={request.model}", model=request.model or "")


@pytest.mark.parametrize("stream", [True, False])
def test_ask_model_flag_selects_the_model(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], stream: bool
) -> None:
    monkeypatch.setenv("MODELECHO_MODEL", "from-env")
    extra = [] if stream else ["--no-stream"]
    with default_registry.isolated():
        default_registry.add(
            "provider", "modelecho", ModelEcho, metadata={"model_env": "MODELECHO_MODEL"}
        )
        assert main(["ask", "x", "--provider", "modelecho", *extra]) == 0
        assert capsys.readouterr().out == "model=from-env\n"
        assert main(["ask", "x", "--provider", "modelecho", "--model", "m-2", *extra]) == 0
        assert capsys.readouterr().out == "model=m-2\n"  # the flag beats the env variable


def test_unknown_provider_is_a_clean_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LLM_PROVIDER", "nosuch")
    assert main(["ask", "x"]) == 1
    err = capsys.readouterr().err
    assert "Unknown LLM provider 'nosuch'" in err and "Traceback" not in err


def test_plugins_json_lists_core(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins", "--json"]) == 0
    listed = {item["distribution"]: item for item in json.loads(capsys.readouterr().out)}
    core = listed["aether-core"]
    assert core["builtin"] is True
    names = {(ep["group"], ep["name"]) for ep in core["entry_points"]}
    assert ("aether.providers", "fake") in names
    assert ("aether.session_stores", "memory") in names


def test_plugins_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins"]) == 0
    assert "aether-core 0.1.0 (built-in)" in capsys.readouterr().out
