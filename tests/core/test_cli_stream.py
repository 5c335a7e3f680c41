"""``aether ask`` against an OpenAI-compatible server on 127.0.0.1, watched as it streams."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from tests.core._cli import WAIT, ChatServer, aether_command, read_until, run_cli


def test_the_answer_shows_while_the_server_still_holds_the_rest(tmp_path: Path) -> None:
    with ChatServer() as server:
        process = subprocess.Popen(
            aether_command("ask", "slow", "answer"),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=server.env(tmp_path),
        )
        assert process.stdout is not None
        shown = read_until(process.stdout.fileno(), b"heard ")
        # The server has sent one word and is holding the rest: the command is still waiting
        # for it, yet the first word is already on the screen.
        assert shown == b"heard "
        assert process.poll() is None
        server.release.set()
        rest, err = process.communicate(timeout=WAIT)
    assert process.returncode == 0, err
    assert shown + rest == b"heard 1: slow answer\n"


def test_a_session_resumes_in_another_process(tmp_path: Path) -> None:
    store = f"sqlite://{tmp_path / 'sessions.db'}"
    with ChatServer() as server:
        env = server.env(tmp_path, AETHER_SESSION_STORE=store)
        first = run_cli("ask", "My name is Ada.", "--session", "ada", env=env)
        assert (first.returncode, first.stdout) == (0, "heard 1: My name is Ada.\n"), first.stderr
        second = run_cli("ask", "Who am I?", "--session", "ada", "--system", "Be kind.", env=env)
        assert (second.returncode, second.stdout) == (0, "heard 4: Who am I?\n"), second.stderr
        sent = [(m["role"], m["content"]) for m in server.bodies[-1]["messages"]]
    assert sent == [
        ("system", "Be kind."),  # given again: the system prompt is not stored
        ("user", "My name is Ada."),
        ("assistant", "heard 1: My name is Ada."),
        ("user", "Who am I?"),
    ]


def test_an_error_after_partial_output_starts_on_a_new_line(tmp_path: Path) -> None:
    with ChatServer() as server:
        done = run_cli("ask", "break", "please", env=server.env(tmp_path))
    assert done.returncode == 1
    assert done.stdout == "heard \n"
    assert done.stderr.startswith("aether: error: ")


def test_ctrl_c_exits_130_and_closes_the_connection(tmp_path: Path) -> None:
    with ChatServer() as server:
        process = subprocess.Popen(
            aether_command("ask", "slow", "answer"),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=server.env(tmp_path),
        )
        assert process.stdout is not None
        read_until(process.stdout.fileno(), b"heard ")
        process.send_signal(signal.SIGINT)
        rest, err = process.communicate(timeout=WAIT)
        assert server.hung_up.wait(WAIT)  # the stream was closed, not left to time out
    assert process.returncode == 130
    assert rest == b"\n"  # the shell's prompt comes back on a line of its own
    assert b"Traceback" not in err
