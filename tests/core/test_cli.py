from __future__ import annotations

import importlib.metadata
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import aether
from aether.cli import main
from aether.cli._chat import read_message
from aether.cli._plugins import foreign_core as _foreign_core
from aether.extensions.llm.fake import FakeProvider, Fault
from aether.llm.contracts import LLMRequest, LLMResponse, Message
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


@pytest.fixture(autouse=True)
def no_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty, non-interactive standard input, as a script or CI job has."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))


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


class ListlessStore:
    """A third-party store with only the four SessionStore methods."""

    def __init__(self) -> None:
        self.saved: dict[str, list[Message]] = {}

    async def load(self, session_id: str) -> list[Message]:
        return list(self.saved.get(session_id, []))

    async def save(self, session_id: str, messages: list[Message]) -> None:
        self.saved[session_id] = list(messages)

    async def delete(self, session_id: str) -> None:
        self.saved.pop(session_id, None)

    async def exists(self, session_id: str) -> bool:
        return bool(self.saved.get(session_id))


def test_logs_of_a_store_that_cannot_list(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AETHER_SESSION_STORE", "listless")
    with default_registry.isolated():
        default_registry.add("session_store", "listless", ListlessStore)
        assert main(["logs"]) == 1
        err = capsys.readouterr().err
        assert "ListlessStore" in err and "cannot list its sessions" in err
        assert "aether logs NAME" in err
        assert main(["logs", "anything"]) == 1  # showing one still works: it is just absent
        assert "no session named 'anything'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["one line"], "one line"),
        (["first \\", "second\\", "third"], "first \nsecond\nthird"),
        (['"""', "a", "", "b", '"""'], "a\n\nb"),
        (['"""starts here', 'ends here"""'], "starts here\nends here"),
        (['"""all in one"""'], "all in one"),
        (['"""', "never closed"], "never closed"),  # the input ended: what was typed is sent
    ],
)
def test_chat_reads_multi_line_messages(lines: list[str], message: str) -> None:
    pending = list(lines)
    prompts: list[str] = []

    def read(prompt: str) -> str:
        prompts.append(prompt)
        if not pending:
            raise EOFError
        return pending.pop(0)

    assert read_message(read) == message
    assert prompts[0] == "> " and set(prompts[1:]) <= {"... "}


def test_chat_with_piped_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("LLM_PROVIDER", "fake")
    monkeypatch.setenv("AETHER_SESSION_STORE", "memory")
    typed = "hi\n/model other-model\n/model\n/usage\n/help\n/nope\nagain\n/exit\nnot read\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(typed))
    assert main(["chat", "--session", "s", "--tool", "get_current_time"]) == 0
    shown = capsys.readouterr()
    out = shown.out
    assert out.startswith("Chatting with fake-model (fake). Session s (new; resume it with ")
    assert "kept in InMemorySessionStore(sessions=0) (from AETHER_SESSION_STORE)" in out
    assert "> You said: hi\n" in out
    assert "> Model: other-model\n> Model: other-model\n" in out
    assert "> 2 requests, " not in out  # /usage came before the second answer
    assert "> 1 requests, 1 input and 3 output tokens, $0.000000 (no price known for " in out
    assert "/reset          forget this session's history" in out
    assert "Unknown command /nope; the commands are:" in out
    assert "> You said: again\n" in out
    assert "not read" not in out  # /exit ended the chat
    assert shown.err == ""


def test_chat_shows_the_tools_it_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from aether.llm.contracts import ToolCall

    monkeypatch.setenv("AETHER_SESSION_STORE", "memory")
    monkeypatch.setattr(sys, "stdin", io.StringIO("what time is it?\n"))
    scripted = LLMResponse(tool_calls=[ToolCall(id="c1", name="get_current_time", arguments={})])

    class Scripted(FakeProvider):
        def __init__(self, **_: object) -> None:
            super().__init__(responses=[scripted, "It is noon."])

    with default_registry.isolated():
        default_registry.add("provider", "scripted", Scripted)
        code = main(["chat", "--provider", "scripted", "--tool", "get_current_time", "--plain"])
    assert code == 0
    shown = capsys.readouterr()
    assert "> It is noon.\n" in shown.out
    assert shown.err == "[tool get_current_time]\n"


