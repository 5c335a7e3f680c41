"""``aether chat``: a conversation at the terminal, kept in a session, answers streamed."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib
import secrets
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from aether.cli._common import (
    EXIT_OK,
    Echo,
    add_call_flags,
    build_client,
    call_settings,
    default_store_path,
    open_store,
    say_error,
    tool_names,
)
from aether.errors import AetherError

if TYPE_CHECKING:
    from aether.events import ToolStart
    from aether.sync import SyncAether, SyncSession

__all__ = ["add_parser", "line_reader", "read_message", "run"]

PROMPT = "> "
MORE = "... "
_FENCE = '"""'
_COMMANDS = """\
/exit           leave (Ctrl-D too)
/reset          forget this session's history
/history        show this session's history
/usage          tokens and cost so far
/model [NAME]   show or switch the model
/help           this list
A line ending in \\ continues on the next; \"\"\" starts and ends a block of lines.
Ctrl-C stops an answer (it is not kept) or clears the line you are typing."""
_EPILOG = """\
examples:
  aether chat
  aether chat --session work --system "You are a terse senior engineer."
  aether chat --provider gemini --model gemini-2.0-flash --tool get_current_time

commands inside the chat:
""" + "\n".join(f"  {line}" for line in _COMMANDS.splitlines())


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare ``aether chat``."""
    parser = commands.add_parser(
        "chat",
        help="chat at the terminal, kept in a session (aether chat --session work)",
        description="Chat with a model at the terminal. Answers stream as they arrive and "
        "the conversation is kept in a session, so --session NAME resumes it later.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_call_flags(parser, session_help="resume (or start) the conversation NAME")
    parser.add_argument(
        "--plain",
        action="store_true",
        help="read lines with input() even when prompt-toolkit is installed",
    )


def read_message(read: Callable[[str], str]) -> str:
    """One message from ``read(prompt)``: a line, a line ending in ``\\`` and the lines after,
    or a block between ``\"\"\"`` lines.

    Raises:
        EOFError: The input ended before the message began (Ctrl-D).
    """
    first = read(PROMPT)
    if first.strip().startswith(_FENCE):
        opened = first.strip()[len(_FENCE) :]
        if opened.endswith(_FENCE):  # """one line"""
            return opened[: -len(_FENCE)]
        lines = [opened] if opened else []
        while True:
            try:
                line = read(MORE)
            except EOFError:  # an unclosed block ends with the input
                break
            if line.rstrip().endswith(_FENCE):
                lines.append(line.rstrip()[: -len(_FENCE)])
                break
            lines.append(line)
        return "\n".join(lines).strip("\n")
    lines = [first]
    while lines[-1].endswith("\\"):
        lines[-1] = lines[-1][:-1]
        try:
            lines.append(read(MORE))
        except EOFError:
            break
    return "\n".join(lines)


def line_reader(stdin: TextIO, out: TextIO, *, plain: bool) -> Callable[[str], str]:
    """How lines are read: prompt-toolkit at a terminal when installed, else ``input()``."""
    terminal = stdin is sys.stdin and out is sys.stdout and stdin.isatty() and out.isatty()
    if terminal and not plain:
        try:  # an optional extra (aether-core[cli]), hence imported by name
            toolkit = importlib.import_module("prompt_toolkit")
            history = importlib.import_module("prompt_toolkit.history")
        except ImportError:
            pass
        else:
            path = default_store_path().with_name("chat_history")
            path.parent.mkdir(parents=True, exist_ok=True)
            prompter = toolkit.PromptSession(history=history.FileHistory(str(path)))
            prompt: Callable[[str], str] = prompter.prompt
            return prompt
    if terminal:
        with contextlib.suppress(ImportError):  # not on every platform
            import readline  # noqa: F401  # line editing and history for input()
        return input

    def read(prompt: str) -> str:
        out.write(prompt)
        out.flush()
        line = stdin.readline()
        if not line:
            raise EOFError
        return line.rstrip("\n")

    return read


class _Chat:
    """The conversation's state and the commands that act on it."""

    def __init__(
        self,
        client: SyncAether,
        session: SyncSession,
        call: dict[str, Any],
        *,
        out: TextIO,
        err: TextIO,
    ) -> None:
        self.client = client
        self.session = session
        self.call = call
        self.out = out
        self.err = err
        self.model: str | None = None  # None: the client's own

    def answer(self, message: str) -> None:
        echo = Echo(self.out)
        model: dict[str, Any] = {"model": self.model} if self.model else {}
        try:
            with self.session.stream_text(message, **self.call, **model) as deltas:
                for delta in deltas:
                    echo.write(delta)
            echo.end_line()
        except KeyboardInterrupt:
            echo.end_line()
            self.out.write("[answer stopped; it is not kept in the conversation]\n")
        except AetherError as exc:  # the chat goes on; the failed turn is not stored
            echo.end_line()
            say_error(self.err, str(exc))

    def command(self, line: str) -> bool:
        """Run a ``/command``; False when the chat should end."""
        name, _, rest = line.partition(" ")
        rest = rest.strip()
        out = self.out
        if name in ("/exit", "/quit"):
            return False
        if name == "/reset":
            self.session.clear()
            out.write("History cleared.\n")
        elif name == "/history":
            messages = self.session.history()
            for message in messages:
                out.write(f"{message.role}: {message.text}\n")
            if not messages:
                out.write("No messages yet.\n")
        elif name == "/usage":
            usage = self.client.usage
            cost = f"${usage.total_cost_usd:.6f}"
            if usage.unpriced_models:
                cost += f" (no price known for {', '.join(usage.unpriced_models)})"
            out.write(
                f"{usage.total_requests} requests, {usage.total_input_tokens} input and "
                f"{usage.total_output_tokens} output tokens, {cost}\n"
            )
        elif name == "/model":
            if rest:
                self.model = rest
            out.write(f"Model: {self.model or _default_model(self.client)}\n")
        elif name == "/help":
            out.write(_COMMANDS + "\n")
        else:
            out.write(f"Unknown command {name}; the commands are:\n{_COMMANDS}\n")
        out.flush()
        return True


