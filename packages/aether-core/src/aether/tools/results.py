"""A tool's return value as what the model reads: JSON text, or text and media parts.

    serialize_result({"temp": 21})           # '{"temp":21}'
    serialize_result("x" * 10, max_chars=4)  # 'xxxx' and a note saying 6 characters were cut
    result_content(["Page 1:", ImagePart(data=png, media_type="image/png")])  # two parts

What a tool returns is not trusted to be small or finite. Lazy values are refused before
anything iterates them: a generator, any other iterator, an async iterator or an un-awaited
coroutine, anywhere in the result (an endless ``itertools.count()`` would otherwise be
serialised forever, on the event loop). The text is cut at ``max_chars``, default
``AETHER_TOOL_RESULT_MAX_CHARS`` (200,000 characters, about 50,000 tokens), with a note telling
the model how much it did not see.

A tool may also return a content part (an :class:`~aether.llm.ImagePart`, ``AudioPart``,
``DocumentPart``, ``VideoPart`` or ``TextPart``) or a list mixing strings and parts: the tool
message then carries those parts (:func:`result_content`), strings as text parts and any other
item as its JSON. The text of such a result shares one ``max_chars`` budget; media parts are
kept as they are, and a provider that cannot take them in a tool result is sent a note in
their place (see :meth:`ProviderCapabilities.tool_result_media
<aether.llm.ProviderCapabilities.tool_result_media>`). Every other result is text, exactly as
:func:`serialize_result` makes it.
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
from aether.llm.parts import (
    AudioPart,
    ContentPart,
    DocumentPart,
    ImagePart,
    MediaPart,
    TextPart,
    VideoPart,
)

__all__ = [
    "RESULT_MAX_CHARS_ENV",
    "content_text",
    "describe_media",
    "result_content",
    "result_max_chars",
    "serialize_result",
]

RESULT_MAX_CHARS_ENV: Final = "AETHER_TOOL_RESULT_MAX_CHARS"
"""Environment variable: the most characters of a tool result the model is sent."""

_DEFAULT_MAX_CHARS: Final = 200_000
_PLAIN = frozenset({str, int, float, bool, type(None), bytes})
_CONTAINERS = (list, tuple, set, frozenset, deque)
# The parts a message holds (ContentPart's members), so a tool may return any of them.
_PARTS = (TextPart, ImagePart, AudioPart, DocumentPart, VideoPart)
_PART_TYPES = frozenset(_PARTS)
_SEQUENCES = (list, tuple)


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
    return _cut(_json_text(value), limit)


def result_content(value: Any, *, max_chars: int | None = None) -> str | list[ContentPart]:
    """A tool's return value as a tool message's content: text, or a list of parts.

    A content part, or a list or tuple holding at least one, becomes a list of parts: a
    string item is a :class:`~aether.llm.TextPart`, a part stays as it is, any other item is
    its JSON as a text part (a part is one of the classes of :data:`~aether.llm.ContentPart`
    itself, not a subclass, which serialises as JSON). The text parts together keep at most
    ``max_chars`` characters (the one that crosses the limit is cut and says so; later text
    is left out, media kept). Anything else is :func:`serialize_result`'s text, unchanged.

    Args:
        value: What the tool returned.
        max_chars: The most characters of text kept; default: :func:`result_max_chars`.

    Raises:
        ToolExecutionError: As :func:`serialize_result`, for the value or any item of it.
    """
    # Exact types, looked up in C: a text or JSON result pays almost nothing for the look
    # (an isinstance against the part classes costs more than the rest of this function).
    kind = type(value)
    if kind is str:
        return _cut(value, result_max_chars(max_chars))
    if kind in _PART_TYPES:
        items: list[Any] | tuple[Any, ...] = [value]
    elif kind in _SEQUENCES and not _PART_TYPES.isdisjoint(map(type, value)):
        items = value
    else:
        text = value if isinstance(value, str) else _json_text(value)
        return _cut(text, result_max_chars(max_chars))
    parts: list[ContentPart] = []
    for item in items:
        if isinstance(item, _PARTS):
            parts.append(item)
        elif isinstance(item, str):
            if item:
                parts.append(TextPart(text=item))
        else:
            parts.append(TextPart(text=_json_text(item)))
    return _cut_parts(parts, result_max_chars(max_chars))


def describe_media(part: MediaPart) -> str:
    """A media part in a few words: its kind, media type and size (or where it is).

    ``image (image/png, 4,096 bytes)``, ``document (application/pdf, https://...)``,
    ``video (file files/abc)``: what a note in the part's place tells the model.
    """
    details = [part.media_type] if part.media_type else []
    if part.data is not None:
        details.append(f"{len(part.data):,} bytes")
    elif part.url is not None:
        details.append(part.url if len(part.url) <= 100 else part.url[:97] + "...")
    elif part.file_id is not None:
        details.append(f"file {part.file_id}")
    return f"{part.kind} ({', '.join(details)})"


def content_text(content: str | list[ContentPart]) -> str:
    """A tool message's content as text: its text, then a note per media part it carries.

    What the ``tool.complete`` event and logs show of a result with media: the bytes are
    not text, their description is.
    """
    if isinstance(content, str):
        return content
    text = "".join(part.text for part in content if isinstance(part, TextPart))
    notes = [f"[{describe_media(part)}]" for part in content if isinstance(part, MediaPart)]
    return "\n".join([text, *notes] if text else notes)


def _json_text(value: Any) -> str:
    """``value`` as JSON text, lazy values refused before anything iterates them."""
    _refuse_lazy(value)
    try:
        return pydantic_core.to_json(value, fallback=str).decode()
    except (pydantic_core.PydanticSerializationError, ValueError) as exc:
        raise ToolExecutionError(
            f"The tool's result ({type(value).__name__}) could not be serialised to JSON: {exc}. "
            f"Return a str, a dict/list of JSON values, a pydantic model or a dataclass."
        ) from exc


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}{_cut_note(len(text), limit)}"


def _cut_note(total: int, limit: int) -> str:
    return (
        f"\n[Result cut: the tool returned {total:,} characters and only the first {limit:,} "
        f"are shown. If you need the rest, call the tool again asking for less at a time.]"
    )


def _cut_parts(parts: list[ContentPart], limit: int) -> list[ContentPart]:
    """``parts`` with at most ``limit`` characters of text in all; media parts all kept."""
    total = sum(len(part.text) for part in parts if isinstance(part, TextPart))
    if total <= limit:
        return parts
    kept: list[ContentPart] = []
    left = limit
    for part in parts:
        if isinstance(part, TextPart):
            if left < 0:
                continue  # the note has been given: later text is left out
            if len(part.text) <= left:
                left -= len(part.text)
            else:
                text = part.text[:left] + _cut_note(total, limit)
                part = TextPart(text=text, cache=part.cache)
                left = -1
        kept.append(part)
    return kept


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
