"""The ``aether`` command.

    aether plugins [--json] [--load]      what is installed, and whether it loads
    aether ask "question" [--provider NAME] [--model NAME] [--no-stream]

``LLM_PROVIDER=fake aether ask "hi"`` runs entirely offline.

``aether plugins`` exits 0 when all is well, and 1 when a plugin failed to load (with
``--load``; a plugin calling ``sys.exit()`` is such a failure, not the command's exit) or
when the installed ``aether-core`` distribution is not the one this ``aether`` package
belongs to (said on stderr, with the fix).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TextIO

from aether.errors import AetherError

__all__ = ["main"]

_FROM_REPOSITORY = (
    "install Aether's core from its repository (pip install ./packages/aether-core in a checkout)"
)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aether", description="Aether: LLM applications from small typed parts."
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    plugins = commands.add_parser(
        "plugins",
        help="list installed plugins",
        epilog="Exit status: 0 when all is well; 1 when a plugin failed to load, or when the "
        "installed aether-core distribution is not Aether's own.",
    )
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
            return _plugins(as_json=args.json, load=args.load, out=sys.stdout, err=sys.stderr)
        if args.command == "ask":
            return asyncio.run(_ask(args, out=sys.stdout))
    except AetherError as exc:
        print(f"aether: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    _build_parser().print_help()
    return 2


def _plugins(*, as_json: bool, load: bool, out: TextIO, err: TextIO) -> int:
    from aether.plugins.manager import plugin_manager

    foreign = _foreign_core()
    if foreign is not None:
        err.write(f"aether: warning: {foreign}\n")
        err.flush()  # before the listing, where a terminal shows both
    manager = plugin_manager()
    infos = manager.load_all() if load else manager.infos()
    failed = foreign is not None or any(info.status == "failed" for info in infos)
    if as_json:
        json.dump([info.to_dict() for info in infos], out, indent=2)
        out.write("\n")
        return 1 if failed else 0
    if not infos:
        out.write("No Aether plugins installed.\n")
        return 1 if failed else 0
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
    return 1 if failed else 0


def _foreign_core(
    distributions: Iterable[importlib.metadata.Distribution] | None = None,
    package_dir: Path | None = None,
) -> str | None:
    """What is wrong when the installed ``aether-core`` is not this ``aether`` package's own.

    The name ``aether-core`` on the public package index belongs to an unrelated project that
    ships its own ``aether`` package and command, so ``pip install aether-core`` can leave its
    metadata (and command) beside, or over, this package. This one is recognised by its
    entry points, whose modules are files of the running package, and, when the
    distribution lists its files (a non-editable install), by owning the running package.

    Args:
        distributions: Where to look; default: every installed distribution.
        package_dir: The running ``aether`` package's folder; default: this one's.

    Returns:
        A message with the fix, or None when the distribution is this package's.
    """
    from aether.plugins.manager import CORE_DISTRIBUTION, _normalize, kind_for

    here = (package_dir or Path(__file__).parent).resolve()
    found = importlib.metadata.distributions() if distributions is None else distributions
    core = next(
        (d for d in found if _normalize(d.metadata["Name"] or "") == CORE_DISTRIBUTION), None
    )
    if core is None:
        return (
            f"no distribution named aether-core is installed, so the aether package at {here} "
            f"runs without its metadata: its built-in provider and session store are not "
            f"registered. Fix: {_FROM_REPOSITORY}."
        )
    listed = next((f for f in core.files or () if f.as_posix() == "aether/__init__.py"), None)
    if listed is not None and Path(str(core.locate_file(listed))).resolve().parent != here:
        reason = (
            f"its aether package is at {Path(str(core.locate_file(listed))).parent}, but the "
            f"one running is at {here}"
        )
    elif not any(
        kind_for(ep.group) is not None and _is_module_of(ep.module, here)
        for ep in core.entry_points
    ):
        reason = "it declares none of Aether's entry points (aether.providers: fake, ...)"
    else:
        return None
    return (
        f"the installed distribution named aether-core ({core.version}) is not Aether's core: "
        f"{reason}. That name on the public package index belongs to an unrelated project "
        f"with its own aether package and command. Fix: pip uninstall aether-core, then "
        f"{_FROM_REPOSITORY}."
    )


def _is_module_of(module: str, package_dir: Path) -> bool:
    """Whether the dotted ``module`` is a file of the ``aether`` package in ``package_dir``."""
    top, _, rest = module.partition(".")
    if top != "aether":
        return False
    path = package_dir.joinpath(*rest.split(".")) if rest else package_dir
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


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
