"""``aether chat`` at a terminal (a pseudo-terminal), against a server on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

from tests.core._cli import WAIT, ChatServer, Terminal, aether_command, cli_env


def test_a_conversation_with_reset_history_ctrl_c_and_ctrl_d(tmp_path: Path) -> None:
    with ChatServer() as server:
        env = server.env(tmp_path)
        chat = Terminal(aether_command("chat", "--session", "t", "--plain"), env)
        try:
            banner = chat.expect("Ctrl-D exits.")
            assert "Session t (new; resume it with --session t)" in banner
            store = tmp_path / "data" / "aether" / "sessions.db"
            assert f"kept in SQLite file {store}" in banner
            chat.expect("> ")

            chat.type("hello\n")
            chat.expect("heard 1: hello")
            chat.type("/history\n")
            chat.expect("user: hello")
            chat.expect("assistant: heard 1: hello")

            # Ctrl-C while the server holds the rest of an answer: that answer stops, its
            # connection is closed, and the chat goes on without it.
            chat.type("slow one\n")
            chat.expect("heard ")
            chat.ctrl_c()
            chat.expect("[answer stopped; it is not kept in the conversation]")
            assert server.hung_up.wait(WAIT)
            chat.expect("> ")
            chat.type("after\n")
            chat.expect("heard 3: after")  # hello, its answer, after: the stopped turn is gone

            chat.type("/reset\n")
            chat.expect("History cleared.")
            chat.type("/history\n")
            chat.expect("No messages yet.")
            chat.type("fresh\n")
            chat.expect("heard 1: fresh")

            chat.expect("> ")
            chat.type("\x04")  # Ctrl-D at an empty prompt
            assert chat.close() == 0
        finally:
            chat.close()


def test_a_chat_resumes_where_it_left_off(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    first = Terminal(aether_command("chat", "--session", "r", "--plain"), env)
    try:
        first.expect("> ")
        first.type("remember me\n")
        first.expect("You said: remember me")
        first.type("/exit\n")
        assert first.close() == 0
    finally:
        first.close()
    again = Terminal(aether_command("chat", "--session", "r", "--plain"), env)
    try:
        assert "Session r (2 messages so far)" in again.expect("Ctrl-D exits.")
        again.type("/history\n")
        again.expect("user: remember me")
        again.expect("> ")  # Ctrl-D counts at the prompt, not before it
        again.type("\x04")
        assert again.close() == 0
    finally:
        again.close()
