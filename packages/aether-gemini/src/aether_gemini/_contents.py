"""Aether's messages to Gemini's ``contents`` and ``systemInstruction``.

Gemini speaks ``contents``/``parts`` with roles ``user`` and ``model``; system prompts go in
``systemInstruction``; tool calls are ``functionCall`` parts, tool results ``functionResponse``
parts sent in a user turn. Media travel as ``inlineData`` (bytes, base64) or ``fileData`` (a
URL, a YouTube link for a video, or a file uploaded with the Files API), in user and model turns
alike. A media part's ``provider_options`` is merged into its part last: ``videoMetadata``
(``startOffset``, ``endOffset``, ``fps``) clips a video, ``mediaResolution`` sets the detail.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aether.errors import BadRequestError, ConfigurationError
from aether.llm.contracts import Message, ToolCall
from aether.llm.parts import MediaPart, TextPart
from aether.llm.settings import deep_merge
from aether_gemini._mapping import PROVIDER, SIGNATURE_KEY, SYNTHETIC_ID_PREFIX
from aether_gemini._models import GeminiTraits

__all__ = ["FILES_ROOT", "build_contents", "media_part"]

FILES_ROOT = "https://generativelanguage.googleapis.com/v1beta"
"""Where the Files API keeps uploads: a ``file_id`` such as ``files/abc`` becomes a URI here."""

# A part's kind → the media types it may hold, and the trait that lets a model take it.
_FAMILIES = {
    "image": ("image/",),
    "audio": ("audio/",),
    "document": ("application/", "text/"),
    "video": ("video/",),
}
_TRAIT = {
    "image": "image_input",
    "audio": "audio_input",
    "document": "document_input",
    "video": "video_input",
}
# A media type of each kind, for an error that asks for one.
_EXAMPLE = {
    "image": "image/png",
    "audio": "audio/mpeg",
    "document": "application/pdf",
    "video": "video/mp4",
}


@dataclass
class _Turn:
    role: str
    parts: list[dict[str, Any]] = field(default_factory=list)
    # Per part: where its call sits in the preceding model turn (function responses only).
    order: list[int | None] = field(default_factory=list)


def _wire_id(call_id: str | None) -> str | None:
    if call_id is None or call_id.startswith(SYNTHETIC_ID_PREFIX):
        return None
    return call_id


def _function_call_part(call: ToolCall) -> dict[str, Any]:
    function_call: dict[str, Any] = {"name": call.name, "args": call.arguments}
    wire_id = _wire_id(call.id)
    if wire_id is not None:
        function_call["id"] = wire_id
    part: dict[str, Any] = {"functionCall": function_call}
    signature = call.provider_data.get(SIGNATURE_KEY)
    if isinstance(signature, str):
        # Gemini 3 rejects a tool turn whose calls lost the signature it sent with them.
        part["thoughtSignature"] = signature
    return part


def _response_object(content: str) -> dict[str, Any]:
    try:
        value = json.loads(content)
    except ValueError:
        value = None
    return value if isinstance(value, dict) else {"result": content}


def _function_response_part(message: Message, name: str) -> dict[str, Any]:
    response: dict[str, Any] = {"name": name, "response": _response_object(message.text)}
    wire_id = _wire_id(message.tool_call_id)
    if wire_id is not None:
        response["id"] = wire_id
    return {"functionResponse": response}


def _tool_name(message: Message, calls: Mapping[str, ToolCall]) -> str:
    if message.name:
        return message.name
    call = calls.get(message.tool_call_id or "")
    if call is not None:
        return call.name
    raise BadRequestError(
        f"A tool message (tool_call_id={message.tool_call_id!r}) has no name and answers no "
        f"earlier assistant tool call; Gemini needs the function name. Set Message.name or "
        f"keep the assistant message that made the call in the conversation.",
        provider=PROVIDER,
    )


def _media_type(part: MediaPart, source: str) -> str:
    if part.media_type:
        return part.media_type
    guessed, _ = mimetypes.guess_type(urlsplit(source).path)
    if guessed is None:
        raise ConfigurationError(
            f"Gemini needs the media type of {type(part).__name__}({source[:80]!r}) "
            f"(fileData.mimeType) and it cannot be told from the name: pass media_type=..., "
            f"e.g. {type(part).__name__}(url=..., media_type={_EXAMPLE[part.kind]!r})."
        )
    return guessed


def _file_uri(file_id: str) -> str:
    if "://" in file_id:
        return file_id
    name = file_id if file_id.startswith("files/") else f"files/{file_id}"
    return f"{FILES_ROOT}/{name}"


def media_part(part: MediaPart, model: str, traits: GeminiTraits) -> dict[str, Any]:
    """``inlineData`` for bytes (or a ``data:`` URL), ``fileData`` for a URL or a file id.

    The part's ``provider_options`` are merged in last (``videoMetadata`` beside ``fileData``).

    Raises:
        ConfigurationError: The model takes no parts of this kind, the media type does not
            fit the part, or a URL's media type is neither given nor told by its name.
    """
    kind, options = part.kind, part.provider_options
    if not getattr(traits, _TRAIT[kind]):
        raise ConfigurationError(
            f"The gemini model {model!r} takes no {kind} parts; remove the "
            f"{type(part).__name__}, or use a model that takes it (if this one does, register "
            f"its traits on aether_gemini.MODELS)."
        )
    if part.url is not None and part.url.startswith("data:"):
        try:
            part = type(part).from_data_url(part.url)
        except ValueError:  # the URL names no media type: bytes need one
            raise ConfigurationError(
                f"{type(part).__name__}'s data URL names no media type; write it "
                f"'data:<media type>;base64,<data>'."
            ) from None
    if part.data is not None:
        media_type = _media_type(part, "")
        wire: dict[str, Any] = {"inlineData": {"mimeType": media_type, "data": part.base64_data}}
    else:
        source = part.url if part.url is not None else _file_uri(part.file_id or "")
        media_type = _media_type(part, source)
        wire = {"fileData": {"mimeType": media_type, "fileUri": source}}
    if not media_type.lower().startswith(_FAMILIES[kind]):
        raise ConfigurationError(
            f"Gemini was sent {type(part).__name__}(media_type={media_type!r}), but that part "
            f"holds {' or '.join(p + '*' for p in _FAMILIES[kind])} media: use the part that "
            f"fits the content."
        )
    return deep_merge(wire, options) if options else wire


def _content_parts(message: Message, model: str, traits: GeminiTraits) -> list[dict[str, Any]]:
    content = message.content
    if isinstance(content, str):
        return [{"text": content}] if content else []
    parts: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, TextPart):
            if part.text:
                parts.append({"text": part.text})
        else:
            parts.append(media_part(part, model, traits))
    return parts


def _system_text(message: Message) -> str:
    if message.media:
        raise ConfigurationError(
            "Gemini's systemInstruction takes text only; put the "
            f"{type(message.media[0]).__name__} in a user message instead."
        )
    return message.text


def build_contents(
    messages: list[Message], model: str, traits: GeminiTraits
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """``(contents, systemInstruction)`` for a conversation.

    Consecutive turns of one role are merged (all tool results of one assistant turn go in a
    single user turn) and function responses are put in the order of the calls they answer.
    A user message with no content is sent as one empty text part, as Gemini takes it; an
    assistant message with neither content nor calls carries nothing and is left out.

    Raises:
        BadRequestError: A tool message names no function.
        ConfigurationError: A part the model cannot take (see :func:`media_part`), or media
            in a system message.
    """
    system = [_system_text(m) for m in messages if m.role == "system"]
    system = [text for text in system if text]
    calls: dict[str, ToolCall] = {}
    call_order: dict[str, int] = {}
    turns: list[_Turn] = []
    for message in messages:
        if message.role == "system":
            continue
        role = "model" if message.role == "assistant" else "user"
        parts: list[dict[str, Any]] = []
        order: list[int | None] = []
        if message.role == "tool":
            parts.append(_function_response_part(message, _tool_name(message, calls)))
            order.append(call_order.get(message.tool_call_id or ""))
            # What a tool returned besides text (an image, a PDF) follows the responses.
            parts.extend(media_part(p, model, traits) for p in message.media)
        else:
            parts.extend(_content_parts(message, model, traits))
            if message.role == "user" and not parts:
                parts.append({"text": ""})
            if message.role == "assistant" and message.tool_calls:
                call_order = {}
                for call in message.tool_calls:
                    calls[call.id] = call
                    call_order[call.id] = len(call_order)
                    parts.append(_function_call_part(call))
        order.extend([None] * (len(parts) - len(order)))
        if not parts:
            continue
        if turns and turns[-1].role == role:
            turns[-1].parts.extend(parts)
            turns[-1].order.extend(order)
        else:
            turns.append(_Turn(role, parts, order))
    contents = [{"role": turn.role, "parts": _ordered(turn)} for turn in turns]
    instruction = {"parts": [{"text": "\n\n".join(system)}]} if system else None
    return contents, instruction


def _ordered(turn: _Turn) -> list[dict[str, Any]]:
    if all(position is None for position in turn.order):
        return turn.parts
    # Function responses first, in call order (unknown calls keep their place among them).
    ranked = sorted(
        range(len(turn.parts)),
        key=lambda i: (
            "functionResponse" not in turn.parts[i],
            turn.order[i] if turn.order[i] is not None else len(turn.parts) + i,
            i,
        ),
    )
    return [turn.parts[i] for i in ranked]
