"""An MCP ``CallToolResult`` as what the model reads: text, and media parts where it can.

Text blocks are kept as they are. ``structuredContent`` is kept as JSON; text that only
repeats it (servers are asked to send both) is said once. :func:`result_content` (what an MCP
tool returns to the tool loop) turns images into :class:`~aether.llm.ImagePart`, audio into
:class:`~aether.llm.AudioPart` and embedded PDF or image blobs into a ``DocumentPart`` or
``ImagePart``, which the loop passes on to a provider that takes them in a tool result and
describes in a note to one that does not. Other binary content becomes a short note naming
what was left out. :func:`result_text` is the text-only view (errors, logs): every binary
block a note.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import urlsplit

from mcp_types import (
    AudioContent,
    BlobResourceContents,
    CallToolResult,
    ContentBlock,
    EmbeddedResource,
    ImageContent,
    ResourceLink,
    TextContent,
    TextResourceContents,
)

from aether.llm.parts import AudioPart, ContentPart, DocumentPart, ImagePart

__all__ = ["result_content", "result_text"]

# The image types every provider that takes images in a tool result takes; another image type
# stays a note, since a provider refusing it would end the conversation with an error.
_IMAGE_TYPES: Final = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
_PDF: Final = "application/pdf"
_AS_TEXT: Final = "tool results carry text"
_NOT_PASSED: Final = "only images, audio and PDFs are passed on"
_NOT_BASE64: Final = "its data is not base64"


def result_text(result: CallToolResult) -> str:
    """``result`` as text: its text, a note for each binary block, structured JSON."""
    pieces = _pieces(result, lambda block: _describe(block, _AS_TEXT))
    return "\n".join(piece for piece in pieces if isinstance(piece, str))


def result_content(result: CallToolResult) -> str | list[str | ContentPart]:
    """The model's view of ``result``: :func:`result_text`, or text and media parts.

    A result with no image, audio, or embedded PDF or image is exactly :func:`result_text`.
    Otherwise the pieces come in the result's order, each text or note a string and each
    media block a part, structured JSON last; the tool loop makes the strings text parts.
    """
    if not any(_passed_on(block) for block in result.content):
        return result_text(result)
    pieces = _pieces(result, _media_or_note)
    if all(isinstance(piece, str) for piece in pieces):
        return result_text(result)  # no block's data was base64 after all
    return pieces


def _pieces(
    result: CallToolResult, binary: Callable[[ContentBlock], str | ContentPart]
) -> list[str | ContentPart]:
    """Text, structured JSON and, for each other block, what ``binary(block)`` makes of it."""
    structured = result.structured_content
    texts = [block.text for block in result.content if isinstance(block, TextContent)]
    # Text that only repeats the structured content, or the value a server wrapped as
    # {"result": value} (SDKs do for non-object returns), is said once.
    repeated = (
        structured is not None
        and bool(texts)
        and all(_same_json(text, structured) for text in texts)
    )
    wrapped = (
        isinstance(structured, dict)
        and list(structured) == ["result"]
        and len(texts) == 1
        and (texts[0] == structured["result"] or _same_json(texts[0], structured["result"]))
    )
    pieces: list[str | ContentPart] = []
    for block in result.content:
        if isinstance(block, TextContent):
            if not repeated:
                pieces.append(block.text)
        else:
            pieces.append(binary(block))
    if structured is not None and not wrapped:
        pieces.append(json.dumps(structured, ensure_ascii=False, separators=(",", ":")))
    return pieces


def _same_json(text: str, value: Any) -> bool:
    try:
        return bool(json.loads(text) == value)
    except ValueError:
        return False


def _media_or_note(block: ContentBlock) -> str | ContentPart:
    part = _media(block)
    if part is not None:
        return part
    return _describe(block, _NOT_BASE64 if _passed_on(block) else _NOT_PASSED)


def _passed_on(block: ContentBlock) -> bool:
    """Whether ``block`` is of a kind and media type the model may be sent as a part."""
    if isinstance(block, ImageContent):
        return block.mime_type in _IMAGE_TYPES
    if isinstance(block, AudioContent):
        return block.mime_type.startswith("audio/")
    if isinstance(block, EmbeddedResource) and isinstance(block.resource, BlobResourceContents):
        return block.resource.mime_type in _IMAGE_TYPES or block.resource.mime_type == _PDF
    return False


def _media(block: ContentBlock) -> ContentPart | None:
    """The part ``block`` is as media the model may see, or None (text, a link, other data)."""
    if not _passed_on(block):
        return None
    if isinstance(block, ImageContent):
        data = _bytes(block.data)
        return None if data is None else ImagePart(data=data, media_type=block.mime_type)
    if isinstance(block, AudioContent):
        data = _bytes(block.data)
        return None if data is None else AudioPart(data=data, media_type=block.mime_type)
    if isinstance(block, EmbeddedResource) and isinstance(block.resource, BlobResourceContents):
        resource = block.resource
        mime = resource.mime_type
        if (data := _bytes(resource.blob)) is None:
            return None
        if mime == _PDF:
            name = urlsplit(str(resource.uri)).path.rpartition("/")[2] or None
            return DocumentPart(data=data, media_type=mime, filename=name)
        return ImagePart(data=data, media_type=mime)
    return None


def _bytes(data: str) -> bytes | None:
    """Base64 ``data`` decoded, or None when it is not base64 (the block is then a note)."""
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None


def _describe(block: object, why: str) -> str:
    if isinstance(block, (ImageContent, AudioContent)):
        kind = "image" if isinstance(block, ImageContent) else "audio"
        size = _size(block.data)
        return f"[{kind} ({block.mime_type}, {size}) not shown: {why}]"
    if isinstance(block, ResourceLink):
        return f"[resource link: {block.uri}]"
    if isinstance(block, EmbeddedResource):
        resource = block.resource
        if isinstance(resource, TextResourceContents):
            return resource.text
        if isinstance(resource, BlobResourceContents):
            mime = resource.mime_type or "binary"
            return f"[resource {resource.uri} ({mime}, {_size(resource.blob)}) not shown: {why}]"
    return f"[{type(block).__name__} content not shown]"


def _size(data: str) -> str:
    try:
        count = len(base64.b64decode(data, validate=False))
    except (binascii.Error, ValueError):
        count = len(data)
    return f"{count:,} bytes"
