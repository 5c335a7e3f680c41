"""The ``aether`` command.

    aether plugins [--json] [--load]      what is installed, and whether it loads
    aether ask "question" [--provider NAME] [--model NAME] [--no-stream]

``LLM_PROVIDER=fake aether ask "hi"`` runs entirely offline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from aether.errors import AetherError

__all__ = ["main"]


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aether", description="Aether: LLM applications from small typed parts."
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    plugins = commands.add_parser("plugins", help="list installed plugins")
    plugins.add_argument("--json", action="store_true", help="machine-readable output")
    plugins.add_argument(
        "--load",
        action="store_true",
        help="also import every plugin and run its hooks, to check that it loads",
    )

    ask = commands.add_parser("ask", help="ask a question and stream the answer")
    ask.add_argument("prompt", help="the question")
    ask.add_argument("--provider", help="provider name (default: LLM_PROVIDER, then openai)")
    ask.add_argument("--model", help="model name (default: the provider's)")
    ask.add_argument("--system", help="a system prompt")
    ask.add_argument("--no-stream", action="store_true", help="print the answer when complete")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``aether`` console script; returns the exit status."""
    args = _build_parser().parse_args(argv)
    if args.version:
        from importlib.metadata import version

        print(f"aether-core {version('aether-core')}")
        return 0
    try:
        if args.command == "plugins":
            return _plugins(as_json=args.json, load=args.load, out=sys.stdout)
        if args.command == "ask":
            return asyncio.run(_ask(args, out=sys.stdout))
    except AetherError as exc:
        print(f"aether: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    _build_parser().print_help()
    return 2


def _plugins(*, as_json: bool, load: bool, out: TextIO) -> int:
    from aether.plugins.manager import plugin_manager

    manager = plugin_manager()
    infos = manager.load_all() if load else manager.infos()
    if as_json:
        json.dump([info.to_dict() for info in infos], out, indent=2)
        out.write("\n")
        return 1 if any(info.status == "failed" for info in infos) else 0
    if not infos:
        out.write("No Aether plugins installed.\n")
        return 0
    for info in infos:
        tag = " (built-in)" if info.builtin else ""
        out.write(f"{info.distribution} {info.version}{tag}: {info.status}\n")
        for ep in info.entry_points:
            out.write(f"  {ep.group}: {ep.name} = {ep.value}\n")
        for kind, names in sorted(info.registered.items()):
            out.write(f"  registered {kind}: {', '.join(sorted(names))}\n")
        if info.error:
            out.write(f"  error: {info.error}\n")
            if info.traceback:
                for line in info.traceback.rstrip().splitlines():
                    out.write(f"    {line}\n")
    return 1 if any(info.status == "failed" for info in infos) else 0


async def _ask(args: argparse.Namespace, *, out: TextIO) -> int:
    from aether.client import Aether
    from aether.extensions.llm.builder import ProviderConfig
    from aether.llm.contracts import Message

    prompt: str | list[Message] = args.prompt
    if args.system:
        prompt = [
            Message(role="system", content=args.system),
            Message(role="user", content=args.prompt),
        ]
    async with Aether(config=ProviderConfig(provider=args.provider, model=args.model)) as client:
        if args.no_stream:
            out.write(await client.ask(prompt) + "\n")
        else:
            async for delta in client.stream_text(prompt):
                out.write(delta)
                out.flush()
            out.write("\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
