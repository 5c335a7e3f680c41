"""``aether`` in a fresh process with the fake provider: prompts, JSON, exit codes, logs."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.core._cli import cli_env, run_cli


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path)


def test_the_prompt_from_the_arguments(env: dict[str, str]) -> None:
    done = run_cli("ask", "several", "words", "join", env=env)
    assert (done.returncode, done.stdout, done.stderr) == (0, "You said: several words join\n", "")


def test_the_prompt_from_piped_stdin(env: dict[str, str]) -> None:
    done = run_cli("ask", env=env, stdin="from a pipe\n")
    assert (done.returncode, done.stdout) == (0, "You said: from a pipe\n")


def test_dash_reads_stdin(env: dict[str, str]) -> None:
    done = run_cli("ask", "-", env=env, stdin="only stdin")
    assert (done.returncode, done.stdout) == (0, "You said: only stdin\n")


def test_arguments_and_stdin_together_put_the_file_after_the_prompt(
    env: dict[str, str],
) -> None:
    done = run_cli("ask", "summarise this", env=env, stdin="line 1\nline 2\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "You said: summarise this\n\nline 1\nline 2\n"


def test_json_is_one_object(env: dict[str, str]) -> None:
    done = run_cli("ask", "hi", "--json", env=env)
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.splitlines()
    answer = json.loads(line)
    assert answer == {
        "text": "You said: hi",
        "model": "fake-model",
        "finish_reason": "stop",
        "usage": {
            "requests": 1,
            "input_tokens": 1,
            "output_tokens": 3,
            "cached_input_tokens": 0,
            "reasoning_tokens": 0,
        },
        "cost_usd": None,  # the fake model has no price: unknown, not zero
        "session": None,
    }
    whole = json.loads(run_cli("ask", "hi", "--json", "--no-stream", env=env).stdout)
    assert {key: whole[key] for key in ("text", "model", "finish_reason")} == {
        "text": "You said: hi",
        "model": "fake-model",
        "finish_reason": "stop",
    }


def test_system_prompt_and_settings_reach_the_provider(env: dict[str, str]) -> None:
    # The fake provider echoes the last user message; a bad value of a setting never gets
    # that far (below), so reaching it means the flags were accepted and sent.
    done = run_cli(
        "ask", "x", "--system", "Be terse.", "--temperature", "0", "--max-tokens", "5",
        "--top-p", "0.5", "--seed", "7", "--reasoning-effort", "low", "--timeout", "30",
        "-o", "user=alice", "-o", 'metadata={"a": 1}', env=env,
    )  # fmt: skip
    assert (done.returncode, done.stdout, done.stderr) == (0, "You said: x\n", "")


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["ask"], None, "no prompt: give one as arguments"),
        (["ask"], "   \n", "no prompt"),
        (["ask", "x", "--temperature", "-1"], None, "temperature must be >= 0"),
        (["ask", "x", "--top-p", "2"], None, "top_p must be"),
        (["ask", "x", "-o", "novalue"], None, "-o/--option takes KEY=VALUE"),
        (["ask", "x", "--tool", "no_such_tool"], None, "No tool named 'no_such_tool'"),
        (["ask", "x", "--temperature", "hot"], None, "invalid float value: 'hot'"),
        (["ask", "x", "--reasoning-effort", "max"], None, "invalid choice: 'max'"),
        (["ask", "x", "--session", " "], None, "a session name cannot be empty"),
        (["logs", "--limit", "-1"], None, "--limit must be 0 (all) or more"),
        (["frobnicate"], None, "invalid choice: 'frobnicate'"),
    ],
)
def test_usage_errors_exit_2(
    env: dict[str, str], args: list[str], stdin: str | None, message: str
) -> None:
    done = run_cli(*args, env=env, stdin=stdin)
    assert done.returncode == 2, done
    assert message in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""


def test_no_command_prints_help_and_exits_2(env: dict[str, str]) -> None:
    done = run_cli(env=env)
    assert done.returncode == 2 and "usage: aether" in done.stdout


def test_a_provider_that_cannot_be_built_exits_1(env: dict[str, str]) -> None:
    done = run_cli("ask", "x", env={**env, "LLM_PROVIDER": "nosuch"})
    assert done.returncode == 1
    assert done.stderr.startswith("aether: error: Unknown LLM provider 'nosuch'")


def test_help_lists_every_command_with_an_example_and_the_exit_codes(
    env: dict[str, str],
) -> None:
    done = run_cli("--help", env=env)
    assert done.returncode == 0
    for example in (
        'aether ask "Write a haiku about retries"',
        "aether chat --session work",
        "aether logs work",
        "aether plugins --load",
    ):
        assert example in done.stdout
    for status in ("0    ok", "1    the provider", "2    the command line is wrong", "130"):
        assert status in done.stdout
    assert str(Path(env["XDG_DATA_HOME"]) / "aether" / "sessions.db") in done.stdout
    for command in ("ask", "chat", "logs"):
        assert "examples:" in run_cli(command, "--help", env=env).stdout


def test_version_and_python_dash_m(env: dict[str, str]) -> None:
    done = run_cli("--version", env=env)
    assert (done.returncode, done.stdout) == (0, "aether-core 0.1.0\n")
    console = Path(sys.executable).with_name("aether")
    via_script = subprocess.run(
        [str(console), "--version"], capture_output=True, text=True, env=env, check=True
    )
    assert via_script.stdout == done.stdout


def test_sessions_persist_in_the_default_sqlite_file_and_logs_show_them(
    env: dict[str, str],
) -> None:
    path = Path(env["XDG_DATA_HOME"]) / "aether" / "sessions.db"
    nothing = run_cli("logs", env=env)
    assert nothing.returncode == 0 and "No sessions are stored yet" in nothing.stderr
    assert not path.exists()  # reading never creates the file

    assert run_cli("ask", "first", "--session", "notes", env=env).returncode == 0
    assert run_cli("ask", "second", "--session", "notes", env=env).returncode == 0
    assert run_cli("ask", "other", "--session", "later", env=env).returncode == 0
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM aether_messages").fetchone() == (6,)

    listing = run_cli("logs", env=env)
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.splitlines() == [
        f"Sessions in SQLite file {path}, most recent first:",
        "  later     2 messages  other",
        "  notes     4 messages  first",
    ]
    shown = run_cli("logs", "notes", env=env)
    assert shown.stdout.splitlines() == [
        "user: first",
        "assistant: You said: first",
        "user: second",
        "assistant: You said: second",
    ]
    as_json = json.loads(run_cli("logs", "notes", "--json", env=env).stdout)
    assert [m["role"] for m in as_json] == ["user", "assistant", "user", "assistant"]
    listed = json.loads(run_cli("logs", "--json", "-n", "1", env=env).stdout)
    assert listed == [{"session": "later", "messages": 2, "first": "other"}]
    missing = run_cli("logs", "nope", env=env)
    assert missing.returncode == 1 and "no session named 'nope'" in missing.stderr


def test_logs_reads_the_store_the_environment_names(tmp_path: Path, env: dict[str, str]) -> None:
    env = {**env, "AETHER_SESSION_STORE": f"sqlite://{tmp_path / 'elsewhere.db'}"}
    assert run_cli("ask", "hello", "--session", "s1", env=env).returncode == 0
    listing = run_cli("logs", env=env)
    assert "SQLiteSessionStore" in listing.stdout and "elsewhere.db" in listing.stdout
    assert "  s1     2 messages  hello" in listing.stdout
    assert not (Path(env["XDG_DATA_HOME"]) / "aether").exists()


def test_logs_says_when_a_store_cannot_list(env: dict[str, str]) -> None:
    # The memory store lists, but a fresh process holds nothing; a store without
    # list_sessions (none built in) is reported by name: see test_cli for that case.
    done = run_cli("logs", env={**env, "AETHER_SESSION_STORE": "memory"})
    assert done.returncode == 0 and done.stdout.startswith("No sessions in InMemorySessionStore")
