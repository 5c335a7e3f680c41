"""``aether ask``: one prompt, from the arguments and standard input; the answer streamed."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from typing import TYPE_CHECKING, Any, TextIO

from aether.cli._common import (
    EXIT_OK,
    Echo,
    UsageError,
    add_call_flags,
    build_client,
    call_settings,
    open_store,
    tool_names,
)

if TYPE_CHECKING:
    from aether.llm.contracts import Message
    from aether.sync import SyncAether, SyncSession

__all__ = ["add_parser", "output_type", "read_prompt", "run"]

_DESCRIPTION = """\
Ask one question and stream the answer to standard output.

The prompt is the arguments joined by spaces. Piped standard input is added after it, so
`cat notes.md | aether ask "summarise this"` sends the instruction, a blank line, then the
file; with `-` as the prompt (or no prompt at all) standard input alone is the prompt.
"""
_EPILOG = """\
examples:
  aether ask "Write a haiku about retries" --temperature 0.2
  git diff | aether ask "write a commit message for this" --model gpt-4o-mini
  aether ask "What time is it in Tokyo?" --tool get_current_time --json
  aether ask "And in Paris?" --session trip            (continues the stored conversation)
  aether ask "Invoice: 3 pens at 2.50" --output-type invoices:Invoice   (a typed answer)
"""


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare ``aether ask``."""
    parser = commands.add_parser(
        "ask",
        help='ask one question and stream the answer (aether ask "hi")',
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "prompt", nargs="*", help="the prompt (words are joined); '-': standard input only"
    )
    add_call_flags(parser, session_help="continue the stored conversation NAME (new if unknown)")
    output = parser.add_argument_group("output")
    output.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: text, model, finish_reason, usage, cost_usd, session",
    )
    output.add_argument("--no-stream", action="store_true", help="print the answer when complete")
    output.add_argument(
        "--output-type",
        metavar="MODULE:NAME",
        help="ask for a typed answer (a pydantic model, a dataclass, ...; the module is "
        "imported from the current directory too) and print it as JSON",
    )


def read_prompt(words: list[str], stdin: TextIO | None) -> str:
    """The prompt the arguments and standard input make together.

    Raises:
        UsageError: There is no prompt at all.
    """
    text = "" if words == ["-"] else " ".join(words)
    piped = stdin is not None and not stdin.isatty()
    body = stdin.read().rstrip("\n") if piped and stdin is not None else ""
    prompt = "\n\n".join(part for part in (text, body) if part)
    if not prompt.strip():
        raise UsageError(
            'no prompt: give one as arguments (aether ask "your question") or on standard '
            'input (cat notes.md | aether ask "summarise this")'
        )
    return prompt


def output_type(spec: str) -> Any:
    """The type ``--output-type module:Name`` names.

    Raises:
        UsageError: The spec is malformed, or the module or the name cannot be found.
    """
    module_name, colon, name = spec.partition(":")
    if not (colon and module_name and name):
        raise UsageError(f"--output-type takes MODULE:NAME, e.g. invoices:Invoice; got {spec!r}")
    if os.getcwd() not in sys.path and "" not in sys.path:  # as `python -m` would find it
        sys.path.insert(0, os.getcwd())
    try:
        found: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"--output-type: cannot import {module_name!r} ({exc})") from None
    for part in name.split("."):
        if not hasattr(found, part):
            raise UsageError(f"--output-type: {module_name!r} has no {name!r}")
        found = getattr(found, part)
    return found


def _json(value: Any) -> str:
    import pydantic_core

    return pydantic_core.to_json(value).decode()


def run(args: argparse.Namespace, *, stdin: TextIO | None, out: TextIO, err: TextIO) -> int:
    """Answer the prompt; the exit status (errors propagate to ``main``)."""
    question = read_prompt(args.prompt, stdin)
    call: dict[str, Any] = {}
    if settings := call_settings(args):
        call["settings"] = settings
    if tools := tool_names(args):
        call["tools"] = tools
    if args.output_type:
        call["output_type"] = output_type(args.output_type)
    store = open_store(create=True)[0] if args.session else None
    # Cost tracking prices the model at the first answer, which loads a pricing table; only
    # --json reports a cost, so a plain ask goes without it and starts faster.
    with build_client(args, store=store, cost_tracking=args.json) as client:
        target: SyncAether | SyncSession = client
        prompt: str | list[Message] = question
        if args.session:
            target = client.session(args.session, system=args.system)
        elif args.system:
            from aether.llm.contracts import Message

            prompt = [
                Message(role="system", content=args.system),
                Message(role="user", content=question),
            ]
        if args.json:
            whole = args.no_stream or "output_type" in call  # typed answers come whole
            answer = _collect(client, target, prompt, call, whole=whole)
            json.dump({**answer, "session": args.session}, out, ensure_ascii=False)
            out.write("\n")
        elif "output_type" in call:
            out.write(_json(target.ask(prompt, **call)) + "\n")
        elif args.no_stream:
            text = target.ask(prompt, **call)
            out.write(text if text.endswith("\n") else text + "\n")
        else:
            _stream(target, prompt, call, out)
    return EXIT_OK


def _stream(
    target: SyncAether | SyncSession, prompt: str | list[Message], call: dict[str, Any], out: TextIO
) -> None:
    echo = Echo(out)
    try:
        with target.stream_text(prompt, **call) as deltas:
            for delta in deltas:
                echo.write(delta)
        if not echo.wrote:
            echo.write("\n")  # an empty answer is still one line
    finally:
        echo.end_line()  # so the shell's prompt, or an error, starts on a line of its own


def _collect(
    client: SyncAether,
    target: SyncAether | SyncSession,
    prompt: str | list[Message],
    call: dict[str, Any],
    *,
    whole: bool,
) -> dict[str, Any]:
    text, model, finish, typed = "", None, None, None
    if whole and target is client:
        response = client.complete(prompt, **call)
        text, model, finish = response.text, response.model or None, response.finish_reason
        typed = response.output
    elif whole:
        typed = target.ask(prompt, **call)
        text = typed if isinstance(typed, str) and "output_type" not in call else _json(typed)
    else:
        pieces = []
        with target.stream(prompt, **call) as chunks:
            for chunk in chunks:
                pieces.append(chunk.text)
                model = chunk.model or model
                finish = chunk.finish_reason or finish
        text = "".join(pieces)
    usage = client.usage
    answer: dict[str, Any] = {"text": text}
    if "output_type" in call:
        answer["output"] = json.loads(_json(typed))
    return {
        **answer,
        "model": model,
        "finish_reason": finish,
        "usage": {
            "requests": usage.total_requests,
            "input_tokens": usage.total_input_tokens,
            "output_tokens": usage.total_output_tokens,
            "cached_input_tokens": usage.total_cached_input_tokens,
            "reasoning_tokens": usage.total_reasoning_tokens,
        },
        # None when any model used has no known price, rather than a total that is too low.
        "cost_usd": None if usage.unpriced_models else usage.total_cost_usd,
    }
