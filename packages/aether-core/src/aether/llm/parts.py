"""Content parts: what a message holds besides plain text (images, audio, documents, video).

``Message.content`` is a string or a list of parts. A media part comes from exactly one of a
URL (``url=``), bytes with their media type (``data=`` + ``media_type=``) or a file the provider
already holds (``file_id=``). Parts serialise to JSON losslessly (bytes as base64), so a
session store keeps them like any message::

    Message(role="user", content=["What is in this picture?", ImagePart.from_path("cat.png")])

Each provider maps parts to its own wire format; a part it cannot take is a
:class:`~aether.errors.ConfigurationError` raised before anything is sent. What a provider
takes on a part and Aether does not model (a clip's offsets, a cache mark on one document) goes
in the part's ``provider_options``, deep-merged into that part's JSON object last::

    VideoPart(
        url="https://youtu.be/lCdaVNyHtjU",
        media_type="video/mp4",
        provider_options={"videoMetadata": {"startOffset": "10s", "endOffset": "40s"}},
    )
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from typing_extensions import Self

from aether.errors import ConfigurationError

__all__ = [
    "AudioPart",
    "ContentPart",
    "DocumentPart",
    "ImagePart",
    "MediaPart",
    "TextPart",
    "VideoPart",
    "sniff_media_type",
]


class _Part(BaseModel):
    # Bytes travel as base64 in JSON, so every session store keeps a part byte for byte.
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        defer_build=True,
        ser_json_bytes="base64",
        val_json_bytes="base64",
    )


class TextPart(_Part):
    """Text within a list of parts."""

    type: Literal["text"] = "text"
    text: str = Field(description="The text.")
    cache: bool = Field(
        default=False,
        description="Mark a prompt-cache breakpoint after this part (Anthropic cache_control); "
        "providers that cache on their own ignore it.",
    )


# Signatures of the formats a model is usually given, for bytes that come without a name.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"ID3", "audio/mpeg"),
    (b"\xff\xfb", "audio/mpeg"),
    (b"\xff\xf3", "audio/mpeg"),
    (b"OggS", "audio/ogg"),
    (b"fLaC", "audio/flac"),
    (b"\x00\x00\x01\xba", "video/mpeg"),  # an MPEG program stream
    (b"\x00\x00\x01\xb3", "video/mpeg"),  # an MPEG-1/2 video sequence
    (b"FLV\x01", "video/x-flv"),
    (b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", "video/x-ms-wmv"),  # ASF, WMV's container
)
# RIFF containers name their format at byte 8.
_RIFF = {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}
# ISO media files (MP4, QuickTime, 3GPP) start with an ``ftyp`` box naming a brand. HEIF images
# share the box, so a brand not listed here is told by the file's name instead.
_BRANDS = {
    **dict.fromkeys(
        (b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"dash"),
        "video/mp4",
    ),
    **dict.fromkeys((b"M4V ", b"M4VH", b"M4VP", b"MSNV", b"mmp4"), "video/mp4"),
    b"qt  ": "video/quicktime",
    **dict.fromkeys((b"3gp4", b"3gp5", b"3gp6", b"3ge6", b"3gg6"), "video/3gpp"),
    **dict.fromkeys((b"3g2a", b"3g2b", b"3g2c"), "video/3gpp2"),
    **dict.fromkeys((b"M4A ", b"M4B "), "audio/mp4"),
}
_EBML = b"\x1a\x45\xdf\xa3"  # Matroska's header; WebM is Matroska with doc type "webm"


def _container_type(data: bytes) -> str | None:
    """The media type of a container format told by a field after its first bytes."""
    if data.startswith(b"RIFF"):
        return _RIFF.get(data[8:12])
    if data[4:8] == b"ftyp":
        return _BRANDS.get(data[8:12])
    if data.startswith(_EBML):
        return "video/webm" if b"webm" in data[:64] else "video/x-matroska"
    return None


def sniff_media_type(data: bytes, filename: str | None = None) -> str | None:
    """The media type of ``data`` from its first bytes, else from ``filename``'s suffix."""
    found = _container_type(data)
    if found is not None:
        return found
    for magic, media_type in _MAGIC:
        if data.startswith(magic):
            return media_type
    if filename is not None:
        guessed, _ = mimetypes.guess_type(filename)
        return guessed
    return None


