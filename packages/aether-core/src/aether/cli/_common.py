"""What the commands share: their flags, the client they build, where sessions live, errors."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from aether.llm.settings import CallSettings
    from aether.memory.contracts import SessionStore
    from aether.sync import SyncAether

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "UsageError",
    "Echo",
    "add_call_flags",
    "build_client",
    "call_settings",
    "default_store_path",
    "open_store",
    "say_error",
    "tool_names",
]

EXIT_OK = 0
EXIT_FAILED = 1
"""The provider (or the session store, or the configuration) failed."""
EXIT_USAGE = 2
"""The command line asks for something that cannot be done (argparse uses 2 as well)."""
EXIT_INTERRUPTED = 130
"""Ctrl-C: 128 + SIGINT, as shells report it."""

_EFFORTS = ("minimal", "low", "medium", "high")


class UsageError(Exception):
    """The command line is wrong; the message says how to fix it (exit status 2)."""


def add_call_flags(parser: argparse.ArgumentParser, *, session_help: str) -> None:
    """The flags ``ask`` and ``chat`` share: the client, the conversation and the settings."""
    parser.add_argument("--provider", help="provider name (default: LLM_PROVIDER, then openai)")
    parser.add_argument("--model", help="model name (default: the provider's)")
    parser.add_argument("--system", help="a system prompt")
    parser.add_argument(
        "--tool",
        action="append",
        default=[],
        metavar="NAME",
        help="a registered tool the model may call (repeatable; see aether plugins)",
    )
    parser.add_argument("--session", metavar="NAME", type=_session_name, help=session_help)
    settings = parser.add_argument_group("call settings")
    settings.add_argument("--temperature", type=float, metavar="T")
    settings.add_argument("--max-tokens", type=int, metavar="N", help="cap on output tokens")
    settings.add_argument("--top-p", type=float, metavar="P")
    settings.add_argument("--seed", type=int, metavar="N")
    settings.add_argument("--reasoning-effort", choices=_EFFORTS)
    settings.add_argument(
        "--timeout", type=float, metavar="SECONDS", help="deadline for the whole call"
    )
    settings.add_argument(
        "-o",
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a provider request field (VALUE as JSON, else a string), e.g. -o user=me",
    )


def _session_name(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("a session name cannot be empty")
    return text


def call_settings(args: argparse.Namespace) -> CallSettings:
    """The call settings the flags give, checked now so a bad value is a usage error."""
    from aether.errors import ConfigurationError
    from aether.llm.settings import check_settings

    given: dict[str, Any] = {
        key: getattr(args, key)
        for key in ("temperature", "max_tokens", "top_p", "seed", "timeout")
        if getattr(args, key) is not None
    }
    if args.reasoning_effort:
        given["reasoning"] = {"effort": args.reasoning_effort}
    options = dict(_option(text) for text in args.option)
    if options:
        given["provider_options"] = options
    try:
        return check_settings(given) if given else {}
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from None


def _option(text: str) -> tuple[str, Any]:
    key, equals, raw = text.partition("=")
    if not equals or not key.strip():
        raise UsageError(f"-o/--option takes KEY=VALUE, got {text!r}.")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw  # a bare word: -o user=alice
    return key.strip(), value


def tool_names(args: argparse.Namespace) -> list[str]:
    """The ``--tool`` names, each checked to be registered (a usage error naming the known)."""
    if not args.tool:
        return []
    from aether.errors import ToolNotFoundError
    from aether.tools import resolve_tools

    try:
        resolve_tools(args.tool)
    except ToolNotFoundError as exc:
        raise UsageError(str(exc)) from None
    return list(args.tool)


def default_store_path() -> Path:
    """Where the command keeps sessions by default: ``sessions.db`` in the user's data dir."""
    if os.environ.get("XDG_DATA_HOME"):
        base = Path(os.environ["XDG_DATA_HOME"])
    elif sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path.home() / ".local" / "share"
    return base / "aether" / "sessions.db"


def open_store(*, create: bool) -> tuple[SessionStore | None, str]:
    """The session store and a line saying which it is (never a secret: reprs hold none).

    ``AETHER_SESSION_STORE`` when set; else the SQLite file at :func:`default_store_path`
    when a ``sqlite`` store is installed (only if it exists, unless ``create``); else, with
    ``create``, memory; else None.
    """
    from aether import config
    from aether.errors import PluginNotFoundError
    from aether.memory.factory import SESSION_STORE_ENV, create_session_store

    if config.env_str(SESSION_STORE_ENV):
        store = create_session_store()
        return store, f"{store!r} (from {SESSION_STORE_ENV})"
    path = default_store_path()
    if create or path.is_file():
        try:
            store = create_session_store(f"sqlite://{path}")  # opens the file on first use
        except PluginNotFoundError:
            pass  # aether-memory-sqlite is not installed
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            return store, f"SQLite file {path}"
    if not create:
        return None, ""
    from aether.extensions.memory.in_memory import InMemorySessionStore

    return InMemorySessionStore(), (
        "memory only: gone when this command exits (pip install aether-memory-sqlite to keep "
        f"sessions in {path}, or set {SESSION_STORE_ENV})"
    )


def build_client(
    args: argparse.Namespace, *, store: SessionStore | None = None, cost_tracking: bool = True
) -> SyncAether:
    """The client the flags describe (``--provider``, ``--model``)."""
    from aether.extensions.llm.builder import ProviderConfig
    from aether.sync import SyncAether

    return SyncAether(
        config=ProviderConfig(provider=args.provider, model=args.model),
        memory_store=store,
        with_cost_tracking=cost_tracking,
    )


class Echo:
    """Writes an answer as it streams, knowing whether its last line is still open."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.open_line = False
        self.wrote = False

    def write(self, text: str) -> None:
        if not text:
            return
        # Marked open first: Ctrl-C can land inside the write, and a spare line break is
        # better than an error message glued to the answer.
        self.open_line = self.wrote = True
        self.out.write(text)
        self.out.flush()
        self.open_line = not text.endswith("\n")

    def end_line(self) -> None:
        """End a partly written line, so what follows (an error, a prompt) starts a new one."""
        if self.open_line:
            self.open_line = False
            self.out.write("\n")
            self.out.flush()


def say_error(err: TextIO, message: str) -> None:
    """One error line on stderr, as argparse words its own."""
    err.write(f"aether: error: {message}\n")
    err.flush()
