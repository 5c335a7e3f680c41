"""Limits on the arguments a model sends, checked before any validator or ``repr`` walks them.

A tool call's ``arguments`` come from the model (or from a recorded conversation), so they are
untrusted input. Every recursive walk of them (pydantic's validator, a JSON Schema validator,
``repr`` in an error message, ``json.dumps`` when the conversation is sent back) would raise
``RecursionError`` on data nested a few thousand levels deep. This module walks them once,
iteratively, and refuses what is too deep or too large with a
:class:`~aether.errors.ToolArgumentsError` the model reads like any other invalid arguments.

Limits (far beyond what any model writes in one answer, whose output is at most a few hundred
thousand characters):

* :data:`MAX_ARGUMENT_DEPTH`: nesting of objects and arrays, the arguments object being 1;
* :data:`MAX_ARGUMENT_SIZE`: the arguments' size, counted as one per value plus the length
  of every string and property name: about their length as JSON text.
"""

from __future__ import annotations

import reprlib
from collections.abc import Mapping
from typing import Any, Final, NoReturn

from aether.errors import ToolArgumentsError

__all__ = ["MAX_ARGUMENT_DEPTH", "MAX_ARGUMENT_SIZE", "check_shape", "short_repr"]

MAX_ARGUMENT_DEPTH: Final = 64
"""The deepest nesting of objects and arrays accepted in a tool's arguments."""

MAX_ARGUMENT_SIZE: Final = 2_000_000
"""The largest size accepted for a tool's arguments (values plus characters of strings)."""

_MAX_REPR = 80
_SCALARS = (str, int, float, bool, type(None))


def check_shape(tool: str, arguments: Mapping[str, Any]) -> None:
    """Refuse ``arguments`` nested deeper than :data:`MAX_ARGUMENT_DEPTH` or larger than
    :data:`MAX_ARGUMENT_SIZE`, without recursion.

    Args:
        tool: The tool's name, for the message.
        arguments: The arguments object the model sent.

    Raises:
        ToolArgumentsError: The arguments are too deep or too large; the message tells the
            model what to send instead.
    """
    size = 0
    # (container, its depth); the arguments object itself is depth 1.
    stack: list[tuple[Any, int]] = [(arguments, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_ARGUMENT_DEPTH:
            raise ToolArgumentsError(
                f"The arguments for tool {tool!r} are nested more than {MAX_ARGUMENT_DEPTH} "
                f"levels deep. Call {tool!r} again with flatter arguments."
            )
        if isinstance(node, Mapping):
            values: Any = node.values()
        elif isinstance(node, (list, tuple)):
            values = node
        else:
            continue  # a scalar, or something only a validator can judge
        # Counted before the walk, so a huge container costs nothing to refuse.
        size += len(node)
        if size > MAX_ARGUMENT_SIZE:
            _too_large(tool)
        if values is not node:
            size += sum(len(key) if isinstance(key, str) else 1 for key in node)
        for value in values:
            if isinstance(value, str):
                size += len(value)
            elif not isinstance(value, _SCALARS):
                stack.append((value, depth + 1))
        if size > MAX_ARGUMENT_SIZE:
            _too_large(tool)


def _too_large(tool: str) -> NoReturn:
    raise ToolArgumentsError(
        f"The arguments for tool {tool!r} are too large (more than {MAX_ARGUMENT_SIZE:,} "
        f"characters of data). Call {tool!r} again with smaller arguments, or split the work "
        f"into several calls."
    )


_repr = reprlib.Repr()
_repr.maxlevel = 3
_repr.maxstring = _MAX_REPR
_repr.maxother = _MAX_REPR
_repr.maxlong = _MAX_REPR


def short_repr(value: Any) -> str:
    """A ``repr`` of a model's value for an error message: bounded in depth and length."""
    text = _repr.repr(value)
    if len(text) > _MAX_REPR:
        text = text[: _MAX_REPR - 3] + "..."
    return text
