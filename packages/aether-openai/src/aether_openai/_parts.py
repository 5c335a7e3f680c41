"""Message content as Chat Completions content parts: text, images, audio, documents.

Images, audio and documents go in user messages only (the API takes no media from the system,
the assistant or a tool): a tool that fetched a file hands it over in a user message after its
result. Whatever a model or the API cannot take is a :class:`~aether.errors.ConfigurationError`
raised before anything is sent, naming the part and what is accepted instead. Bytes go into the
body as :class:`~aether.http.Base64Data` (a data URL, or bare base64 for audio), which the HTTP
client writes with one base64 encoding and no JSON pass over it. The API takes no video: a
video part is refused. A media part's ``provider_options`` is merged into its part last
(``{"image_url": {"detail": "low"}}``).

A ``TextPart(cache=True)`` becomes ``prompt_cache_breakpoint`` on that part for a model that
takes explicit breakpoints (:func:`~aether_openai._models.takes_cache_breakpoints`); other
models cache prompt prefixes on their own, and the mark is left out with a one-time warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aether.config import warn_once
from aether.errors import ConfigurationError
from aether.http import Base64Data
from aether.llm.contracts import Message
from aether.llm.models import ModelTraits
from aether.llm.parts import (
    AudioPart,
    ContentPart,
    DocumentPart,
    ImagePart,
    MediaPart,
    TextPart,
    VideoPart,
)
from aether.llm.settings import deep_merge
from aether_openai._log import logger
from aether_openai._models import takes_cache_breakpoints

__all__ = [
    "Target",
    "assistant_text",
    "breakpoint_marker",
    "content_to_wire",
    "part_to_wire",
]

_AUDIO_FORMATS = {
    "audio/wav": "wav",
    "audio/wave": "wav",
    "audio/x-wav": "wav",
    "audio/vnd.wave": "wav",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
}
_PDF = "application/pdf"


@dataclass(frozen=True, slots=True)
class Target:
    """The model a request goes to, and its traits (looked up once per request)."""

    model: str
    traits: ModelTraits

    @property
    def breakpoints(self) -> bool:
        """Whether the model takes explicit prompt-cache breakpoints."""
        return takes_cache_breakpoints(self.traits)

    def refuse(self, what: str, accepted: str) -> ConfigurationError:
        """The error for a part the API cannot take in this form."""
        return ConfigurationError(
            f"The openai model {self.model!r} cannot take {what}; {accepted}."
        )

    def lacks(self, kind: str, instead: str) -> ConfigurationError:
        """The error for a kind of part this model does not take, by its traits."""
        return self.refuse(
            f"{kind} parts",
            f"{instead}. If the model does take them, register its traits on aether_openai.MODELS",
        )


def breakpoint_marker() -> dict[str, str]:
    """The ``prompt_cache_breakpoint`` value (a new dict each time: bodies are never shared)."""
    return {"mode": "explicit"}


def content_to_wire(message: Message, target: Target) -> str | list[dict[str, Any]]:
    """``message.content`` for a system, user or tool message.

    A string stays a string. A list of parts stays a list for a user message; for a system or
    tool message (which take text parts only) it is joined into one string, unless a part
    carries a cache breakpoint the model takes, which needs the parts.

    Raises:
        ConfigurationError: A media part outside a user message, or one the model or the API
            cannot take.
    """
    content = message.content
    if isinstance(content, str):
        return content
    if message.role == "user":
        return [part_to_wire(part, target) for part in content]
    _refuse_media(message)
    if any(isinstance(part, TextPart) and part.cache for part in content) and target.breakpoints:
        return [_text_part(part, target) for part in content if isinstance(part, TextPart)]
    _note_cache_marks(content, target)
    return message.text


def assistant_text(message: Message, target: Target) -> str:
    """An assistant message's text; the API takes no media and no breakpoint there.

    Raises:
        ConfigurationError: The message holds media.
    """
    content = message.content
    if isinstance(content, str):
        return content
    _refuse_media(message)
    if any(isinstance(part, TextPart) and part.cache for part in content):
        warn_once(
            logger,
            "assistant-cache",
            "A TextPart(cache=True) in an assistant message has no effect with OpenAI (it "
            "takes cache breakpoints in system, user and tool messages only); it was left out.",
        )
    return message.text


def _refuse_media(message: Message) -> None:
    media = message.media
    if media:
        raise ConfigurationError(
            f"OpenAI takes images, audio and documents in user messages only, but the "
            f"{message.role!r} message holds one ({type(media[0]).__name__}). Send it in a "
            f"user message (after the tool's result, for a file a tool fetched)."
        )


def part_to_wire(part: ContentPart, target: Target) -> dict[str, Any]:
    """One part of a user message.

    Raises:
        ConfigurationError: The model or the API cannot take the part as given.
    """
    if isinstance(part, TextPart):
        return _text_part(part, target)
    if isinstance(part, ImagePart):
        wire = _image(part, target)
    elif isinstance(part, AudioPart):
        wire = _audio(part, target)
    elif isinstance(part, DocumentPart):
        wire = _document(part, target)
    elif isinstance(part, VideoPart):
        raise target.refuse(
            f"a VideoPart {_given(part)}",
            "Chat Completions takes no video, only text, images, audio (WAV, MP3) and "
            "documents: send frames of it as ImageParts, or use a provider that takes video "
            "(aether-gemini)",
        )
    else:  # pragma: no cover - the union is closed
        raise TypeError(f"Not a content part: {part!r}")
    return deep_merge(wire, part.provider_options) if part.provider_options else wire


def _text_part(part: TextPart, target: Target) -> dict[str, Any]:
    wire: dict[str, Any] = {"type": "text", "text": part.text}
    if part.cache:
        if target.breakpoints:
            wire["prompt_cache_breakpoint"] = breakpoint_marker()
        else:
            _note_cache_marks([part], target)
    return wire


def _note_cache_marks(parts: list[ContentPart], target: Target) -> None:
    if any(isinstance(part, TextPart) and part.cache for part in parts):
        warn_once(
            logger,
            f"cache-mark:{target.model}",
            f"TextPart(cache=True) has no effect on the openai model {target.model!r}: it caches "
            f"prompt prefixes on its own (explicit breakpoints need gpt-5.6 or later, or "
            f"OpenAIModelTraits(cache_breakpoints=True) registered on aether_openai.MODELS). "
            f"The mark was left out.",
        )


def _media_type(part: MediaPart) -> str:
    return (part.media_type or "").split(";", 1)[0].strip().lower()


def _given(part: MediaPart) -> str:
    """How ``part`` was given, for an error (never the URL itself: it may carry a token)."""
    if part.url is not None:
        return "given by URL"
    if part.file_id is not None:
        return f"given by file_id {part.file_id!r}"
    return f"of type {part.media_type!r}"


def _data_url(part: MediaPart) -> Base64Data:
    """``data:<media type>;base64,<data>``, encoded once, as the body is written."""
    assert part.data is not None
    return Base64Data(part.data, prefix=f"data:{_media_type(part)};base64,")


def _image(part: ImagePart, target: Target) -> dict[str, Any]:
    if not target.traits.image_input:
        raise target.lacks("image", "send text only, or use a model that takes images")
    if part.file_id is not None:
        raise target.refuse(
            f"an ImagePart {_given(part)}",
            "Chat Completions takes images by URL or as data: pass ImagePart(url=...) or "
            "ImagePart(data=..., media_type=...)",
        )
    image: dict[str, Any] = {"url": part.url if part.url is not None else _data_url(part)}
    if part.detail is not None:
        image["detail"] = part.detail
    return {"type": "image_url", "image_url": image}


def _audio(part: AudioPart, target: Target) -> dict[str, Any]:
    if not target.traits.audio_input:
        raise target.lacks("audio", "use an audio model such as gpt-4o-audio-preview")
    audio_format = _AUDIO_FORMATS.get(_media_type(part))
    if part.data is None or audio_format is None:
        raise target.refuse(
            f"an AudioPart {_given(part)}",
            "Chat Completions takes audio as WAV or MP3 data: pass AudioPart(data=..., "
            "media_type='audio/wav' or 'audio/mpeg'), e.g. AudioPart.from_path('clip.mp3')",
        )
    return {
        "type": "input_audio",
        "input_audio": {"data": Base64Data(part.data), "format": audio_format},
    }


def _document(part: DocumentPart, target: Target) -> dict[str, Any]:
    media_type = _media_type(part)
    if part.data is not None and media_type.startswith("text/"):
        return {"type": "text", "text": _decoded(part)}
    if not target.traits.document_input:
        raise target.lacks("document", "send the text instead, or use a model that reads PDFs")
    if part.file_id is not None:
        return {"type": "file", "file": {"file_id": part.file_id}}
    if part.data is None or media_type != _PDF:
        raise target.refuse(
            f"a DocumentPart {_given(part)}",
            "Chat Completions takes PDF data (DocumentPart(data=..., media_type="
            "'application/pdf')), an uploaded file (file_id=...) or plain text (text/*)",
        )
    return {
        "type": "file",
        "file": {"filename": part.filename or "document.pdf", "file_data": _data_url(part)},
    }


def _decoded(part: DocumentPart) -> str:
    assert part.data is not None
    try:
        return part.data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigurationError(
            f"A DocumentPart of type {part.media_type!r} is sent to OpenAI as text, but its "
            f"data is not UTF-8: decode it yourself and pass the text."
        ) from None
