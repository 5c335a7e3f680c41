"""result_text: what the model reads of an MCP tool result."""

from __future__ import annotations

import base64

from mcp_types import (
    AudioContent,
    BlobResourceContents,
    CallToolResult,
    EmbeddedResource,
    ResourceLink,
    TextContent,
    TextResourceContents,
)

from aether_mcp import result_text

BLOB = base64.b64encode(b"12345678").decode()


def test_text_blocks_are_joined_by_lines() -> None:
    result = CallToolResult(content=[TextContent(text="one"), TextContent(text="two")])
    assert result_text(result) == "one\ntwo"


def test_structured_content_is_said_once() -> None:
    repeated = CallToolResult(
        content=[TextContent(text='{\n  "total": 5\n}')], structured_content={"total": 5}
    )
    assert result_text(repeated) == '{"total":5}'
    wrapped = CallToolResult(content=[TextContent(text="hi")], structured_content={"result": "hi"})
    assert result_text(wrapped) == "hi"


def test_structured_content_beside_a_different_text_keeps_both() -> None:
    result = CallToolResult(
        content=[TextContent(text="Found 2 issues.")], structured_content={"count": 2}
    )
    assert result_text(result) == 'Found 2 issues.\n{"count":2}'


def test_binary_parts_become_notes_and_embedded_text_is_kept() -> None:
    result = CallToolResult(
        content=[
            AudioContent(data=BLOB, mime_type="audio/wav"),
            EmbeddedResource(
                type="resource", resource=TextResourceContents(uri="file:///a.txt", text="inside")
            ),
            EmbeddedResource(
                type="resource",
                resource=BlobResourceContents(uri="file:///b.bin", blob=BLOB, mime_type=None),
            ),
            ResourceLink(type="resource_link", uri="file:///c.txt", name="c"),
        ]
    )
    assert result_text(result).splitlines() == [
        "[audio (audio/wav, 8 bytes) not shown: tool results carry text]",
        "inside",
        "[resource file:///b.bin (binary, 8 bytes) not shown: tool results carry text]",
        "[resource link: file:///c.txt]",
    ]
