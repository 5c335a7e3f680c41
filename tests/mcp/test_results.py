"""result_text and result_content: what the model reads of an MCP tool result."""

from __future__ import annotations

import base64

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

from aether.llm.parts import AudioPart, DocumentPart, ImagePart
from aether_mcp import result_content, result_text

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


# --- result_content: media parts for the tool loop -------------------------------------------


def test_a_result_without_media_is_exactly_its_text() -> None:
    result = CallToolResult(
        content=[TextContent(text="Found 2 issues."), ResourceLink(uri="file:///c", name="c")],
        structured_content={"count": 2},
    )
    assert result_content(result) == result_text(result)
    assert isinstance(result_content(result), str)


def test_images_audio_and_pdf_or_image_blobs_become_parts_in_order() -> None:
    pdf = base64.b64encode(b"%PDF-1.7").decode()
    result = CallToolResult(
        content=[
            TextContent(text="Here:"),
            ImageContent(data=BLOB, mime_type="image/png"),
            AudioContent(data=BLOB, mime_type="audio/wav"),
            EmbeddedResource(
                type="resource",
                resource=BlobResourceContents(
                    uri="file:///docs/report.pdf", blob=pdf, mime_type="application/pdf"
                ),
            ),
            EmbeddedResource(
                type="resource",
                resource=BlobResourceContents(uri="mem://x", blob=BLOB, mime_type="image/webp"),
            ),
        ],
        structured_content={"pages": 3},
    )
    assert result_content(result) == [
        "Here:",
        ImagePart(data=b"12345678", media_type="image/png"),
        AudioPart(data=b"12345678", media_type="audio/wav"),
        DocumentPart(data=b"%PDF-1.7", media_type="application/pdf", filename="report.pdf"),
        ImagePart(data=b"12345678", media_type="image/webp"),
        '{"pages":3}',
    ]


def test_binary_content_no_model_takes_stays_a_note_beside_the_parts() -> None:
    result = CallToolResult(
        content=[
            ImageContent(data=BLOB, mime_type="image/png"),
            ImageContent(data=BLOB, mime_type="image/svg+xml"),  # no provider takes SVG
            ImageContent(data="not base64!", mime_type="image/png"),
            EmbeddedResource(
                type="resource",
                resource=BlobResourceContents(uri="file:///b.zip", blob=BLOB, mime_type=None),
            ),
        ]
    )
    content = result_content(result)
    assert isinstance(content, list)
    first, *notes = content
    assert first == ImagePart(data=b"12345678", media_type="image/png")
    assert notes == [
        "[image (image/svg+xml, 8 bytes) not shown: only images, audio and PDFs are passed on]",
        "[image (image/png, 11 bytes) not shown: its data is not base64]",
        "[resource file:///b.zip (binary, 8 bytes) not shown: only images, audio and PDFs are "
        "passed on]",
    ]


def test_a_result_whose_only_image_is_not_base64_is_its_text() -> None:
    result = CallToolResult(content=[ImageContent(data="not base64!", mime_type="image/png")])
    assert result_content(result) == result_text(result)
