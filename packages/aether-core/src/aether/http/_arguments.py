"""Tool-call arguments from and to the JSON providers send, keeping malformed ones.

Models sometimes emit arguments that are not a JSON object (truncated JSON, a bare string,
a list), and a hostile server can send arguments nested thousands of levels deep. Dropping
or crashing would hide the mistake from the model; instead the text is kept under
:data:`RAW_ARGUMENTS_KEY`, so the tool loop tells the model its arguments were invalid
(``ToolArgumentsError``) and the text round-trips unchanged when the conversation is sent
back.

Arguments are held to :data:`DEFAULT_MAX_ARGUMENT_DEPTH` levels, lower than a body's limit:
a call is kept in the conversation, and every session store must be able to write and read
it back (pydantic's JSON parser stops at 200 levels).
"""

from __future__ import annotations

import json
from typing import Any

from aether.http._json import deeper_than
from aether.http._json import loads as json_loads
from aether.http._sse import DEFAULT_MAX_EVENT_BYTES
from aether.llm.contracts import RAW_ARGUMENTS_KEY

__all__ = [
    "DEFAULT_MAX_ARGUMENT_DEPTH",
    "RAW_ARGUMENTS_KEY",
    "dump_tool_arguments",
    "parse_tool_arguments",
    "tool_arguments",
]

DEFAULT_MAX_ARGUMENT_DEPTH = 64
"""Deepest nesting kept as a tool call's arguments; deeper ones are kept as raw text."""


def parse_tool_arguments(
    raw: object,
    *,
    max_depth: int = DEFAULT_MAX_ARGUMENT_DEPTH,
    max_bytes: int = DEFAULT_MAX_EVENT_BYTES,
) -> dict[str, Any]:
    """The arguments object from the text a provider sent, or ``{RAW_ARGUMENTS_KEY: raw}``.

    Empty or missing text means "no arguments" (``{}``), as models send for tools that take
    none. Text that is not a JSON object, is larger than ``max_bytes`` or nests deeper than
    ``max_depth`` is kept as it is under :data:`RAW_ARGUMENTS_KEY`. A value that is not text
    (a server that sent an object where the API has a string) is read by
    :func:`tool_arguments`.

    Args:
        raw: The argument text (OpenAI's ``arguments``, Anthropic's streamed ``partial_json``).
        max_depth: Deepest nesting kept as an object.
        max_bytes: Largest text parsed.
    """
    if not isinstance(raw, str):
        return tool_arguments(raw, max_depth=max_depth)
    if not raw.strip():
        return {}
    try:
        value = json_loads(raw, max_depth=max_depth, max_bytes=max_bytes)
    except ValueError:  # not JSON, or over a limit
        return {RAW_ARGUMENTS_KEY: raw}
    if isinstance(value, dict):
        return value
    return {RAW_ARGUMENTS_KEY: raw}


def tool_arguments(value: object, *, max_depth: int = DEFAULT_MAX_ARGUMENT_DEPTH) -> dict[str, Any]:
    """The arguments object from a decoded value (Gemini's ``args``, Anthropic's ``input``).

    None means no arguments (``{}``); an object within ``max_depth`` levels is the
    arguments; anything else (a list, a number, an object nested deeper) is kept as its JSON
    text under :data:`RAW_ARGUMENTS_KEY`.
    """
    if value is None:
        return {}
    if isinstance(value, dict) and not deeper_than(value, max_depth):
        return value
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (RecursionError, TypeError, ValueError):
        text = f"<arguments that cannot be shown as JSON: a {type(value).__name__}>"
    return {RAW_ARGUMENTS_KEY: text}


def dump_tool_arguments(arguments: dict[str, Any]) -> str:
    """JSON text for ``arguments``; the original text for kept malformed arguments."""
    if len(arguments) == 1:
        raw = arguments.get(RAW_ARGUMENTS_KEY)
        if isinstance(raw, str):
            return raw
    return json.dumps(arguments, ensure_ascii=False, separators=(",", ":"))
