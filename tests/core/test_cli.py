from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import aether
from aether.cli import _foreign_core, main
from aether.llm.contracts import LLMRequest, LLMResponse
from aether.registry import default_registry
from tests.support.plugins import EXITS_AT_IMPORT, good_provider_code, write_installed

AETHER_DIR = Path(aether.__file__).parent


def run_aether(*args: str, pythonpath: Path) -> subprocess.CompletedProcess[str]:
    """``aether ARGS`` in a new interpreter that also sees the distributions in ``pythonpath``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AETHER_", "LLM_"))}
    env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [sys.executable, "-m", "aether.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


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


def test_plugins_load_survives_a_plugin_calling_sys_exit(tmp_path: Path) -> None:
    write_installed(
        tmp_path,
        "aether-quitter",
        "1.0.0",
        {"aether.providers": {"quitter": "aether_quitter.plugin"}},
        {"aether_quitter.plugin": EXITS_AT_IMPORT},
    )
    # Listed after the quitter, so its line proves the command went on.
    write_installed(
        tmp_path,
        "aether-zz-echo",
        "1.0.0",
        {"aether.providers": {"zzecho": "aether_zz_echo.plugin"}},
        {"aether_zz_echo.plugin": good_provider_code("zzecho")},
    )
    done = run_aether("plugins", "--load", pythonpath=tmp_path)
    assert done.returncode == 1, done.stderr  # the documented "a plugin failed" status
    assert "aether-quitter 1.0.0: failed\n" in done.stdout
    assert "  error: SystemExit: it called sys.exit(3) while loading\n" in done.stdout
    assert "sys.exit(3)" in done.stdout.split("error: SystemExit")[1]  # its traceback
    assert "aether-zz-echo 1.0.0: loaded\n  aether.providers: zzecho" in done.stdout

    done = run_aether("plugins", "--load", "--json", pythonpath=tmp_path)
    listed = {item["distribution"]: item for item in json.loads(done.stdout)}
    assert (done.returncode, listed["aether-quitter"]["status"]) == (1, "failed")
    assert listed["aether-zz-echo"]["registered"] == {"provider": ["zzecho"]}


CORE_ENTRY_POINTS = (
    importlib.metadata.distribution("aether-core").read_text("entry_points.txt") or ""
)


def fake_core(site: Path, entry_points: str, files: list[str] | None = None) -> Path:
    """An installed-looking ``aether-core`` distribution: metadata only, in ``site``."""
    info = site / "aether_core-9.9.9.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: aether-core\nVersion: 9.9.9\n")
    (info / "entry_points.txt").write_text(entry_points)
    if files is not None:
        (info / "RECORD").write_text("".join(f"{name},,\n" for name in files))
    return site


def foreign_core(site: Path) -> str | None:
    return _foreign_core(importlib.metadata.distributions(path=[str(site)]), AETHER_DIR)


def test_this_installation_has_our_core() -> None:
    assert _foreign_core() is None


def test_a_core_declaring_our_entry_points_is_ours(tmp_path: Path) -> None:
    assert foreign_core(fake_core(tmp_path, CORE_ENTRY_POINTS)) is None


@pytest.mark.parametrize(
    "entry_points",
    [
        "[console_scripts]\naether = aether.cli:main\n",  # the unrelated project's command
        "[aether.providers]\nother = aether.not_a_module_of_ours\n",
        "[aether.providers]\nother = other_package.plugin\n",
    ],
)
def test_a_core_without_our_entry_points_is_foreign(tmp_path: Path, entry_points: str) -> None:
    message = foreign_core(fake_core(tmp_path, entry_points))
    assert message is not None
    assert message.startswith(
        "the installed distribution named aether-core (9.9.9) is not Aether's core: it "
        "declares none of Aether's entry points"
    )
    assert "belongs to an unrelated project" in message
    assert "pip uninstall aether-core, then install Aether's core from its repository" in message
    assert "pip install ./packages/aether-core" in message


def test_a_core_owning_another_aether_package_is_foreign(tmp_path: Path) -> None:
    site = fake_core(tmp_path, CORE_ENTRY_POINTS, ["aether/__init__.py", "aether/cli.py"])
    message = foreign_core(site)
    assert message is not None
    assert f"its aether package is at {tmp_path / 'aether'}" in message
    assert f"the one running is at {AETHER_DIR.resolve()}" in message


def test_a_core_owning_this_aether_package_is_ours(tmp_path: Path) -> None:
    # A regular (not editable) install lists the package's files; here they are this
    # package's, reached through a link as a lib64 -> lib site would be.
    (tmp_path / "aether").symlink_to(AETHER_DIR, target_is_directory=True)
    assert foreign_core(fake_core(tmp_path, CORE_ENTRY_POINTS, ["aether/__init__.py"])) is None


def test_no_core_distribution_at_all(tmp_path: Path) -> None:
    message = foreign_core(tmp_path)
    assert message is not None
    assert message.startswith("no distribution named aether-core is installed")
    assert "pip install ./packages/aether-core" in message


def test_plugins_command_reports_a_foreign_core(tmp_path: Path) -> None:
    # First on the path, as a `pip install aether-core` from the package index would be.
    fake_core(tmp_path, "[console_scripts]\naether = aether.cli:main\n")
    done = run_aether("plugins", pythonpath=tmp_path)
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith(
        "aether: warning: the installed distribution named aether-core (9.9.9) is not Aether's core"
    )
    assert "pip install ./packages/aether-core" in line
    done = run_aether("plugins", "--json", pythonpath=tmp_path)
    assert done.returncode == 1
    assert isinstance(json.loads(done.stdout), list)  # stdout stays machine-readable
    assert "not Aether's core" in done.stderr
