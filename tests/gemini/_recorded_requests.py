"""Each recorded Gemini request written as the Aether request that stands for it.

:data:`EXPRESSIONS` maps a record to its Aether expression: an ``LLMRequest`` with messages,
parts, ``ToolSpec``s and settings. What Aether interprets (roles, text, choices, settings) is
written out; what it must carry untouched is read from the record: media bytes, the model's
earlier tool calls (with their thought signatures), tool parameter schemas, the answer's
schema (an ``OutputSpec``), and safety settings. ``provider_options`` is used only for what
Aether does not model: ``safetySettings`` on a call, a video's ``mediaResolution`` on its part.

:func:`normalise` is the one place where a recorded body and Aether's may differ without a
difference in meaning; :data:`UNCOVERED` lists the records Aether cannot express, and why.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aether.llm.contracts import LLMRequest, Message, OutputSpec, ToolCall, ToolSpec
from aether.llm.parts import DocumentPart, ImagePart, TextPart, VideoPart
from aether_gemini._mapping import SIGNATURE_KEY

__all__ = ["EXPRESSIONS", "UNCOVERED", "Expression", "answer_schema_field", "normalise"]

Body = dict[str, Any]


@dataclass(frozen=True)
class Expression:
    """How to say one recorded request in Aether, and what of the record it leaves aside.

    Attributes:
        build: The request, given the recorded body (for the payload it carries untouched).
        note: What differs from the record and why (shown in the coverage table).
        recorded_only: ``(content, part, key)`` of part fields the record has and Aether, by
            design, does not send.
    """

    build: Callable[[Body], LLMRequest]
    note: str = ""
    recorded_only: tuple[tuple[int, int, str], ...] = ()


# --- reading what Aether carries untouched out of the record -------------------------------


def camel(key: str) -> str:
    """``function_call`` -> ``functionCall``: the API reads both spellings."""
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), key)


def _keys(value: Any) -> Any:
    return {camel(k): v for k, v in value.items()} if isinstance(value, dict) else value


def _part(body: Body, content: int, part: int) -> Body:
    parts = _keys(body["contents"][content])["parts"]
    return {camel(k): _keys(v) for k, v in parts[part].items()}


def call(body: Body, content: int, part: int) -> ToolCall:
    """The model's earlier call, as reading that answer stored it (signature included)."""
    raw = _part(body, content, part)
    signature = raw.get("thoughtSignature")
    function_call = raw["functionCall"]
    return ToolCall(
        id=function_call["id"],
        name=function_call["name"],
        arguments=function_call.get("args") or {},
        provider_data={SIGNATURE_KEY: signature} if signature else {},
    )


def blob(body: Body, content: int, part: int) -> bytes:
    """The bytes of an ``inlineData`` part (the recorders used base64url)."""
    return _bytes(_keys(_part(body, content, part)["inlineData"])["data"])


def _bytes(data: str) -> bytes:
    try:
        return base64.b64decode(data, altchars=b"-_", validate=True)
    except binascii.Error:
        return base64.b64decode(data, validate=True)