def _default_model(client: SyncAether) -> str:
    return str(getattr(client.provider, "default_model", None) or "the provider's default")


def run(args: argparse.Namespace, *, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    """Chat until ``/exit`` or the end of input; the exit status."""
    from aether import config

    call: dict[str, Any] = {}
    if settings := call_settings(args):
        call["settings"] = settings
    if tools := tool_names(args):
        call["tools"] = tools
    store, where = open_store(create=True)
    with build_client(args, store=store) as client:
        name = args.session or _new_session_name()
        session = client.session(name, system=args.system)
        chat = _Chat(client, session, call, out=out, err=err)
        if tools:
            client.on("tool.start", lambda event: _show_tool(event, err))
        held = len(session.history())
        kept = f"{held} messages so far" if held else f"new; resume it with --session {name}"
        out.write(
            f"Chatting with {_default_model(client)} ({config.provider_name(args.provider)}). "
            f"Session {name} ({kept}), kept in {where}.\n"
            f"/help lists the commands; Ctrl-C stops an answer, Ctrl-D exits.\n"
        )
        out.flush()
        read = line_reader(stdin, out, plain=args.plain)
        while True:
            try:
                message = read_message(read)
            except KeyboardInterrupt:  # at the prompt: drop the line being typed
                out.write("\n")
                continue
            except EOFError:
                out.write("\n")
                break
            if not message.strip():
                continue
            if message.startswith("/"):
                if not chat.command(message.strip()):
                    break
                continue
            chat.answer(message)
    return EXIT_OK


def _show_tool(event: ToolStart, err: TextIO) -> None:
    err.write(f"[tool {event.call.name}]\n")
    err.flush()


def _new_session_name() -> str:
    now = datetime.datetime.now()
    return f"chat-{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
