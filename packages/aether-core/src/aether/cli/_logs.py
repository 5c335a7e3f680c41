"""``aether logs``: the conversations a session store keeps, listed or shown one at a time."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, TextIO

from aether.cli._common import (
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    default_store_path,
    open_store,
    say_error,
)

if TYPE_CHECKING:
    from aether.llm.contracts import Message
    from aether.memory.contracts import SessionStore

__all__ = ["add_parser", "run"]

_PREVIEW = 60


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare ``aether logs``."""
    parser = commands.add_parser(
        "logs",
        help="list stored sessions, or show one (aether logs work)",
        description="List the sessions the store keeps, most recent first, or show one. The "
        "store is AETHER_SESSION_STORE's, else the SQLite file aether chat writes.",
        epilog="examples:\n  aether logs\n  aether logs work\n  aether logs work --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("name", nargs="?", help="the session to show; none: list the sessions")
    parser.add_argument(
        "-n", "--limit", type=int, default=20, help="sessions to list (default 20; 0: all)"
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace, *, out: TextIO, err: TextIO) -> int:
    """List or show; the exit status."""
    if args.limit < 0:
        raise UsageError(f"--limit must be 0 (all) or more, got {args.limit}")
    store, where = open_store(create=False)
    if store is None:
        err.write(
            f"No sessions are stored yet: aether chat keeps them in {default_store_path()} "
            f"(with aether-memory-sqlite installed), or where AETHER_SESSION_STORE says.\n"
        )
        return EXIT_OK
    import asyncio  # here, not at the top: ``aether --version`` should not pay for it

    return asyncio.run(_run(args, store, where, out=out, err=err))


async def _run(
    args: argparse.Namespace, store: SessionStore, where: str, *, out: TextIO, err: TextIO
) -> int:
    from aether.extensions.llm._layer import maybe_aclose

    try:
        if args.name:
            return await _show(store, args.name, where, as_json=args.json, out=out, err=err)
        return await _list(store, where, args.limit or None, as_json=args.json, out=out, err=err)
    finally:
        await maybe_aclose(store)


async def _show(
    store: SessionStore, name: str, where: str, *, as_json: bool, out: TextIO, err: TextIO
) -> int:
    messages = await store.load(name)
    if not messages:
        say_error(err, f"no session named {name!r} in {where}; aether logs lists them")
        return EXIT_FAILED
    if as_json:
        json.dump([m.model_dump(mode="json") for m in messages], out, ensure_ascii=False)
        out.write("\n")
        return EXIT_OK
    for message in messages:
        out.write(f"{message.role}: {message.text}\n")
    return EXIT_OK


async def _list(
    store: SessionStore,
    where: str,
    limit: int | None,
    *,
    as_json: bool,
    out: TextIO,
    err: TextIO,
) -> int:
    from aether.memory.contracts import ListableSessionStore

    if not isinstance(store, ListableSessionStore):
        say_error(
            err,
            f"{where} cannot list its sessions (the store has no list_sessions()); show one "
            f"by name: aether logs NAME",
        )
        return EXIT_FAILED
    rows = []
    for name in await store.list_sessions(limit=limit):
        messages = await store.load(name)
        rows.append({"session": name, "messages": len(messages), "first": _first(messages)})
    if as_json:
        json.dump(rows, out, ensure_ascii=False)
        out.write("\n")
        return EXIT_OK
    if not rows:
        out.write(f"No sessions in {where}.\n")
        return EXIT_OK
    out.write(f"Sessions in {where}, most recent first:\n")
    width = max(len(str(row["session"])) for row in rows)
    for row in rows:
        out.write(f"  {row['session']:<{width}}  {row['messages']:>4} messages  {row['first']}\n")
    return EXIT_OK


def _first(messages: list[Message]) -> str:
    """The opening user message, on one line and cut short."""
    text = next((m.text for m in messages if m.role == "user"), "")
    line = " ".join(text.split())
    return line if len(line) <= _PREVIEW else line[: _PREVIEW - 1] + "…"
