"""Content parts to Chat Completions: images, audio and documents in user messages."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from aether.errors import ConfigurationError
from aether.llm.capabilities import check_supported
from aether.llm.contracts import LLMRequest, Message, ToolCall
from aether.llm.parts import AudioPart, ContentPart, DocumentPart, ImagePart, TextPart, VideoPart
from aether_openai import OpenAIProvider
from aether_openai._request import build_payload, message_to_wire, target_of
from tests.openai._wire import request_problems

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 16
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb" * 8


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def user(*parts: ContentPart, model: str = "gpt-4o") -> dict[str, Any]:
    return message_to_wire(Message(role="user", content=list(parts)), target_of(model))


def test_a_string_stays_a_string_and_parts_stay_parts() -> None:
    gpt = target_of("gpt-4o")
    assert message_to_wire(Message(role="user", content="hi"), gpt)["content"] == "hi"
    assert user(TextPart(text="a"), TextPart(text="b"))["content"] == [
        {"type": "text", "text": "a"},
        {"type": "text", "text": "b"},
    ]


def test_image_by_url_with_detail() -> None:
    wire = user(TextPart(text="What is this?"), ImagePart(url="https://x.test/a.png", detail="low"))
    assert wire["content"][1] == {
        "type": "image_url",
        "image_url": {"url": "https://x.test/a.png", "detail": "low"},
    }


def test_image_bytes_become_a_data_url_and_a_data_url_round_trips() -> None:
    url = f"data:image/png;base64,{b64(PNG)}"
    from_bytes = user(ImagePart(data=PNG, media_type="image/png"))["content"][0]
    assert from_bytes == {"type": "image_url", "image_url": {"url": url}}
    assert user(ImagePart.from_data_url(url))["content"][0] == from_bytes
    assert user(ImagePart(url=url))["content"][0] == from_bytes  # a data URL passes as given


def test_image_by_file_id_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="file_id 'file-1'") as info:
        user(ImagePart(file_id="file-1"))
    assert "'gpt-4o'" in str(info.value) and "ImagePart(url=...)" in str(info.value)


@pytest.mark.parametrize(
    ("data", "media_type", "wire_format"),
    [(WAV, "audio/wav", "wav"), (WAV, "audio/x-wav", "wav"), (MP3, "audio/mpeg", "mp3")],
)
def test_audio_data_in_wav_or_mp3(data: bytes, media_type: str, wire_format: str) -> None:
    part = AudioPart(data=data, media_type=media_type)
    assert user(part, model="gpt-4o-audio-preview")["content"][0] == {
        "type": "input_audio",
        "input_audio": {"data": b64(data), "format": wire_format},
    }


@pytest.mark.parametrize(
    ("part", "shown"),
    [
        (AudioPart(url="https://x.test/a.wav?token=secret"), "given by URL"),
        (AudioPart(file_id="file-9"), "file_id 'file-9'"),
        (AudioPart(data=b"OggS", media_type="audio/ogg"), "'audio/ogg'"),
    ],
)
def test_audio_the_api_cannot_take_is_refused(part: AudioPart, shown: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        user(part, model="gpt-4o-audio-preview")
    message = str(info.value)
    assert shown in message and "WAV or MP3" in message
    assert "secret" not in message  # a URL may carry a token: never shown


def test_audio_for_a_model_without_audio_input_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="'gpt-4o' cannot take audio parts"):
        user(AudioPart(data=WAV, media_type="audio/wav"))


def test_pdf_data_is_a_file_part_with_a_filename() -> None:
    url = f"data:application/pdf;base64,{b64(PDF)}"
    named = DocumentPart(data=PDF, media_type="application/pdf", filename="report.pdf")
    assert user(named)["content"][0] == {
        "type": "file",
        "file": {"filename": "report.pdf", "file_data": url},
    }
    unnamed = user(DocumentPart(data=PDF, media_type="application/pdf"))["content"][0]
    assert unnamed["file"]["filename"] == "document.pdf"  # the API wants one


def test_an_uploaded_file_is_sent_by_id() -> None:
    assert user(DocumentPart(file_id="file-abc"))["content"][0] == {
        "type": "file",
        "file": {"file_id": "file-abc"},
    }


@pytest.mark.parametrize("media_type", ["text/plain", "text/markdown; charset=utf-8"])
def test_a_text_document_is_a_text_part(media_type: str) -> None:
    part = DocumentPart(data="Grüße\nline 2".encode(), media_type=media_type)
    # A text part needs no document support from the model.
    wire = user(part, model="o3-mini")["content"][0]
    assert wire == {"type": "text", "text": "Grüße\nline 2"}


@pytest.mark.parametrize(
    ("part", "shown"),
    [
        (DocumentPart(url="https://x.test/a.pdf"), "given by URL"),
        (DocumentPart(data=b"PK\x03\x04", media_type="application/zip"), "'application/zip'"),
    ],
)
def test_documents_the_api_cannot_take_are_refused(part: DocumentPart, shown: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        user(part)
    assert shown in str(info.value) and "application/pdf" in str(info.value)


def test_a_text_document_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="not UTF-8"):
        user(DocumentPart(data=b"\xff\xfe\x00", media_type="text/plain"))


@pytest.mark.parametrize(
    ("part", "what"),
    [
        (ImagePart(url="https://x.test/a.png"), "image parts"),
        (DocumentPart(data=PDF, media_type="application/pdf"), "document parts"),
    ],
)
def test_media_a_model_cannot_take_is_refused_naming_the_model(
    part: ContentPart, what: str
) -> None:
    with pytest.raises(ConfigurationError, match=f"'o3-mini' cannot take {what}") as info:
        user(part, model="o3-mini")
    assert "register its traits on aether_openai.MODELS" in str(info.value)


@pytest.mark.parametrize("role", ["system", "assistant", "tool"])
def test_media_outside_a_user_message_is_refused(role: Any) -> None:
    message = Message(
        role=role,
        content=[TextPart(text="see"), ImagePart(url="https://x.test/a.png")],
        tool_call_id="call_1" if role == "tool" else None,
    )
    with pytest.raises(ConfigurationError, match=f"'{role}' message holds one \\(ImagePart\\)"):
        message_to_wire(message, target_of("gpt-4o"))


def test_text_parts_of_system_and_tool_messages_are_joined() -> None:
    gpt = target_of("gpt-4o")
    parts: list[ContentPart] = [TextPart(text="a"), TextPart(text="b")]
    assert message_to_wire(Message(role="system", content=parts), gpt)["content"] == "ab"
    tool = Message(role="tool", content=parts, tool_call_id="c1")
    assert message_to_wire(tool, gpt)["content"] == "ab"


def test_a_body_with_every_kind_of_part_is_accepted_by_the_official_types() -> None:
    request = LLMRequest(
        messages=[
            Message(role="system", content="Describe what you are given."),
            Message(
                role="user",
                content=[
                    TextPart(text="All of these:"),
                    ImagePart(url="https://x.test/a.png", detail="high"),
                    ImagePart(data=PNG, media_type="image/png"),
                    AudioPart(data=MP3, media_type="audio/mpeg"),
                    DocumentPart(data=PDF, media_type="application/pdf", filename="a.pdf"),
                    DocumentPart(file_id="file-1"),
                    DocumentPart(data=b"notes", media_type="text/plain"),
                ],
            ),
            Message(role="assistant", tool_calls=[ToolCall(id="c1", name="look", arguments={})]),
            Message(role="tool", content="done", tool_call_id="c1"),
        ]
    )
    # No OpenAI model takes all of them; a model the table does not know (a compatible
    # server's) is sent every kind of part as asked.
    for stream in (False, True):
        body = build_payload(request, model="llava-omni", stream=stream)
        assert request_problems(body) == []
        assert [part["type"] for part in body["messages"][1]["content"]] == [
            "text",
            "image_url",
            "image_url",
            "input_audio",
            "file",
            "file",
            "text",
        ]


def test_the_provider_claims_the_media_it_maps() -> None:
    claimed = OpenAIProvider.capabilities
    assert (claimed.image_input, claimed.document_input, claimed.audio_input) == (
        True,
        True,
        True,
    )
    assert claimed.reasoning and claimed.structured_output
    parts: list[ContentPart] = [
        TextPart(text="x"),
        ImagePart(url="https://x.test/a.png"),
        AudioPart(data=WAV, media_type="audio/wav"),
        DocumentPart(data=PDF, media_type="application/pdf"),
    ]
    request = LLMRequest(messages=[Message(role="user", content=parts)])
    check_supported(OpenAIProvider(api_key="k"), request)  # the client lets them through

    class ClaimsNoMedia:
        name = "plain"

    with pytest.raises(ConfigurationError, match="does not take image parts"):
        check_supported(ClaimsNoMedia(), request)


# --- video, and a part's own options ---------------------------------------------------------

MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomavc1"


@pytest.mark.parametrize(
    ("part", "given"),
    [
        (VideoPart(url="https://x.test/clip.mp4?token=s3cret"), "given by URL"),
        (VideoPart(data=MP4, media_type="video/mp4"), "of type 'video/mp4'"),
        (VideoPart(file_id="file-9"), "given by file_id 'file-9'"),
    ],
)
def test_a_video_is_refused_naming_the_model_and_what_it_takes(part: VideoPart, given: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        user(TextPart(text="What happens?"), part)
    said = str(info.value)
    assert said.startswith(f"The openai model 'gpt-4o' cannot take a VideoPart {given}; ")
    assert "takes no video, only text, images, audio (WAV, MP3) and documents" in said
    assert "s3cret" not in said  # a URL may carry a token: it is never shown


async def test_a_video_is_refused_before_anything_is_sent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(500)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    request = LLMRequest(
        messages=[Message(role="user", content=[VideoPart(url="https://x.test/a.mp4")])]
    )
    async with OpenAIProvider(api_key="k", http_client=client) as openai:
        with pytest.raises(ConfigurationError, match="cannot take a VideoPart"):
            await openai.complete(request)
        with pytest.raises(ConfigurationError, match="cannot take a VideoPart"):
            _ = [chunk async for chunk in openai.stream(request)]
    await client.aclose()
    assert seen == []
    # Through the client, the provider's claims refuse it first.
    assert not OpenAIProvider.capabilities.video_input
    with pytest.raises(ConfigurationError, match="does not take video parts"):
        check_supported(OpenAIProvider(api_key="k"), request)


def test_a_parts_provider_options_merge_into_its_part_last() -> None:
    wire = user(
        ImagePart(
            url="https://x.test/a.png",
            detail="high",
            provider_options={"image_url": {"detail": "low"}},
        ),
        DocumentPart(file_id="file-1", provider_options={"file": {"filename": "scan.pdf"}}),
    )["content"]
    assert wire[0] == {
        "type": "image_url",
        "image_url": {"url": "https://x.test/a.png", "detail": "low"},
    }
    assert wire[1] == {"type": "file", "file": {"file_id": "file-1", "filename": "scan.pdf"}}
    audio = AudioPart(data=WAV, media_type="audio/wav", provider_options={"input_audio": {"x": 1}})
    (heard,) = user(audio, model="gpt-4o-audio-preview")["content"]
    assert heard["input_audio"] == {"data": b64(WAV), "format": "wav", "x": 1}
    # Options on a part sent as bytes leave the bytes as they were built.
    inline = ImagePart(
        data=PNG, media_type="image/png", provider_options={"image_url": {"detail": "low"}}
    )
    body = build_payload(
        LLMRequest(messages=[Message(role="user", content=[inline])]), model="gpt-4o", stream=False
    )
    assert request_problems(body) == []
    (sent,) = body["messages"][0]["content"]
    assert sent["image_url"]["detail"] == "low"
    assert sent["image_url"]["url"] == f"data:image/png;base64,{b64(PNG)}"
