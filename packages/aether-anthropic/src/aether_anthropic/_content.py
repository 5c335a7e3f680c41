"""A message's content as Messages API blocks: text, ``image`` and ``document`` (no I/O here).

Images come as ``base64`` (bytes), ``url`` or ``file`` (an id from Anthropic's Files API)
sources, in JPEG, PNG, GIF or WebP. Documents are PDFs (``base64``, ``url`` or ``file``) or
plain text (a ``text`` source); a document's ``filename`` is its ``title``. A ``data:`` URL is
sent as the bytes it holds. Anthropic takes no audio and no video: such a part is refused before
anything is sent, as is media where the API takes text only (system prompts, the assistant's
turns). A media part's ``provider_options`` is merged into its block last (``cache_control``,
a document's ``citations`` or ``context``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aether.errors import ConfigurationError
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
from aether_anthropic._models import ClaudeTraits

__all__ = ["CACHE_CONTROL", "FILES_BETA", "needs_files_beta", "text_blocks", "user_blocks"]

CACHE_CONTROL = {"type": "ephemeral"}
"""What marks a prompt-cache breakpoint on a block (the API's default five-minute TTL)."""

FILES_BETA = "files-api-2025-04-14"
"""The ``anthropic-beta`` value without which the API refuses a ``file`` source."""

_IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")


def _text_block(part: TextPart) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "text", "text": part.text}
    if part.cache:
        block["cache_control"] = dict(CACHE_CONTROL)
    return block


def _parts(content: str | Sequence[ContentPart]) -> list[ContentPart]:
    return [TextPart(text=content)] if isinstance(content, str) else list(content)


def text_blocks(content: str | Sequence[ContentPart], *, where: str) -> list[dict[str, Any]]:
    """Text blocks of content that may hold text only (a system prompt, an assistant turn).

    Empty text is left out: the API rejects an empty text block.

    Raises:
        ConfigurationError: The content holds a media part.
    """
    blocks = []
    for part in _parts(content):
        if isinstance(part, MediaPart):
            raise ConfigurationError(
                f"Anthropic takes text only in {where}, not media ({type(part).__name__}): put "
                f"it in a user message (or a tool result) instead."
            )
        if part.text:
            blocks.append(_text_block(part))
    return blocks


def user_blocks(
    content: str | Sequence[ContentPart], *, model: str, traits: ClaudeTraits
) -> list[dict[str, Any]]:
    """Blocks of a user turn's (or a tool result's) content, in order; empty text left out.

    Raises:
        ConfigurationError: An audio or video part, an image or document of a type the API
            does not take, or media the model does not take (its :class:`ClaudeTraits`).
    """
    blocks = []
    for part in _parts(content):
        if isinstance(part, TextPart):
            if part.text:
                blocks.append(_text_block(part))
            continue
        if isinstance(part, ImagePart):
            _check_model(part, model, traits.image_input)
            block: dict[str, Any] = {"type": "image", "source": _image_source(part)}
        elif isinstance(part, DocumentPart):
            _check_model(part, model, traits.document_input)
            block = _document(part)
        else:
            raise _not_taken(part, model)
        options = part.provider_options
        blocks.append(deep_merge(block, options) if options else block)
    return blocks


def needs_files_beta(parts: Sequence[object]) -> bool:
    """Whether any of ``parts`` is sent as a ``file`` source (Anthropic's Files API)."""
    return any(isinstance(part, MediaPart) and part.file_id is not None for part in parts)


def _not_taken(part: AudioPart | VideoPart, model: str) -> ConfigurationError:
    """The error for a part of a kind the Messages API has no block for."""
    if isinstance(part, AudioPart):
        what, article, instead = "audio", "an", "transcribe it first and send the text"
    else:
        what, article, instead = "video", "a", "send frames of it as ImageParts"
    return ConfigurationError(
        f"Anthropic's Messages API takes no {what}, but the call to {model!r} holds "
        f"{article} {type(part).__name__}; it takes text, images and PDF or text documents. "
        f"Remove the {what}, or {instead}."
    )


def _check_model(part: MediaPart, model: str, takes: bool) -> None:
    if not takes:
        raise ConfigurationError(
            f"The anthropic model {model!r} takes no {part.kind} parts (its row in "
            f"aether_anthropic.MODELS says {part.kind}_input=False); remove the "
            f"{type(part).__name__}, or use a model that takes it."
        )


def _inline(part: MediaPart) -> MediaPart | None:
    """The part holding the bytes to send inline: ``part`` itself, or its ``data:`` URL's."""
    if part.data is not None:
        return part
    if part.url is not None and part.url.startswith("data:"):
        return type(part).from_data_url(part.url)
    return None


def _image_source(part: ImagePart) -> dict[str, Any]:
    if part.file_id is not None:
        return {"type": "file", "file_id": part.file_id}
    inline = _inline(part)
    if inline is None:
        return {"type": "url", "url": part.url}
    media_type = inline.media_type or ""
    if media_type not in _IMAGE_TYPES:
        raise ConfigurationError(
            f"Anthropic takes JPEG, PNG, GIF or WebP images, not {media_type!r}: convert the "
            f"image to one of {', '.join(_IMAGE_TYPES)}."
        )
    return {"type": "base64", "media_type": media_type, "data": inline.base64_data}


def _document(part: DocumentPart) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "document", "source": _document_source(part)}
    if part.filename:
        block["title"] = part.filename
    return block


def _document_source(part: DocumentPart) -> dict[str, Any]:
    if part.file_id is not None:
        return {"type": "file", "file_id": part.file_id}
    inline = _inline(part)
    if inline is None:
        return {"type": "url", "url": part.url}  # the API fetches PDFs by URL
    media_type = inline.media_type or ""
    if media_type == "application/pdf":
        return {"type": "base64", "media_type": media_type, "data": inline.base64_data}
    if media_type.startswith("text/"):
        try:
            text = (inline.data or b"").decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigurationError(
                f"A {media_type} DocumentPart is sent to Anthropic as text and must be UTF-8; "
                f"decode it and send the text, or send a PDF."
            ) from None
        return {"type": "text", "media_type": "text/plain", "data": text}
    raise ConfigurationError(
        f"Anthropic takes PDF or plain-text documents, not {media_type!r}: convert it to a PDF, "
        f"or send its text."
    )
