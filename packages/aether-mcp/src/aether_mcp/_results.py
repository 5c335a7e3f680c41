"""An MCP ``CallToolResult`` as the text the model reads.

Text blocks are kept as they are. Binary blocks (images, audio, blobs) become a short note
naming what was left out, since a tool message carries text. ``structuredContent`` is kept
as JSON; text that only repeats it (servers are asked to send both) is said once.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from mcp_types import (
    AudioContent,
    BlobResourceContents,
    CallToolResult,
    EmbeddedResource,
    ImageContent,
    ResourceLink,
    TextContent,
    TextResourceContents,
)

__all__ = ["result_text"]


def result_text(result: CallToolResult) -> str:
    """The model's view of ``result``: its text, notes for binary parts, structured JSON."""
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
    pieces: list[str] = []
    for block in result.content:
        if isinstance(block, TextContent):
            if not repeated:
                pieces.append(block.text)
        else:
            pieces.append(_describe(block))
    if structured is not None and not wrapped:
        pieces.append(json.dumps(structured, ensure_ascii=False, separators=(",", ":")))
    return "\n".join(pieces)


def _same_json(text: str, value: Any) -> bool:
    try:
        return bool(json.loads(text) == value)
    except ValueError:
        return False


def _describe(block: object) -> str:
    if isinstance(block, (ImageContent, AudioContent)):
        kind = "image" if isinstance(block, ImageContent) else "audio"
        size = _size(block.data)
        return f"[{kind} ({block.mime_type}, {size}) not shown: tool results carry text]"
    if isinstance(block, ResourceLink):
        return f"[resource link: {block.uri}]"
    if isinstance(block, EmbeddedResource):
        resource = block.resource
        if isinstance(resource, TextResourceContents):
            return resource.text
        if isinstance(resource, BlobResourceContents):
            mime = resource.mime_type or "binary"
            return (
                f"[resource {resource.uri} ({mime}, {_size(resource.blob)}) not shown: tool "
                f"results carry text]"
            )
    return f"[{type(block).__name__} content not shown]"


def _size(data: str) -> str:
    try:
        count = len(base64.b64decode(data, validate=False))
    except (binascii.Error, ValueError):
        count = len(data)
    return f"{count:,} bytes"