def _openapi_types(schema: Any) -> Any:
    """OpenAPI ``"type": "STRING"`` as JSON Schema's ``"string"`` (the enum reads either)."""
    if isinstance(schema, dict):
        return {
            k: (v.lower() if k == "type" and isinstance(v, str) else _openapi_types(v))
            for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [_openapi_types(v) for v in schema]
    return schema


def tool(body: Body, name: str, *, strict: bool = False) -> ToolSpec:
    """The declared tool, its schema as JSON Schema whichever field the record used."""
    for entry in _keys(body["tools"][0])["functionDeclarations"]:
        declared = _keys(entry)
        if declared["name"] == name:
            schema = declared.get("parametersJsonSchema") or declared["parameters"]
            return ToolSpec(
                name=name,
                description=declared.get("description") or "",
                parameters=_openapi_types(schema),
                strict=strict,
            )
    raise KeyError(name)


def _safety(body: Body) -> dict[str, Any]:
    return {"safetySettings": body["safetySettings"]}


def answer(body: Body) -> OutputSpec:
    """The answer's schema the record asked for, as JSON Schema whichever field it used."""
    generation = _keys(body["generationConfig"])
    assert generation["responseMimeType"] == "application/json"
    schema = generation.get("responseJsonSchema")
    if schema is None:
        schema = _openapi_types(generation["responseSchema"])
    return OutputSpec(name=schema.get("title", "answer"), json_schema=schema)


def _tool_result(call_id: str, result: dict[str, Any]) -> Message:
    return Message(role="tool", tool_call_id=call_id, content=json.dumps(result))


def _user(text: str) -> Message:
    return Message(role="user", content=text)


def _system(text: str) -> Message:
    return Message(role="system", content=text)


def _ask(model: str, *messages: Message, **settings: Any) -> LLMRequest:
    return LLMRequest(messages=list(messages), model=model, **settings)


# --- the table ------------------------------------------------------------------------------

_DEFERRED = (
    "The following capabilities are deferred and can be loaded using the `load_capability` "
    "tool. A capability's tools stay hidden until it is loaded:\n- refunds: Refund policy tools."
)
_G3F = "gemini-3-flash-preview"
_G25F = "gemini-2.5-flash"
_LATEST = "gemini-flash-latest"


def _002(b: Body) -> LLMRequest:
    first = call(b, 1, 0)
    return _ask(
        _G3F,
        _system(_DEFERRED),
        _user("Can I get a refund on order-123?"),
        Message(role="assistant", tool_calls=[first]),
        _tool_result(
            first.id,
            {"instructions": "Use the refund policy tool before answering refund questions."},
        ),
        _user("<system>The following tool(s) are now available: `lookup_refund_policy`</system>"),
        # A strict tool under tool_choice auto: Gemini's VALIDATED mode.
        tools=[tool(b, "load_capability"), tool(b, "lookup_refund_policy", strict=True)],
    )


def _010(b: Body) -> LLMRequest:
    first = call(b, 1, 0)
    return _ask(
        "gemini-2.0-flash",
        _system("You are a helpful chatbot."),
        _user("What is the temperature of the capital of France?"),
        Message(role="assistant", tool_calls=[first]),
        _tool_result(first.id, {"return_value": "Paris"}),
        tools=[tool(b, "get_capital"), tool(b, "get_temperature")],
    )


def _018(b: Body) -> LLMRequest:
    first = call(b, 1, 0)
    pdf = DocumentPart(data=blob(b, 3, 0), media_type="application/pdf")
    return _ask(
        _G25F,
        _user(
            "Use the get_file tool now to retrieve a document file, then describe what you "
            "received."
        ),
        Message(role="assistant", tool_calls=[first]),
        _tool_result(first.id, {"return_value": "File attached"}),
        Message(role="user", content=[pdf]),
        tools=[tool(b, "get_file")],
    )


def _019(b: Body) -> LLMRequest:
    first = call(b, 1, 0)
    return _ask(
        _G25F,
        _user("What's the weather in Paris?"),
        Message(role="assistant", tool_calls=[first]),
        _tool_result(first.id, {"return_value": "Sunny, 22C in Paris"}),
        tools=[tool(b, "get_weather")],
        tool_choice="auto",
    )


def _021(b: Body) -> LLMRequest:
    first = call(b, 1, 0)
    return _ask(
        _G25F,
        _user(
            'Record a tree whose root is labelled "root" with two children labelled "a" and '
            '"b", and whose deep value is "hello". Use the record tool.'
        ),
        Message(role="assistant", tool_calls=[first]),
        _tool_result(first.id, {"return_value": 'Recorded tree "root" with 2 children.'}),
        tools=[tool(b, "record", strict=True)],
    )


def _022(b: Body) -> LLMRequest:
    first = call(b, 1, 0)
    return _ask(
        _G3F,
        _user("What is the largest city in the user country?"),
        Message(role="assistant", tool_calls=[first]),
        _tool_result(first.id, {"return_value": "Mexico"}),
        tools=[tool(b, "get_user_country")],
        output=answer(b),
    )


def _026(b: Body) -> LLMRequest:
    first = call(b, 1, 0)
    return _ask(
        _LATEST,
        _user(
            "Add Alice who is 30 years old and lives at 123 Main St, San Francisco, CA 94102 "
            "to the database"
        ),
        Message(role="assistant", tool_calls=[first]),
        _tool_result(
            first.id, {"output": "Added Alice (age 30) living at 123 Main St, San Francisco"}
        ),
        tools=[tool(b, "add_person")],
        reasoning={"include_thoughts": True},
        provider_options=_safety(b),
    )


_SCHEMA_FIELD = "recorded with `parameters`; Aether sends the same schema as parametersJsonSchema"
_ANSWER_FIELD = (
    "recorded with `response_schema`; Aether sends the same schema as responseJsonSchema"
)

EXPRESSIONS: dict[str, Expression] = {
    "001": Expression(lambda b: _ask("gemini-3.6-flahs", _user("hello"))),
    "002": Expression(_002),
    "003": Expression(
        lambda b: _ask(
            "gemini-1.5-flash",
            _user("Hello!"),
            temperature=0.1,
            top_p=0.2,
            presence_penalty=0.3,
            frequency_penalty=0.4,
            max_tokens=1,
        )
    ),
    "004": Expression(
        lambda b: _ask(
            "gemini-2.0-flash-exp",
            _user("What is the location of Potatoland and New York?"),
            tools=[tool(b, "get_location")],
        ),
        note="schema translated to the OpenAPI subset (gemini-2.0)",
    ),
    "005": Expression(lambda b: _ask("gemini-2.0-flash-exp", _user("Hello"))),
    "006": Expression(
        lambda b: _ask(
            "gemini-2.0-flash",
            _user("Tell me about a cat with a meow volume of 5"),
            output=answer(b),
        )
    ),
    "007": Expression(
        lambda b: _ask(
            _G3F,
            _system("Tell three jokes. Generate topics with the generate_topic tool."),
            _user(""),
            tools=[tool(b, "generate_topic"), tool(b, "final_result")],
            tool_choice="required",
            allowed_tools=["generate_topic", "final_result"],
        )
    ),
    "008": Expression(lambda b: _ask(_G25F, _system("You are a chatbot."), _user("Hello!"))),
    "009": Expression(
        lambda b: _ask(
            "gemini-3-pro-preview",
            Message(
                role="user",
                content=[
                    TextPart(text="Explain me this image in one sentence"),
                    ImagePart(data=blob(b, 0, 1), media_type="image/jpeg", detail="high"),
                ],
            ),
        ),
        note="ImagePart.detail is not sent: v1beta refuses a part's mediaResolution (this "
        "record's own 400)",
        recorded_only=((0, 1, "mediaResolution"),),
    ),
    "010": Expression(_010, note="schemas translated to the OpenAPI subset (gemini-2.0)"),
    "011": Expression(
        lambda b: _ask(
            _G25F,
            _system("You are a helpful chatbot."),
            Message(
                role="user",
                content=[
                    TextPart(text="Explain me this video in a few sentences"),
                    VideoPart(
                        url="https://m.youtube.com/watch?v=lCdaVNyHtjU", media_type="video/mp4"
                    ),
                ],
            ),
        )
    ),
    "012": Expression(
        lambda b: _ask(
            "gemini-2.5-pro",
            _system("You are a helpful assistant."),
            _user("How do I cross the street?"),
            tools=[tool(b, "dummy")],
            reasoning={"include_thoughts": True},
        ),
        note=_SCHEMA_FIELD,
    ),
    "013": Expression(
        lambda b: _ask(
            "gemini-3-pro-preview",
            Message(
                role="user",
                content=[
                    TextPart(text="Explain me this video in one sentence"),
                    VideoPart(
                        url="https://youtu.be/lCdaVNyHtjU",
                        media_type="video/mp4",
                        provider_options={"mediaResolution": {"level": "MEDIA_RESOLUTION_HIGH"}},
                    ),
                ],
            ),
        ),
        note="mediaResolution via the part's provider_options, sent as recorded (v1beta "
        "refuses it: this record's own 400)",
    ),
    "014": Expression(
        lambda b: _ask(
            _G25F,
            _user('Create a simple tree with root "A" and two children "B" and "C"'),
            output=answer(b),
        )
    ),
    "015": Expression(
        lambda b: _ask(_G25F, _user("Count from 1 to 30, one number per line, digits only."))
    ),
    "016": Expression(
        lambda b: _ask(
            _G3F,
            _user("What is the largest city in the user country?"),
            tools=[tool(b, "get_user_country")],
            output=answer(b),
        )
    ),
    "017": Expression(
        lambda b: _ask(
            _G3F,
            _user(
                "Use the get_file tool now to retrieve a video file, then describe what you "
                "received."
            ),
            tools=[tool(b, "get_file")],
        )
    ),
    "018": Expression(_018),
    "019": Expression(_019),
    "020": Expression(
        lambda b: _ask(
            _G25F,
            _user("What is the capital of France?"),
            cache={"cached_content": "cachedContents/7lf5him5ev4iemi1yjv2gwli5bhpz3yidzejwllo"},
        )
    ),
    "021": Expression(_021),
    "022": Expression(_022),
    "023": Expression(
        lambda b: _ask(
            _LATEST,
            _user("Create a person named Bob who works at TechCorp"),
            reasoning={"include_thoughts": True},
            output=answer(b),
            provider_options=_safety(b),
        ),
        note=f"safety settings via provider_options; {_ANSWER_FIELD}",
    ),
    "024": Expression(
        lambda b: _ask(
            _LATEST,
            _user("Name for a pet pelican, just the name"),
            reasoning={"include_thoughts": True},
            provider_options=_safety(b),
        ),
        note="safety settings via provider_options",
    ),
    "025": Expression(
        lambda b: _ask(
            _G3F,
            _user("What is 5 times 3?"),
            tools=[tool(b, "multiply")],
            provider_options=_safety(b),
        ),
        note=f"safety settings via provider_options; {_SCHEMA_FIELD}",
    ),
    "026": Expression(_026, note=f"safety settings via provider_options; {_SCHEMA_FIELD}"),
}

UNCOVERED: dict[str, str] = {}


# --- what may differ without meaning ---------------------------------------------------------


def _declaration(raw: Any) -> Body:
    declared = _keys(raw)
    schema = declared.get("parametersJsonSchema")
    if schema is None:
        schema = _openapi_types(declared.get("parameters"))
    out: Body = {"name": declared["name"], "schema": schema}
    if declared.get("description"):
        out["description"] = declared["description"]
    return out


def _content_part(raw: Any) -> Body:
    part = {camel(k): _keys(v) for k, v in raw.items()}
    for key in ("inlineData", "fileData"):
        if key in part:
            part[key] = dict(part[key])
    if "inlineData" in part and "data" in part["inlineData"]:
        part["inlineData"]["data"] = _bytes(part["inlineData"]["data"])
    return part


def _contents(contents: list[Any]) -> list[Body]:
    merged: list[Body] = []
    for raw in contents:
        content = _keys(raw)
        parts = [_content_part(p) for p in content.get("parts") or ()]
        if merged and merged[-1]["role"] == content.get("role", "user"):
            merged[-1]["parts"].extend(parts)
        else:
            merged.append({"role": content.get("role", "user"), "parts": parts})
    return merged


def normalise(body: Body) -> Body:
    """``body`` with what carries no meaning evened out, explicitly and nothing else.

    - key spelling: ``snake_case`` field names read as ``camelCase`` (the API takes both);
    - consecutive contents of one role are one turn (Aether merges them, the API reads them
      as one);
    - ``inlineData.data`` as bytes (recorders used base64url, Aether base64);
    - a function declaration's schema, whether in ``parametersJsonSchema`` or in
      ``parameters`` (whose OpenAPI type names are read as JSON Schema's), and an empty
      description as none (which field Aether uses per model is asserted on its own);
    - the answer's schema, whether in ``responseJsonSchema`` or in ``responseSchema`` (read
      the same way), likewise;
    - SDK defaults: ``responseModalities: ["TEXT"]``, a ``systemInstruction`` role, an empty
      ``generationConfig`` or ``tools`` list.
    """
    out = _keys(body)
    out["contents"] = _contents(out.get("contents") or [])
    if "systemInstruction" in out:
        instruction = _keys(out["systemInstruction"])
        out["systemInstruction"] = {"parts": instruction["parts"]}
    generation = {camel(k): v for k, v in (_keys(out.pop("generationConfig", None)) or {}).items()}
    if generation.get("responseModalities") == ["TEXT"]:
        del generation["responseModalities"]
    if "thinkingConfig" in generation:
        generation["thinkingConfig"] = _keys(generation["thinkingConfig"])
    if "responseSchema" in generation:
        generation["answerSchema"] = _openapi_types(generation.pop("responseSchema"))
    if "responseJsonSchema" in generation:
        generation["answerSchema"] = generation.pop("responseJsonSchema")
    if generation:
        out["generationConfig"] = generation
    tools = out.pop("tools", None) or []
    declared = [_declaration(d) for t in tools for d in _keys(t).get("functionDeclarations", [])]
    if declared:
        out["tools"] = declared
    if "toolConfig" in out:
        calling = _keys(_keys(out["toolConfig"])["functionCallingConfig"])
        out["toolConfig"] = {"functionCallingConfig": calling}
    return out


def without(body: Body, fields: tuple[tuple[int, int, str], ...]) -> Body:
    """``body`` (normalised) without the given part fields."""
    for content, part, key in fields:
        body["contents"][content]["parts"][part].pop(key, None)
    return body


def answer_schema_field(body: Body) -> str | None:
    """Which field of ``generationConfig`` a sent body carries the answer's schema in."""
    generation = body.get("generationConfig") or {}
    fields = [key for key in ("responseSchema", "responseJsonSchema") if key in generation]
    assert len(fields) <= 1, "Gemini takes one answer schema"
    return fields[0] if fields else None


def schema_fields(body: Body) -> set[str]:
    """Which field each declaration of a sent body carries its schema in."""
    return {
        key
        for t in body.get("tools") or ()
        for d in t["functionDeclarations"]
        for key in ("parameters", "parametersJsonSchema")
        if key in d
    }
