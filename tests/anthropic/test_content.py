"""Content parts as Messages API blocks: images, documents, text, a part's own options; what
Anthropic refuses (audio, video)."""

from __future__ import annotations

import base64
import re
from typing import Any

import httpx
import pytest

from aether import Aether
from aether.errors import ConfigurationError
from aether.extensions.llm.fake import FakeProvider
from aether.llm import ProviderCapabilities, capabilities_of
from aether.llm.contracts import LLMRequest, Message, ToolCall
from aether.llm.models import ModelTraits
from aether.llm.parts import (
    AudioPart,
    ContentPart,
    DocumentPart,
    ImagePart,
    TextPart,
    VideoPart,
)
from aether_anthropic import MODELS, AnthropicProvider
from aether_anthropic._mapping import build_payload

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8
PDF = b"%PDF-1.7\n%%EOF"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def body(*parts: ContentPart | str, model: str = "claude-sonnet-4-5", **fields: Any) -> Any:
    content = [TextPart(text=part) if isinstance(part, str) else part for part in parts]
    messages = fields.pop("messages", None) or [Message(role="user", content=content)]
    request = LLMRequest(messages=messages, **fields)
    return build_payload(request, model=model, max_tokens=4096, stream=False)


def blocks(*parts: ContentPart | str) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = body(*parts)["messages"][0]["content"]
    return content


# --- images ---------------------------------------------------------------------------------


def test_image_from_bytes_url_and_file() -> None:
    assert blocks(
        ImagePart(data=PNG, media_type="image/png", detail="high"),
        ImagePart(url="https://example.com/cat.webp"),
        ImagePart(file_id="file_abc"),
    ) == [
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": b64(PNG)},
        },
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.webp"}},
        {"type": "image", "source": {"type": "file", "file_id": "file_abc"}},
    ]


def test_a_data_url_goes_as_the_bytes_it_holds() -> None:
    (block,) = blocks(ImagePart(url=f"data:image/png;base64,{b64(PNG)}"))
    assert block["source"] == {"type": "base64", "media_type": "image/png", "data": b64(PNG)}


def test_text_and_images_keep_their_order() -> None:
    assert [
        b["type"]
        for b in blocks("Compare ", ImagePart(file_id="f1"), "with", ImagePart(file_id="f2"))
    ] == [
        "text",
        "image",
        "text",
        "image",
    ]


@pytest.mark.parametrize("media_type", ["image/bmp", "image/tiff", "image/svg+xml"])
def test_an_image_type_anthropic_does_not_take_is_refused(media_type: str) -> None:
    with pytest.raises(
        ConfigurationError, match=re.escape(f"JPEG, PNG, GIF or WebP images, not '{media_type}'")
    ):
        blocks(ImagePart(data=b"img", media_type=media_type))


# --- documents ------------------------------------------------------------------------------


def test_pdf_from_bytes_url_and_file_with_its_title() -> None:
    assert blocks(
        DocumentPart(data=PDF, media_type="application/pdf", filename="report.pdf"),
        DocumentPart(url="https://example.com/paper.pdf"),
        DocumentPart(file_id="file_pdf"),
    ) == [
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": b64(PDF)},
            "title": "report.pdf",
        },
        {"type": "document", "source": {"type": "url", "url": "https://example.com/paper.pdf"}},
        {"type": "document", "source": {"type": "file", "file_id": "file_pdf"}},
    ]


@pytest.mark.parametrize("media_type", ["text/plain", "text/markdown", "text/csv"])
def test_a_text_document_goes_as_a_text_source(media_type: str) -> None:
    part = DocumentPart(data="Zoë's notes\n".encode(), media_type=media_type, filename="n.txt")
    assert blocks(part) == [
        {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": "Zoë's notes\n"},
            "title": "n.txt",
        }
    ]


def test_a_document_anthropic_does_not_take_is_refused() -> None:
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    with pytest.raises(ConfigurationError, match="PDF or plain-text documents"):
        blocks(DocumentPart(data=b"PK\x03\x04", media_type=docx))
    with pytest.raises(ConfigurationError, match="must be UTF-8"):
        blocks(DocumentPart(data=b"\xff\xfe", media_type="text/plain"))


# --- where parts may go ---------------------------------------------------------------------


def test_audio_is_refused_before_anything_is_sent() -> None:
    with pytest.raises(ConfigurationError, match="takes no audio"):
        blocks(AudioPart(data=b"ID3", media_type="audio/mpeg"))


@pytest.mark.parametrize("role", ["system", "assistant"])
def test_media_where_anthropic_takes_text_only_is_refused(role: str) -> None:
    messages = [
        Message(role="user", content="hi"),
        Message(role=role, content=[TextPart(text="see"), ImagePart(file_id="f")]),  # type: ignore[arg-type]
    ]
    with pytest.raises(
        ConfigurationError,
        match=f"text only in a{'n' if role == 'assistant' else ''} {role} message",
    ):
        body(messages=messages)


def test_a_tool_result_carries_its_images_and_documents() -> None:
    call = ToolCall(id="toolu_1", name="screenshot")
    sent = body(
        messages=[
            Message(role="user", content="look"),
            Message(role="assistant", tool_calls=[call]),
            Message(
                role="tool",
                tool_call_id="toolu_1",
                content=[
                    TextPart(text="Here:"),
                    ImagePart(file_id="img"),
                    DocumentPart(file_id="doc"),
                ],
            ),
        ]
    )
    assert sent["messages"][2]["content"] == [
        {
            "type": "tool_result",
            "tool_use_id": "toolu_1",
            "content": [
                {"type": "text", "text": "Here:"},
                {"type": "image", "source": {"type": "file", "file_id": "img"}},
                {"type": "document", "source": {"type": "file", "file_id": "doc"}},
            ],
        }
    ]


