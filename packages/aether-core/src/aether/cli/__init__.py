"""The ``aether`` command: ask, chat, read stored conversations, check plugins.

    aether ask "Write a haiku about retries"
    cat notes.md | aether ask "summarise this" --json
    aether chat --session work --tool get_current_time
    aether logs work
    aether plugins --load

``LLM_PROVIDER=fake aether ask "hi"`` runs entirely offline; ``python -m aether`` is the same
command. Exit status: 0 ok; 1 the provider, the session store or the configuration failed (a
plugin failed to load, for ``plugins``); 2 the command line is wrong; 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import typing

from aether import errors
from aether.cli import _ask, _chat, _common, _logs, _plugins

if typing.TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main"]

_EPILOG = """\
one example per command:
  aether ask "Write a haiku about retries"
  aether chat --session work --tool get_current_time
  aether logs work
  aether plugins --load

The prompt of ask can also come from standard input: cat notes.md | aether ask "summarise this".
LLM_PROVIDER=fake runs offline. Sessions are kept where AETHER_SESSION_STORE says, else (with
aether-memory-sqlite installed) in {store}.

exit status:
  0    ok
  1    the provider, the session store or the configuration failed
  2    the command line is wrong
  130  interrupted (Ctrl-C)
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aether",
        description="Aether: LLM applications from small typed parts.",
        epilog=_EPILOG.format(store=_common.default_store_path()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _ask.add_parser(commands)
    _chat.add_parser(commands)
    _logs.add_parser(commands)
    plugins = commands.add_parser(
        "plugins",
        help="list installed plugins (aether plugins --load)",
        description="List the installed Aether plugins and what they register.",
        epilog="Exit status: 0 when all is well; 1 when a plugin failed to load, or when the "
        "installed aether-core distribution is not Aether's own.",
    )
    plugins.add_argument("--json", action="store_true", help="machine-readable output")
    plugins.add_argument(
        "--load",
        action="store_true",
        help="also import every plugin and run its hooks, to check that it loads",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``aether`` console script; returns the exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0), or a usage error argparse has printed (2)
        return exc.code if isinstance(exc.code, int) else _common.EXIT_USAGE
    if args.version:
        from importlib.metadata import version

        print(f"aether-core {version('aether-core')}")
        return _common.EXIT_OK
    if args.command is None:
        parser.print_help()
        return _common.EXIT_USAGE
    out, err = sys.stdout, sys.stderr
    try:
        if args.command == "plugins":
            return _plugins.plugins(as_json=args.json, load=args.load, out=out, err=err)
        if args.command == "ask":
            return _ask.run(args, stdin=sys.stdin, out=out, err=err)
        if args.command == "chat":
            return _chat.run(args, stdin=sys.stdin, out=out, err=err)
        return _logs.run(args, out=out, err=err)
    except _common.UsageError as exc:
        _common.say_error(err, str(exc))
        return _common.EXIT_USAGE
    except errors.AetherError as exc:
        _common.say_error(err, str(exc))
        return _common.EXIT_FAILED
    except KeyboardInterrupt:
        return _common.EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader left (aether ask ... | head -1): silence the flush at exit, as the
        # Python documentation advises, and report the failure quietly.
        with contextlib.suppress(OSError, ValueError):  # not a file (an in-process call)
            os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
        return _common.EXIT_FAILED
