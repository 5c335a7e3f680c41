"""The ``generateContent`` body for rich requests: parts, sampling, thinking, tools, caching."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from aether.config import forget_warnings
from aether.errors import BadRequestError, ConfigurationError
from aether.llm.contracts import LLMRequest, Message, ToolCall, ToolSpec
from aether.llm.models import ModelTraits
from aether.llm.parts import AudioPart, DocumentPart, ImagePart, TextPart, VideoPart
from aether_gemini import MODELS, GeminiTraits
from aether_gemini._request import build_payload
from aether_gemini._schema import DeclarationCache

FLASH = "gemini-2.5-flash"
PNG = b"\x89PNG\r\n\x1a\n0000"


@pytest.fixture(autouse=True)
def _fresh_notes() -> Iterator[None]:
    forget_warnings()  # a note an earlier test caused is said again here
    yield
    forget_warnings()


@pytest.fixture
def models(monkeypatch: pytest.MonkeyPatch) -> Any:
    """:data:`MODELS`, whose rows registered in a test are gone after it."""
    monkeypatch.setattr(MODELS, "_rows", dict(MODELS._rows))
    return MODELS


def body(*messages: Message | str, model: str = FLASH, **fields: Any) -> dict[str, Any]:
    conversation = [Message(role="user", content=m) if isinstance(m, str) else m for m in messages]
    request = LLMRequest(messages=conversation or [Message(role="user", content="hi")], **fields)
    return build_payload(request, model, DeclarationCache())


def user(*parts: Any) -> Message:
    return Message(role="user", content=list(parts))


def generation(model: str = FLASH, **fields: Any) -> dict[str, Any]:
    return body(model=model, **fields).get("generationConfig", {})


# --- content parts ---------------------------------------------------------------------------


def test_bytes_are_inline_data_and_urls_and_files_are_file_data() -> None:
    parts = body(
        user(
            TextPart(text="Look:"),
            ImagePart(data=PNG, media_type="image/png"),
            AudioPart(url="https://example.com/a/clip.mp3?sig=1"),
            DocumentPart(file_id="files/abc123", media_type="application/pdf"),
            DocumentPart(file_id="https://host.example/v1beta/files/x", media_type="text/plain"),
            ImagePart(url="data:image/png;base64," + base64.b64encode(PNG).decode()),
        )
    )["contents"][0]["parts"]
    assert parts == [
        {"text": "Look:"},
        {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(PNG).decode()}},
        # The media type told by the URL's name, its query aside.
        {"fileData": {"mimeType": "audio/mpeg", "fileUri": "https://example.com/a/clip.mp3?sig=1"}},
        {
            "fileData": {
                "mimeType": "application/pdf",
                "fileUri": "https://generativelanguage.googleapis.com/v1beta/files/abc123",
            }
        },
        {"fileData": {"mimeType": "text/plain", "fileUri": "https://host.example/v1beta/files/x"}},
        {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(PNG).decode()}},
    ]


def test_a_url_whose_media_type_cannot_be_told_asks_for_it() -> None:
    with pytest.raises(
        ConfigurationError, match=r"ImagePart\('https://example.com/photo'\).*media_type="
    ):
        body(user(ImagePart(url="https://example.com/photo")))
    with pytest.raises(ConfigurationError, match="pass media_type"):
        body(user(DocumentPart(file_id="files/abc")))


def test_a_data_url_without_a_media_type_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="ImagePart's data URL names no media type"):
        body(user(ImagePart(url="data:;base64,AAAA")))


def test_a_part_must_hold_media_of_its_kind() -> None:
    with pytest.raises(
        ConfigurationError,
        match=r"ImagePart\(media_type='application/pdf'\), but that part holds image/\* media",
    ):
        body(user(ImagePart(data=b"%PDF-", media_type="application/pdf")))


def test_media_in_model_turns_and_tool_results_is_sent_in_order() -> None:
    call = ToolCall(id="c1", name="render", arguments={})
    contents = body(
        "Draw a square.",
        Message(role="assistant", content=[ImagePart(data=PNG, media_type="image/png")]),
        "Now render it.",
        Message(role="assistant", tool_calls=[call]),
        Message(
            role="tool",
            tool_call_id="c1",
            content=[TextPart(text="rendered"), ImagePart(data=PNG, media_type="image/png")],
        ),
    )["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user", "model", "user"]
    assert "inlineData" in contents[1]["parts"][0]
    assert contents[4]["parts"][0] == {
        "functionResponse": {"name": "render", "response": {"result": "rendered"}, "id": "c1"}
    }
    assert contents[4]["parts"][1]["inlineData"]["mimeType"] == "image/png"


def test_media_in_a_system_message_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="systemInstruction takes text only"):
        body(Message(role="system", content=[ImagePart(data=PNG, media_type="image/png")]), "hi")


def test_a_model_without_a_kind_of_input_refuses_it(models: Any) -> None:
    models.register("deaf-", GeminiTraits(audio_input=False))
    with pytest.raises(ConfigurationError, match="model 'deaf-1' takes no audio parts"):
        body(user(AudioPart(data=b"ID3", media_type="audio/mpeg")), model="deaf-1")


def test_an_empty_user_turn_is_an_empty_text_part_not_dropped() -> None:
    sent = body(Message(role="system", content="Tell jokes."), "", model="gemini-3-flash-preview")
    assert sent["contents"] == [{"role": "user", "parts": [{"text": ""}]}]
    assert body(user(TextPart(text="")))["contents"] == [{"role": "user", "parts": [{"text": ""}]}]


# --- video and a part's own options ---------------------------------------------------------

MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomavc1"
CLIP = {"videoMetadata": {"startOffset": "12s", "endOffset": "40s", "fps": 0.5}}


def test_a_video_goes_by_url_inline_or_as_an_uploaded_file() -> None:
    parts = body(
        user(
            TextPart(text="Explain this video."),
            VideoPart(url="https://www.youtube.com/watch?v=lCdaVNyHtjU", media_type="video/mp4"),
            VideoPart(url="https://example.com/clips/launch.mov"),
            VideoPart(data=MP4, media_type="video/mp4"),
            VideoPart(file_id="files/vid42", media_type="video/webm"),
        )
    )["contents"][0]["parts"]
    assert parts == [
        {"text": "Explain this video."},
        {
            "fileData": {
                "mimeType": "video/mp4",
                "fileUri": "https://www.youtube.com/watch?v=lCdaVNyHtjU",
            }
        },
        # The media type told by the URL's name.
        {
            "fileData": {
                "mimeType": "video/quicktime",
                "fileUri": "https://example.com/clips/launch.mov",
            }
        },
        {"inlineData": {"mimeType": "video/mp4", "data": base64.b64encode(MP4).decode()}},
        {
            "fileData": {
                "mimeType": "video/webm",
                "fileUri": "https://generativelanguage.googleapis.com/v1beta/files/vid42",
            }
        },
    ]


def test_video_metadata_from_provider_options_sits_beside_the_data() -> None:
    by_url, inline, from_data_url = body(
        user(
            VideoPart(
                url="https://youtu.be/lCdaVNyHtjU", media_type="video/mp4", provider_options=CLIP
            ),
            VideoPart(data=MP4, media_type="video/mp4", provider_options=CLIP),
            VideoPart(
                url="data:video/mp4;base64," + base64.b64encode(MP4).decode(),
                provider_options=CLIP,
            ),
        )
    )["contents"][0]["parts"]
    assert by_url == {
        "fileData": {"mimeType": "video/mp4", "fileUri": "https://youtu.be/lCdaVNyHtjU"},
        **CLIP,
    }
    assert inline == {
        "inlineData": {"mimeType": "video/mp4", "data": base64.b64encode(MP4).decode()},
        **CLIP,
    }
    assert from_data_url == inline  # the options outlive reading the data URL


def test_a_parts_options_merge_into_what_aether_built_not_over_it() -> None:
    (part,) = body(
        user(
            ImagePart(
                url="https://example.com/scan.png",
                provider_options={
                    "fileData": {"displayName": "scan"},
                    "mediaResolution": {"level": "MEDIA_RESOLUTION_LOW"},
                },
            )
        )
    )["contents"][0]["parts"]
    assert part == {
        "fileData": {
            "mimeType": "image/png",
            "fileUri": "https://example.com/scan.png",
            "displayName": "scan",
        },
        "mediaResolution": {"level": "MEDIA_RESOLUTION_LOW"},
    }


def test_a_video_url_whose_type_cannot_be_told_asks_for_a_video_type() -> None:
    with pytest.raises(
        ConfigurationError,
        match=r"VideoPart\('https://youtu.be/x'\).*VideoPart\(url=..., media_type='video/mp4'\)",
    ):
        body(user(VideoPart(url="https://youtu.be/x")))


def test_a_video_part_must_hold_video() -> None:
    with pytest.raises(
        ConfigurationError,
        match=r"VideoPart\(media_type='audio/mpeg'\), but that part holds video/\* media",
    ):
        body(user(VideoPart(data=b"ID3", media_type="audio/mpeg")))


def test_a_model_without_video_input_refuses_it(models: Any) -> None:
    models.register("blind-", GeminiTraits(video_input=False))
    with pytest.raises(ConfigurationError, match="model 'blind-1' takes no video parts"):
        body(user(VideoPart(data=MP4, media_type="video/mp4")), model="blind-1")
    assert GeminiTraits().video_input


# --- sampling --------------------------------------------------------------------------------


def test_sampling_settings_go_in_generation_config() -> None:
    sent = generation(
        temperature=0.1, top_p=0.2, seed=7, presence_penalty=0.3, frequency_penalty=0.4
    )
    assert sent == {
        "temperature": 0.1,
        "topP": 0.2,
        "seed": 7,
        "presencePenalty": 0.3,
        "frequencyPenalty": 0.4,
    }


def test_the_default_temperature_is_sent_only_where_it_serves_the_model() -> None:
    assert generation(default_temperature=0.7) == {"temperature": 0.7}
    # Gemini 3 loops below its own 1.0: a default is not sent, a chosen temperature is.
    assert generation("gemini-3-pro-preview", default_temperature=0.7) == {}
    assert generation("gemini-3-pro-preview", temperature=0.5) == {"temperature": 0.5}
    assert generation("gemini-flash-latest", default_temperature=0.7) == {}  # may be a 3


def test_a_fixed_sampling_model_drops_a_default_and_refuses_a_setting() -> None:
    assert generation("gemini-3.5-flash-lite", default_temperature=0.7) == {}
    with pytest.raises(ConfigurationError, match=r"'gemini-3\.5-flash-lite' takes no presence"):
        generation("gemini-3.5-flash-lite", presence_penalty=0.5)


# --- thinking --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "reasoning", "config"),
    [
        ("gemini-3-flash-preview", {"effort": "minimal"}, {"thinkingLevel": "MINIMAL"}),
        ("gemini-3-pro-preview", {"effort": "high"}, {"thinkingLevel": "HIGH"}),
        ("gemini-3-pro-preview", {"budget_tokens": 4096}, {"thinkingBudget": 4096}),
        (FLASH, {"effort": "minimal"}, {"thinkingBudget": 0}),
        (FLASH, {"effort": "low"}, {"thinkingBudget": 1024}),
        (FLASH, {"effort": "medium"}, {"thinkingBudget": 8192}),
        (FLASH, {"effort": "high"}, {"thinkingBudget": 24576}),
        ("gemini-2.5-pro", {"effort": "high"}, {"thinkingBudget": 32768}),
        ("gemini-2.5-flash-lite", {"budget_tokens": 0}, {"thinkingBudget": 0}),
        (
            FLASH,
            {"budget_tokens": 2048, "include_thoughts": True},
            {"thinkingBudget": 2048, "includeThoughts": True},
        ),
        ("gemini-2.5-pro", {"include_thoughts": False}, {"includeThoughts": False}),
        ("gemini-flash-latest", {"effort": "low"}, {"thinkingBudget": 1024}),
        ("gemini-2.0-flash", {"budget_tokens": 0, "include_thoughts": False}, None),
    ],
)
def test_reasoning_becomes_thinking_config(
    model: str, reasoning: dict[str, Any], config: dict[str, Any] | None
) -> None:
    assert generation(model, reasoning=reasoning).get("thinkingConfig") == config


@pytest.mark.parametrize(
    ("model", "reasoning", "message"),
    [
        (
            "gemini-3-pro-preview",
            {"effort": "minimal"},
            r"takes reasoning effort low, high, not 'minimal' \(it cannot turn thinking off\)",
        ),
        ("gemini-3-pro-preview", {"budget_tokens": 0}, "cannot turn thinking off"),
        (
            "gemini-2.5-pro",
            {"effort": "minimal"},
            "'minimal' turns thinking off, which the gemini model 'gemini-2.5-pro' cannot do",
        ),
        (
            "gemini-2.5-pro",
            {"budget_tokens": 0},
            "'gemini-2.5-pro' cannot turn thinking off .*128 to 32768 tokens",
        ),
        (
            "gemini-2.5-pro",
            {"budget_tokens": 64},
            "takes a thinking budget of 128 to 32768 tokens; got budget_tokens=64",
        ),
        (FLASH, {"budget_tokens": 30000}, "1 to 24576 tokens, or 0 to turn thinking off; got"),
        (FLASH, {"effort": "low", "budget_tokens": 10}, "effort or budget_tokens, not both"),
        ("gemini-2.0-flash", {"effort": "low"}, "'gemini-2.0-flash' does not think"),
        ("gemini-2.0-flash", {"include_thoughts": True}, "does not think"),
    ],
)
def test_reasoning_a_model_cannot_take_is_refused_before_sending(
    model: str, reasoning: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        generation(model, reasoning=reasoning)


def test_a_plain_model_traits_row_gets_geminis_defaults(models: Any) -> None:
    models.register("tuned-", ModelTraits(reasoning=True))
    assert generation("tuned-1", reasoning={"budget_tokens": 99999}) == {
        "thinkingConfig": {"thinkingBudget": 99999}  # no range known: the API judges
    }
    tool = ToolSpec(name="t", parameters={"type": "object", "properties": {}})
    assert (
        "parametersJsonSchema"
        in body(model="tuned-1", tools=[tool])["tools"][0]["functionDeclarations"][0]
    )


# --- tools -----------------------------------------------------------------------------------

REF_SCHEMA = {
    "$defs": {"Point": {"type": "object", "properties": {"x": {"type": "integer"}}}},
    "type": "object",
    "properties": {
        "at": {"$ref": "#/$defs/Point"},
        "label": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    },
    "required": ["at"],
    "additionalProperties": False,
}


def test_tool_schemas_go_whole_as_json_schema_where_the_model_takes_it() -> None:
    tool = ToolSpec(name="mark", description="Mark a point.", parameters=REF_SCHEMA)
    (declaration,) = body(tools=[tool])["tools"][0]["functionDeclarations"]
    assert declaration == {
        "name": "mark",
        "description": "Mark a point.",
        "parametersJsonSchema": REF_SCHEMA,
    }


def test_gemini_2_0_gets_the_openapi_subset_and_is_told_what_was_lost() -> None:
    tool = ToolSpec(name="mark", parameters=REF_SCHEMA)
    with pytest.warns(Warning, match="'mark'.*additionalProperties"):
        (declaration,) = body(model="gemini-2.0-flash", tools=[tool])["tools"][0][
            "functionDeclarations"
        ]
    assert declaration["parameters"]["properties"]["at"] == {
        "type": "object",
        "properties": {"x": {"type": "integer"}},
    }
    assert declaration["parameters"]["properties"]["label"] == {"type": "string", "nullable": True}


STRICT = ToolSpec(name="a", strict=True)
LOOSE = ToolSpec(name="b")


@pytest.mark.parametrize(
    ("fields", "config"),
    [
        ({"tools": [STRICT, LOOSE]}, {"mode": "VALIDATED"}),
        ({"tools": [STRICT, LOOSE], "tool_choice": "auto"}, {"mode": "VALIDATED"}),
        ({"tools": [STRICT], "tool_choice": "required"}, {"mode": "ANY"}),
        ({"tools": [STRICT], "tool_choice": "none"}, {"mode": "NONE"}),
        ({"tools": [LOOSE], "tool_choice": "auto"}, {"mode": "AUTO"}),
        (
            {"tools": [STRICT, LOOSE], "allowed_tools": ["b"]},
            {"mode": "VALIDATED", "allowedFunctionNames": ["b"]},
        ),
        (
            {"tools": [STRICT, LOOSE], "allowed_tools": ["a", "b"], "tool_choice": "required"},
            {"mode": "ANY", "allowedFunctionNames": ["a", "b"]},
        ),
        (
            {"tools": [STRICT, LOOSE], "allowed_tools": ["a", "b"], "tool_choice": "b"},
            {"mode": "ANY", "allowedFunctionNames": ["b"]},
        ),
        ({"tools": [STRICT, LOOSE], "allowed_tools": []}, {"mode": "NONE"}),
    ],
)
def test_function_calling_config(fields: dict[str, Any], config: dict[str, Any]) -> None:
    sent = body(**fields)
    assert sent["toolConfig"] == {"functionCallingConfig": config}
    assert [d["name"] for d in sent["tools"][0]["functionDeclarations"]] == [
        t.name for t in fields["tools"]
    ]


def test_without_validated_mode_allowed_tools_narrow_the_declarations_and_strict_is_said(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="aether.gemini"):
        sent = body(model="gemini-2.0-flash", tools=[STRICT, LOOSE], allowed_tools=["b"])
        body(model="gemini-2.0-flash", tools=[STRICT])
    assert [d["name"] for d in sent["tools"][0]["functionDeclarations"]] == ["b"]
    assert "toolConfig" not in sent
    (record,) = caplog.records  # once, however many calls
    assert "'gemini-2.0-flash' has no VALIDATED function-calling mode" in record.getMessage()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"tools": [LOOSE], "allowed_tools": ["zzz"]},
            "allowed_tools names 'zzz', which the request does not declare",
        ),
        ({"allowed_tools": ["zzz"]}, "its tools: none"),
        ({"tools": [LOOSE], "allowed_tools": [], "tool_choice": "required"}, "a call of no tool"),
        (
            {"tools": [STRICT, LOOSE], "allowed_tools": ["a"], "tool_choice": "b"},
            "allowed_tools \\('a'\\) leaves out",
        ),
    ],
)
def test_allowed_tools_that_cannot_be_honoured_are_refused(
    fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(BadRequestError, match=message):
        body(**fields)


# --- caching and options ------------------------------------------------------------------------


def test_cached_content_is_named_and_takes_the_place_of_what_it_holds(
    caplog: pytest.LogCaptureFixture,
) -> None:
    conversation = (Message(role="system", content="Be brief."), "hi")
    with caplog.at_level(logging.WARNING, logger="aether.gemini"):
        sent = body(
            *conversation, tools=[LOOSE], tool_choice="auto", cache={"cached_content": "abc"}
        )
        body(*conversation, cache={"cached_content": "cachedContents/abc"})
    assert sent["cachedContent"] == "cachedContents/abc"
    assert not {"systemInstruction", "tools", "toolConfig"} & set(sent)
    (record,) = caplog.records
    assert "no systemInstruction, tools, toolConfig beside cachedContent" in record.getMessage()


def test_other_providers_cache_controls_are_said_once_and_change_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    marked = user(TextPart(text="long context", cache=True), TextPart(text="question"))
    with caplog.at_level(logging.WARNING, logger="aether.gemini"):
        plain = body(marked)
        keyed = body(marked, cache={"key": "tenant-1", "system": True, "messages": True})
        body(marked, cache={"key": "tenant-2"})
    assert keyed == plain
    messages = sorted(r.getMessage() for r in caplog.records)
    assert len(messages) == 2
    assert messages[0].startswith(
        "TextPart(cache=True): cache breakpoints (Anthropic's) have no effect"
    )
    assert "cache 'key' (OpenAI's prompt_cache_key) has no effect on Gemini" in messages[1]
    assert "tenant" not in " ".join(messages)


def test_provider_options_merge_last_into_what_aether_built() -> None:
    sent = body(
        temperature=0.5,
        reasoning={"budget_tokens": 1024},
        provider_options={
            "generationConfig": {
                "responseModalities": ["TEXT"],
                "thinkingConfig": {"includeThoughts": True},
            },
            "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
        },
    )
    assert sent["generationConfig"] == {
        "temperature": 0.5,
        "responseModalities": ["TEXT"],
        "thinkingConfig": {"thinkingBudget": 1024, "includeThoughts": True},
    }
    assert sent["safetySettings"][0]["threshold"] == "BLOCK_NONE"
    assert body(provider_options={"generationConfig": {"temperature": 1.0}}, temperature=0.2)[
        "generationConfig"
    ] == {"temperature": 1.0}