def test_a_text_only_tool_result_stays_a_string() -> None:
    call = ToolCall(id="toolu_1", name="f")
    sent = body(
        messages=[
            Message(role="user", content="go"),
            Message(role="assistant", tool_calls=[call]),
            Message(
                role="tool",
                tool_call_id="toolu_1",
                content=[TextPart(text="4"), TextPart(text="2")],
            ),
        ]
    )
    assert sent["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "42"}
    ]


def test_empty_text_parts_are_left_out() -> None:
    assert blocks(TextPart(text=""), "a", "") == [{"type": "text", "text": "a"}]


def test_a_model_that_takes_no_documents_refuses_them_by_name() -> None:
    MODELS.register("claude-test-no-pdf", ModelTraits(document_input=False))
    with pytest.raises(ConfigurationError, match="'claude-test-no-pdf' takes no document parts"):
        body(DocumentPart(file_id="f"), model="claude-test-no-pdf")
    assert body(ImagePart(file_id="f"), model="claude-test-no-pdf")["messages"]


def test_video_is_refused_naming_what_anthropic_takes() -> None:
    video = VideoPart(url="https://example.com/launch.mp4?sig=s3cret")
    with pytest.raises(ConfigurationError) as info:
        blocks("What happens?", video)
    said = str(info.value)
    assert said == (
        "Anthropic's Messages API takes no video, but the call to 'claude-sonnet-4-5' holds a "
        "VideoPart; it takes text, images and PDF or text documents. Remove the video, or send "
        "frames of it as ImageParts."
    )
    call = ToolCall(id="toolu_1", name="record")
    with pytest.raises(ConfigurationError, match="takes no video"):
        body(
            messages=[
                Message(role="user", content="film it"),
                Message(role="assistant", tool_calls=[call]),
                Message(role="tool", tool_call_id="toolu_1", content=[video]),
            ]
        )


async def test_video_is_refused_before_anything_is_sent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(500)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    video = VideoPart(data=b"\x00\x00\x00\x18ftypisom", media_type="video/mp4")
    request = LLMRequest(
        messages=[Message(role="user", content=[TextPart(text="Describe it."), video])]
    )
    async with AnthropicProvider(api_key="k", http_client=client) as claude:
        with pytest.raises(ConfigurationError, match="takes no video"):
            await claude.complete(request)
        with pytest.raises(ConfigurationError, match="takes no video"):
            _ = [chunk async for chunk in claude.stream(request)]
    await client.aclose()
    assert seen == []


# --- a part's own options -------------------------------------------------------------------


def test_a_parts_provider_options_merge_into_its_block_last() -> None:
    cited = DocumentPart(
        data=PDF,
        media_type="application/pdf",
        filename="report.pdf",
        provider_options={
            "citations": {"enabled": True},
            "context": "Q3 board pack",
            "cache_control": {"type": "ephemeral", "ttl": "1h"},
        },
    )
    pinned = ImagePart(
        file_id="file_img", provider_options={"cache_control": {"type": "ephemeral"}}
    )
    assert blocks(cited, pinned) == [
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": b64(PDF)},
            "title": "report.pdf",
            "citations": {"enabled": True},
            "context": "Q3 board pack",
            "cache_control": {"type": "ephemeral", "ttl": "1h"},
        },
        {
            "type": "image",
            "source": {"type": "file", "file_id": "file_img"},
            "cache_control": {"type": "ephemeral"},
        },
    ]
    # Nested dicts merge: an option can add to the source Aether built.
    (renamed,) = blocks(
        DocumentPart(url="https://x.test/a.pdf", provider_options={"source": {"x": 1}})
    )
    assert renamed["source"] == {"type": "url", "url": "https://x.test/a.pdf", "x": 1}


def test_a_cache_mark_set_on_a_part_counts_among_the_breakpoints() -> None:
    marked = [
        DocumentPart(file_id=f"file_{n}", provider_options={"cache_control": {"type": "ephemeral"}})
        for n in range(5)
    ]
    with pytest.raises(ConfigurationError, match="at most 4 cache breakpoints"):
        body(*marked)
    # cache={"messages": True} keeps the mark the part set (its TTL included).
    hour = {"cache_control": {"type": "ephemeral", "ttl": "1h"}}
    sent = body(ImagePart(file_id="f", provider_options=hour), cache={"messages": True})
    assert sent["messages"][0]["content"][0]["cache_control"] == hour["cache_control"]


# --- what the provider claims ---------------------------------------------------------------


def test_the_provider_claims_what_it_maps() -> None:
    assert capabilities_of(AnthropicProvider(api_key="k")) == ProviderCapabilities(
        tools=True,
        streaming=True,
        image_input=True,
        document_input=True,
        media_in_tool_results=True,
        reasoning=True,
        structured_output=True,
    )


async def test_the_client_refuses_audio_and_video_for_anthropic_by_its_claims() -> None:
    class Claimed(FakeProvider):
        capabilities = AnthropicProvider.capabilities

    claimed = Claimed()
    async with Aether(claimed) as client:
        with pytest.raises(ConfigurationError, match="does not take audio parts"):
            await client.ask([AudioPart(data=b"ID3", media_type="audio/mpeg")])
        with pytest.raises(ConfigurationError, match="does not take video parts"):
            await client.ask([VideoPart(url="https://example.com/a.mp4")])
    assert claimed.calls == []
