"""A tool's return value as the text the model reads: JSON, bounded in size.

    serialize_result({"temp": 21})           # '{"temp":21}'
    serialize_result("x" * 10, max_chars=4)  # 'xxxx' and a note saying 6 characters were cut

What a tool returns is not trusted to be small or finite. Lazy values are refused before
anything iterates them: a generator, any other iterator, an async iterator or an un-awaited
coroutine, anywhere in the result (an endless ``itertools.count()`` would otherwise be
serialised forever, on the event loop). The text is cut at ``max_chars``, default
``AETHER_TOOL_RESULT_MAX_CHARS`` (200,000 characters, about 50,000 tokens), with a note telling
the model how much it did not see.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import AsyncIterable, Awaitable, Iterator, Mapping
from typing import Any, Final

import pydantic_core
from pydantic import BaseModel

from aether import config
from aether.errors import ToolExecutionError

__all__ = ["RESULT_MAX_CHARS_ENV", "result_max_chars", "serialize_result"]

RESULT_MAX_CHARS_ENV: Final = "AETHER_TOOL_RESULT_MAX_CHARS"
"""Environment variable: the most characters of a tool result the model is sent."""

_DEFAULT_MAX_CHARS: Final = 200_000
_PLAIN = frozenset({str, int, float, bool, type(None), bytes})
_CONTAINERS = (list, tuple, set, frozenset, deque)


def result_max_chars(explicit: int | None = None) -> int:
    """The result cap: ``explicit`` > ``AETHER_TOOL_RESULT_MAX_CHARS`` > 200,000."""
    if explicit is not None:
        if explicit < 1:
            raise ValueError(f"max_chars must be >= 1, got {explicit}.")
        return explicit
    return config.env_int(RESULT_MAX_CHARS_ENV, _DEFAULT_MAX_CHARS, minimum=1)


def serialize_result(value: Any, *, max_chars: int | None = None) -> str:
    """A tool's return value as text for the model: strings as they are, the rest as JSON.

    Pydantic models, dataclasses, enums, dates, UUIDs, sets and bytes (UTF-8) serialise as
    pydantic would; an object JSON has no form for falls back to ``str()`` for that value only.
    Text longer than ``max_chars`` is cut, and a note saying so is appended.

    Args:
        value: What the tool returned.
        max_chars: The most characters kept; default: :func:`result_max_chars`.

    Raises:
        ToolExecutionError: The value is or holds an iterator, generator or coroutine (return
            a list, or await it), or it cannot be serialised at all (e.g. a circular
            reference).
    """
    limit = result_max_chars(max_chars)
    if isinstance(value, str):
        return _cut(value, limit)
    _refuse_lazy(value)
    try:
        text = pydantic_core.to_json(value, fallback=str).decode()
    except (pydantic_core.PydanticSerializationError, ValueError) as exc:
        raise ToolExecutionError(
            f"The tool's result ({type(value).__name__}) could not be serialised to JSON: {exc}. "
            f"Return a str, a dict/list of JSON values, a pydantic model or a dataclass."
        ) from exc
    return _cut(text, limit)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return (
        f"{text[:limit]}\n[Result cut: the tool returned {len(text):,} characters and only "
        f"the first {limit:,} are shown. If you need the rest, call the tool again asking for "
        f"less at a time.]"
    )


def _refuse_lazy(value: Any) -> None:
    """Raise if ``value`` is or holds a value serialising would iterate or cannot await.

    Iterative, and each container is visited once, so deep, shared or circular results cost
    one pass (pydantic then reports depth and cycles itself).
    """
    seen: set[int] = set()
    stack = [value]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind in _PLAIN:
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, Mapping):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, _CONTAINERS):
            stack.extend(item for item in node if type(item) not in _PLAIN)
        elif isinstance(node, BaseModel):
            stack.extend(node.__dict__.values())
            stack.extend((node.__pydantic_extra__ or {}).values())
        elif dataclasses.is_dataclass(node) and not isinstance(node, type):
            stack.extend(getattr(node, field.name) for field in dataclasses.fields(node))
        elif isinstance(node, (Iterator, AsyncIterable, Awaitable)):
            raise ToolExecutionError(_lazy_message(node))


def _lazy_message(node: Any) -> str:
    kind = type(node).__name__
    if isinstance(node, Awaitable):
        return (
            f"The tool returned an un-awaited {kind}; its value was never computed. Await it "
            f"in the tool and return the result."
        )
    return (
        f"The tool returned a {kind} (an iterator), which is read lazily and may never end, so "
        f"it was not read. Return a list of the items instead."
    )