def test_a_failed_answer_keeps_the_chat(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from aether.errors import ServerError

    monkeypatch.setenv("AETHER_SESSION_STORE", "memory")
    monkeypatch.setattr(sys, "stdin", io.StringIO("one\ntwo\n/history\n"))

    class Failing(FakeProvider):
        def __init__(self, **_: object) -> None:
            broken = Fault(ServerError("upstream broke"), after_chunks=1, response="a b")
            super().__init__(responses=[broken, "fine"])

    with default_registry.isolated():
        default_registry.add("provider", "failing", Failing)
        assert main(["chat", "--provider", "failing"]) == 0
    shown = capsys.readouterr()
    assert "> a \n> fine\n" in shown.out  # the partial answer's line ended before the next
    assert shown.err.startswith("aether: error: The stream broke after 1 chunk(s)")
    assert "user: two\nassistant: fine\n" in shown.out
    assert "user: one" not in shown.out  # the failed turn was not kept


INVOICES = """
from pydantic import BaseModel

class Invoice(BaseModel):
    item: str
    total: float
"""


def test_ask_for_a_typed_answer(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "cli_invoices_mod.py").write_text(INVOICES)
    monkeypatch.chdir(tmp_path)  # found in the current directory, as `python -m` would
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    answer = {"item": "pens", "total": 7.5}

    class Scripted(FakeProvider):
        def __init__(self, **_: object) -> None:
            super().__init__(responses=[answer, answer])

    with default_registry.isolated():
        default_registry.add("provider", "scripted", Scripted)
        spec = ["--provider", "scripted", "--output-type", "cli_invoices_mod:Invoice"]
        assert main(["ask", "3 pens at 2.50", *spec]) == 0
        assert json.loads(capsys.readouterr().out) == answer
        assert main(["ask", "3 pens at 2.50", *spec, "--json"]) == 0
        shown = json.loads(capsys.readouterr().out)
    assert shown["output"] == answer and json.loads(shown["text"]) == answer
    assert shown["finish_reason"] == "stop"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no_colon", "--output-type takes MODULE:NAME"),
        ("no_such_module_anywhere:X", "cannot import 'no_such_module_anywhere'"),
        ("json:NoSuchName", "'json' has no 'NoSuchName'"),
    ],
)
def test_a_bad_output_type_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], spec: str, message: str
) -> None:
    monkeypatch.setenv("LLM_PROVIDER", "fake")
    monkeypatch.setattr(sys, "path", list(sys.path))
    assert main(["ask", "x", "--output-type", spec]) == 2
    assert message in capsys.readouterr().err


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_chat_uses_prompt_toolkit_at_a_terminal_when_installed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import types

    from aether.cli._chat import line_reader

    made: list[str] = []

    class PromptSession:
        def __init__(self, history: FileHistory) -> None:
            made.append(history.path)

        def prompt(self, text: str) -> str:
            return f"typed at {text!r}"

    class FileHistory:
        def __init__(self, path: str) -> None:
            self.path = path

    toolkit = types.ModuleType("prompt_toolkit")
    toolkit.PromptSession = PromptSession  # type: ignore[attr-defined]
    history = types.ModuleType("prompt_toolkit.history")
    history.FileHistory = FileHistory  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "prompt_toolkit", toolkit)
    monkeypatch.setitem(sys.modules, "prompt_toolkit.history", history)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    terminal, screen = FakeTerminal(), FakeTerminal()
    monkeypatch.setattr(sys, "stdin", terminal)
    monkeypatch.setattr(sys, "stdout", screen)

    assert line_reader(terminal, screen, plain=False)("> ") == "typed at '> '"
    assert made == [str(tmp_path / "aether" / "chat_history")]
    assert line_reader(terminal, screen, plain=True) is input  # --plain: input() and readline
    monkeypatch.setitem(sys.modules, "prompt_toolkit", None)  # not installed
    assert line_reader(terminal, screen, plain=False) is input
    piped = io.StringIO("a line\n")
    read = line_reader(piped, screen, plain=False)  # not a terminal: plain lines
    assert read("> ") == "a line"
    with pytest.raises(EOFError):
        read("> ")


def test_without_a_durable_store_chat_says_it_keeps_memory_only(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import aether.memory.factory as factory
    from aether.errors import PluginNotFoundError

    real = factory.create_session_store

    def without_sqlite(spec: str | None = None, **options: object) -> object:
        if spec and spec.startswith("sqlite"):  # as when aether-memory-sqlite is not installed
            raise PluginNotFoundError("session_store", "sqlite", ["memory"])
        return real(spec)

    monkeypatch.setattr(factory, "create_session_store", without_sqlite)
    monkeypatch.setenv("LLM_PROVIDER", "fake")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.delenv("AETHER_SESSION_STORE", raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO("hi\n"))
    assert main(["chat"]) == 0
    out = capsys.readouterr().out
    assert "kept in memory only: gone when this command exits (pip install " in out
    assert "aether-memory-sqlite to keep sessions in " in out
    assert "> You said: hi\n" in out
    assert main(["logs"]) == 0
    assert "No sessions are stored yet" in capsys.readouterr().err