class MediaPart(_Part):
    """An image, audio clip, document or video: from a URL, bytes, or a provider's file."""

    kind: ClassVar[str] = "media"
    """The family of media types the part takes (``image``, ``audio``, ``document``, ``video``)."""

    url: str | None = Field(default=None, description="Where the provider fetches it from.")
    data: bytes | None = Field(default=None, description="The content itself.", repr=False)
    media_type: str | None = Field(
        default=None, description="IANA media type (``image/png``); required with ``data``."
    )
    file_id: str | None = Field(
        default=None, description="A file already uploaded to the provider (its id or URI)."
    )
    provider_options: dict[str, Any] = Field(
        default_factory=dict,
        description="Deep-merged last into the JSON object the provider sends for this part: "
        "what the provider takes and Aether does not model (Gemini videoMetadata, Anthropic "
        "citations). Kept in the JSON dump, so a session replays the part as it was sent.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        given = [name for name in ("url", "data", "file_id") if getattr(self, name) is not None]
        name = type(self).__name__
        if len(given) != 1:
            raise ValueError(
                f"{name} takes exactly one of url=, data= (with media_type=) or file_id=; "
                f"got {', '.join(given) or 'none'}."
            )
        if self.data is not None and not self.media_type:
            raise ValueError(
                f"{name}(data=...) needs media_type= (e.g. 'image/png'); "
                f"{name}.from_path(...) finds it for you."
            )
        return self

    def __repr_args__(self) -> Any:
        for key, value in super().__repr_args__():
            if key == "url" and isinstance(value, str) and value.startswith("data:"):
                value = value[:40] + "..."
            if key == "provider_options":
                # Names only: the values may be large, and say nothing about which part it is.
                if not value:
                    continue
                value = sorted(value)
            yield key, value
        if self.data is not None:
            yield "size", len(self.data)

    @property
    def base64_data(self) -> str:
        """``data`` as base64 text (what every provider's JSON carries); '' for a URL or file."""
        return base64.b64encode(self.data).decode("ascii") if self.data is not None else ""

    @classmethod
    def from_path(cls, path: str | Path, *, media_type: str | None = None) -> Self:
        """Read a file into a part; the media type is sniffed from its bytes, else its name."""
        file = Path(path)
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise ConfigurationError(
                f"{cls.__name__}.from_path could not read {str(path)!r}: {exc.strerror}."
            ) from None
        chosen = media_type or sniff_media_type(data, file.name)
        if chosen is None:
            raise ConfigurationError(
                f"The media type of {str(path)!r} could not be told from its content or name; "
                f"pass media_type=..."
            )
        return cls(data=data, media_type=chosen)

    @classmethod
    def from_data_url(cls, url: str) -> Self:
        """A part from ``data:<media type>;base64,<data>``."""
        head, sep, payload = url.partition(",")
        if not head.startswith("data:") or not sep or not head.endswith(";base64"):
            raise ConfigurationError(
                f"A data URL looks like 'data:image/png;base64,<base64 data>'; got {url[:40]!r}..."
            )
        try:
            data = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise ConfigurationError("The data URL's payload is not valid base64.") from None
        return cls(data=data, media_type=head[5:-7] or None)


class ImagePart(MediaPart):
    """An image in a message."""

    kind: ClassVar[str] = "image"
    type: Literal["image"] = "image"
    detail: Literal["auto", "low", "high"] | None = Field(
        default=None, description="OpenAI's resolution hint; other providers ignore it."
    )


class AudioPart(MediaPart):
    """An audio clip in a message."""

    kind: ClassVar[str] = "audio"
    type: Literal["audio"] = "audio"


class DocumentPart(MediaPart):
    """A document in a message: a PDF, or plain text."""

    kind: ClassVar[str] = "document"
    type: Literal["document"] = "document"
    filename: str | None = Field(
        default=None, description="A name for the document (OpenAI's file parts want one)."
    )


class VideoPart(MediaPart):
    """A video in a message: a clip's bytes, a URL (Gemini takes YouTube links) or a file."""

    kind: ClassVar[str] = "video"
    type: Literal["video"] = "video"


ContentPart = Annotated[
    TextPart | ImagePart | AudioPart | DocumentPart | VideoPart, Field(discriminator="type")
]
"""One part of a message's content."""
