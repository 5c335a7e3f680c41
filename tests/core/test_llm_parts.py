"""``aether.llm.parts``: content parts, built from files, data URLs and bytes."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from pydantic import ValidationError

from aether import AudioPart, DocumentPart, ImagePart, Message, TextPart
from aether.errors import ConfigurationError
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
