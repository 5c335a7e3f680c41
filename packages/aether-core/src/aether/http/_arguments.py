"""Tool-call arguments from and to the JSON text providers send, keeping malformed ones.

Models sometimes emit arguments that are not a JSON object (truncated JSON, a bare string,
a list). Dropping or crashing would hide the mistake from the model; instead the text is kept
under :data:`RAW_ARGUMENTS_KEY` so the tool loop can tell the model its arguments were
invalid, and so the text round-trips unchanged when the conversation is sent back.
"""

from __future__ import annotations

import json
from typing import Any

from aether.llm.contracts import RAW_ARGUMENTS_KEY

__all__ = ["RAW_ARGUMENTS_KEY", "dump_tool_arguments", "parse_tool_arguments"]


def parse_tool_arguments(raw: str | None) -> dict[str, Any]:
    """The arguments object, or ``{RAW_ARGUMENTS_KEY: raw}`` when ``raw`` is not one.

    Empty or missing text means "no arguments" (``{}``), as models send for tools that take
    none.
    """
    if raw is None or not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {RAW_ARGUMENTS_KEY: raw}
    if isinstance(value, dict):
        return value
    return {RAW_ARGUMENTS_KEY: raw}


def dump_tool_arguments(arguments: dict[str, Any]) -> str:
    """JSON text for ``arguments``; the original text for kept malformed arguments."""
    if len(arguments) == 1:
        raw = arguments.get(RAW_ARGUMENTS_KEY)
        if isinstance(raw, str):
            return raw
    return json.dumps(arguments, ensure_ascii=False, separators=(",", ":"))
