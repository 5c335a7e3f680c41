"""``aether.llm.parts``: content parts, built from files, data URLs and bytes; their options."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from pydantic import ValidationError

from aether import Aether, AudioPart, DocumentPart, ImagePart, Message, TextPart, VideoPart
from aether.errors import ConfigurationError
from aether.extensions.llm.fake import FakeProvider
from aether.llm import ProviderCapabilities
from aether.llm.parts import sniff_media_type

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
PDF = b"%PDF-1.7\n" + b"x" * 16


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (PNG, "x.bin", "image/png"),
        (b"\xff\xd8\xff\xe0" + b"0" * 8, None, "image/jpeg"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", None, "image/webp"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", None, "audio/wav"),
        (PDF, None, "application/pdf"),
        (b"plain words", "notes.txt", "text/plain"),
        (b"plain words", None, None),
    ],
)
def test_media_type_from_bytes_then_name(data: bytes, name: str | None, expected: str) -> None:
    assert sniff_media_type(data, name) == expected


def test_from_path_reads_and_sniffs(tmp_path: Path) -> None:
    (tmp_path / "cat.png").write_bytes(PNG)
    (tmp_path / "report").write_bytes(PDF)
    image = ImagePart.from_path(tmp_path / "cat.png")
    assert (image.data, image.media_type) == (PNG, "image/png")
    assert DocumentPart.from_path(tmp_path / "report").media_type == "application/pdf"


def test_from_path_says_what_went_wrong(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="could not read"):
        ImagePart.from_path(tmp_path / "missing.png")
    (tmp_path / "mystery").write_bytes(b"??")
    with pytest.raises(ConfigurationError, match="pass media_type"):
        AudioPart.from_path(tmp_path / "mystery")


def test_from_data_url() -> None:
    url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    part = ImagePart.from_data_url(url)
    assert (part.data, part.media_type) == (PNG, "image/png")
    with pytest.raises(ConfigurationError, match="data URL looks like"):
        ImagePart.from_data_url("https://example.test/x.png")
    with pytest.raises(ConfigurationError, match="not valid base64"):
        ImagePart.from_data_url("data:image/png;base64,@@@")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of url=, data=.*got none"),
        ({"url": "https://x.test/a.png", "file_id": "f"}, "exactly one.*got url, file_id"),
        ({"data": PNG}, r"needs media_type="),
    ],
)
def test_a_part_has_exactly_one_source(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ImagePart(**kwargs)  # type: ignore[arg-type]


def test_repr_shows_the_size_not_the_bytes() -> None:
    shown = repr(ImagePart(data=PNG, media_type="image/png"))
    assert "size=24" in shown and "\\x89PNG" not in shown


def test_message_text_and_media_read_the_parts() -> None:
    image = ImagePart(url="https://x.test/a.png")
    message = Message(role="user", content=[TextPart(text="a "), image, TextPart(text="b")])
    assert message.text == "a b"
    assert message.media == [image]
    assert Message(role="user", content="plain").text == "plain"
    assert Message(role="user", content="plain").media == []


def test_messages_with_parts_round_trip_through_json() -> None:
    message = Message(
        role="user",
        content=[TextPart(text="hi"), DocumentPart(data=PDF, media_type="application/pdf")],
    )
    dumped = message.model_dump_json()
    assert base64.b64encode(PDF).decode() in dumped
    assert Message.model_validate_json(dumped) == message


# --- video -----------------------------------------------------------------------------------

MP4 = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + b"\x00" * 8


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (MP4, "video/mp4"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", "video/mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  ", "video/quicktime"),
        (b"\x00\x00\x00\x18ftyp3gp5\x00\x00\x00\x00", "video/3gpp"),
        (b"\x00\x00\x00\x18ftypM4A \x00\x00\x00\x00", "audio/mp4"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm\x42\x87", "video/webm"),
        (b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska", "video/x-matroska"),
        (b"\x00\x00\x01\xba\x44\x00\x04\x00\x04\x01", "video/mpeg"),
        (b"\x00\x00\x01\xb3\x14\x00\xf0\x13", "video/mpeg"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", "video/x-msvideo"),
        (b"FLV\x01\x05\x00\x00\x00\x09", "video/x-flv"),
        (b"\x30\x26\xb2\x75\x8e\x66\xcf\x11\xa6\xd9\x00\xaa", "video/x-ms-wmv"),
    ],
)
def test_video_containers_are_told_by_their_bytes(data: bytes, expected: str) -> None:
    assert sniff_media_type(data, "upload.bin") == expected


def test_an_iso_file_of_an_unlisted_brand_is_told_by_its_name() -> None:
    heif = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"  # an image, in MP4's box
    assert sniff_media_type(heif) is None
    assert sniff_media_type(b"RIFF\x00\x00\x00\x00CDXA", "track.mpg") == "video/mpeg"


def test_a_video_part_from_each_source(tmp_path: Path) -> None:
    (tmp_path / "clip").write_bytes(MP4)
    from_file = VideoPart.from_path(tmp_path / "clip")
    assert (from_file.data, from_file.media_type, from_file.kind) == (MP4, "video/mp4", "video")
    url = "data:video/webm;base64," + base64.b64encode(b"\x1a\x45\xdf\xa3webm").decode()
    assert VideoPart.from_data_url(url).media_type == "video/webm"
    assert VideoPart(url="https://youtu.be/lCdaVNyHtjU").url == "https://youtu.be/lCdaVNyHtjU"
    assert VideoPart(file_id="files/abc").file_id == "files/abc"
    with pytest.raises(ValidationError, match=r"VideoPart\(data=...\) needs media_type="):
        VideoPart(data=MP4)
    with pytest.raises(ValidationError, match="VideoPart takes exactly one of"):
        VideoPart()


def test_a_video_is_media_and_a_dict_of_type_video_reads_as_one() -> None:
    message = Message.model_validate(
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Watch:"},
                {"type": "video", "url": "https://x.test/a.mp4"},
            ],
        }
    )
    (video,) = message.media
    assert isinstance(video, VideoPart)
    assert message.text == "Watch:"


async def test_a_video_reaches_a_provider_that_takes_it() -> None:
    fake = FakeProvider("a cat on a piano")
    async with Aether(fake) as client:
        prompt: list[str | VideoPart] = ["What happens?", VideoPart(url="https://x.test/cat.mp4")]
        answer = await client.ask(prompt)
    assert answer == "a cat on a piano"
    assert fake.calls[0].messages[0].media == [VideoPart(url="https://x.test/cat.mp4")]


async def test_a_video_is_refused_before_sending_by_a_provider_that_does_not_claim_it() -> None:
    class Pictures(FakeProvider):
        capabilities = ProviderCapabilities(image_input=True)

    pictures = Pictures("unused")
    async with Aether(pictures) as client:
        with pytest.raises(
            ConfigurationError,
            match=r"does not take video parts \(Pictures.capabilities has video_input=False\); "
            r"it takes text, image\. Remove the VideoPart",
        ):
            await client.ask([VideoPart(url="https://x.test/cat.mp4")])
    assert pictures.calls == []


# --- provider_options on a part --------------------------------------------------------------


def test_provider_options_default_to_empty_and_survive_json() -> None:
    assert ImagePart(url="https://x.test/a.png").provider_options == {}
    clip = {"videoMetadata": {"startOffset": "10s", "endOffset": "40s", "fps": 0.5}}
    message = Message(
        role="user",
        content=[
            VideoPart(data=MP4, media_type="video/mp4", provider_options=clip),
            DocumentPart(file_id="file-1", provider_options={"citations": {"enabled": True}}),
        ],
    )
    dumped = message.model_dump_json()
    assert '"startOffset":"10s"' in dumped
    loaded = Message.model_validate_json(dumped)
    assert loaded == message
    assert loaded.media[0].provider_options == clip
    assert loaded.media[1].provider_options == {"citations": {"enabled": True}}


def test_repr_names_the_provider_options_without_their_values() -> None:
    secretish = "a long instruction " * 20
    part = ImagePart(url="https://x.test/a.png", provider_options={"detail": secretish, "x": 1})
    shown = repr(part)
    assert "provider_options=['detail', 'x']" in shown
    assert secretish not in shown
    assert "provider_options" not in repr(ImagePart(url="https://x.test/a.png"))
