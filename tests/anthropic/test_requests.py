"""Every recorded request, asked again through Aether's public API, sends the recorded body.

Each record in ``tests/recorded/anthropic`` holds the body a real client sent to the Messages
API. :data:`CASES` says, for each record, how an Aether user asks the same thing: an
:class:`LLMRequest` built from messages, parts, :class:`ToolSpec` and settings, sent through
``complete`` or ``stream``. The body the provider then sends must equal the recorded one on
every field that carries meaning.

Only data too long or too arbitrary to write out is read from the record (texts of thousands
of characters, tool-call ids, a base64 image, JSON schemas); where it goes (which message,
which part, which setting) is written here, so a mapping that puts it anywhere else fails.
``default_temperature`` is left unset: these callers sent no temperature unless they chose
one (with the client, ``AETHER_DEFAULT_TEMPERATURE=none``).

Structured output is ``output=OutputSpec(...)``: 004 and 013 send it as the generally
available ``output_config.format``; 003 was sent by a client on the structured-outputs beta,
whose shape (a top-level ``output_format``) the provider sends when the call names that beta.

``provider_options`` appears only for what Aether does not model: 005 a top-level
``cache_control``, Anthropic's automatic caching (Aether's own ``cache={"messages": True}``
marks the last block itself, which every API version takes).

Written out in :func:`normalised`, the differences that carry no meaning: ``stream: false``
(the default), a cache ``ttl`` of ``5m`` (the default), a tool's empty ``description`` (none), a
tool result's ``is_error: false`` (the default), and a tool result's content given as text
blocks rather than the string they join to.
"""

from __future__ import annotations

import base64
import copy
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from pydantic import BaseModel

from aether.errors import ProviderError
from aether.llm.contracts import LLMRequest, Message, OutputSpec, ToolCall, ToolSpec
from aether.llm.parts import DocumentPart, ImagePart, TextPart
from aether_anthropic import AnthropicProvider

from ._records import API_KEY, load, record_files, replay_transport

Body = dict[str, Any]
Mode = Literal["complete", "stream"]

# --- how an Aether user asks what each record asked ----------------------------------------


def _text(body: Body, message: int, block: int = 0) -> str:
    """A long text of the recorded body (message ``message``, block ``block``)."""
    return str(body["messages"][message]["content"][block]["text"])


def _tool(body: Body, index: int, *, strict: bool = False) -> ToolSpec:
    """The recorded tool ``index`` (its name, description and schema) as a ToolSpec."""
    tool = body["tools"][index]
    return ToolSpec(
        name=tool["name"],
        description=tool.get("description", ""),
        parameters=tool["input_schema"],
        strict=strict,
    )


def _answer_in(schema: dict[str, Any], name: str) -> OutputSpec:
    """A structured answer in the recorded ``schema``."""
    return OutputSpec(name=name, json_schema=schema)


def _ask(text: str) -> Message:
    return Message(role="user", content=text)


def _call_then_result(
    call_id: str, name: str, arguments: dict[str, Any], result: str
) -> list[Message]:
    return [
        Message(
            role="assistant", tool_calls=[ToolCall(id=call_id, name=name, arguments=arguments)]
        ),
        Message(role="tool", tool_call_id=call_id, content=result),
    ]


def _001(body: Body) -> LLMRequest:
    return LLMRequest(
        model="claude-sonnet-4-5",
        messages=[_ask("How warm is it in Utrecht? Use the tool, then answer.")],
        tools=[_tool(body, 0)],
        tool_choice="auto",
        reasoning={"budget_tokens": 1024},
    )


def _002(body: Body) -> LLMRequest:
    return LLMRequest(model="claude-sonet-4-5", messages=[_ask("hello")])


def _003(body: Body) -> LLMRequest:
    return LLMRequest(
        model="claude-sonnet-4-5",
        messages=[_ask("What language is spoken in the user country?")],
        tools=[_tool(body, 0, strict=True)],
        tool_choice="auto",
        output=_answer_in(body["output_format"]["schema"], "result"),
        extra_headers={"anthropic-beta": "structured-outputs-2025-11-13"},
    )


def _004(body: Body) -> LLMRequest:
    return LLMRequest(
        model="claude-sonnet-4-5",
        messages=[_ask("Give me complete details about Tokyo")],
        tools=[_tool(body, 0, strict=True), _tool(body, 1)],
        tool_choice="auto",
        output=_answer_in(body["output_config"]["format"]["schema"], "CityInfo"),
    )


def _005(body: Body) -> LLMRequest:
    return LLMRequest(
        model="claude-sonnet-4-5",
        messages=[
            Message(role="system", content="You are a helpful assistant."),
            _ask(_text(body, 0)),
        ],
        provider_options={"cache_control": {"type": "ephemeral", "ttl": "5m"}},
    )


def _006(body: Body) -> LLMRequest:
    return LLMRequest(
        model="claude-sonnet-4-0",
        messages=[Message(role="system", content=body["system"]), _ask("What is 3 + 3?")],
        reasoning={"budget_tokens": 3000},
    )


def _007(body: Body) -> LLMRequest:
    # Opus 4.8 takes a system message mid-conversation: the new instruction goes in place, and
    # the cached prefix before it stays the same.
    return LLMRequest(
        model="claude-opus-4-8",
        messages=[
            Message(role="system", content="Reply with OK."),
            _ask(_text(body, 0)),
            Message(role="assistant", content="OK"),
            _ask("context"),
            Message(role="system", content=[TextPart(text="S", cache=True)]),
        ],
    )


def _file_round(body: Body, intro: str, attachment: ImagePart | DocumentPart) -> LLMRequest:
    call_id = body["messages"][1]["content"][1]["id"]
    return LLMRequest(
        model="claude-sonnet-4-5",
        messages=[
            _ask(_text(body, 0)),
            Message(
                role="assistant",
                content=intro,
                tool_calls=[ToolCall(id=call_id, name="get_file")],
            ),
            Message(role="tool", tool_call_id=call_id, content="File attached"),
            # What the tool fetched, shown to the model beside its result.
            Message(role="user", content=[attachment]),
        ],
        tools=[_tool(body, 0)],
        tool_choice="auto",
    )


def _008(body: Body) -> LLMRequest:
    document = DocumentPart(file_id="file_011CYiV4psfMwLCihcy8Ba6m")
    return _file_round(body, "I'll retrieve the document file for you now.", document)


def _009(body: Body) -> LLMRequest:
    image = ImagePart(url="https://www.gstatic.com/webp/gallery3/1.png")
    return _file_round(body, "I'll retrieve the file for you and describe what I receive.", image)


def _010(body: Body) -> LLMRequest:
    calls = [
        block["id"]
        for turn in body["messages"]
        for block in turn["content"]
        if block["type"] == "tool_use"
    ]
    rounds = [
        message
        for call_id in calls
        for message in _call_then_result(
            call_id, "get_weather", {"city": "Paris"}, "Sunny, 22C in Paris"
        )
    ]
    return LLMRequest(
        model="claude-sonnet-4-5",
        messages=[_ask("What's the weather in Paris?"), *rounds],
        tools=[_tool(body, 0)],
        tool_choice="required",
    )


def _011(body: Body) -> LLMRequest:
    call_id = body["messages"][1]["content"][0]["id"]
    return LLMRequest(
        model="claude-haiku-4-5-20251001",
        messages=[
            _ask(
                "Use the fixed_version tool. Then tell me the version and make one short joke "
                "about it."
            ),
            *_call_then_result(call_id, "fixed_version", {}, "0.32a0"),
        ],
        tools=[_tool(body, 0)],
        temperature=1.0,
        max_tokens=64000,
    )


def _012(body: Body) -> LLMRequest:
    png = base64.b64decode(body["messages"][0]["content"][0]["source"]["data"])
    return LLMRequest(
        model="claude-sonnet-4-5",
        messages=[
            Message(
                role="user",
                content=[
                    ImagePart(data=png, media_type="image/png"),
                    TextPart(text="Describe image in three words"),
                ],
            )
        ],
        temperature=1.0,
        max_tokens=8192,
    )


class Dog(BaseModel):
    name: str
    age: int
    bio: str


def _013(body: Body) -> LLMRequest:
    # Pydantic's own schema: the provider closes the object (additionalProperties: false).
    return LLMRequest(
        model="claude-opus-4-6",
        messages=[_ask("Invent a good dog")],
        temperature=1.0,
        max_tokens=8192,
        output=_answer_in(Dog.model_json_schema(), "Dog"),
    )


def _014(body: Body) -> LLMRequest:
    return LLMRequest(
        model="claude-haiku-4-5-20251001",
        messages=[_ask("Two names for a pet pelican, be brief")],
        temperature=1.0,
        max_tokens=8192,
        reasoning={"budget_tokens": 1024},
    )


def _pelican(text: str, body: Body) -> LLMRequest:
    return LLMRequest(
        model="claude-haiku-4-5-20251001",
        messages=[_ask(text)],
        tools=[_tool(body, 0)],
        temperature=1.0,
        max_tokens=8192,
    )


def _015(body: Body) -> LLMRequest:
    return _pelican("Generate one name for a pet pelican", body)


def _016(body: Body) -> LLMRequest:
    return _pelican("Two names for a pet pelican", body)


CASES: dict[str, tuple[Mode, Callable[[Body], LLMRequest]]] = {
    "001": ("stream", _001),
    "002": ("complete", _002),
    "003": ("complete", _003),
    "004": ("complete", _004),
    "005": ("complete", _005),
    "006": ("complete", _006),
    "007": ("complete", _007),
    "008": ("complete", _008),
    "009": ("complete", _009),
    "010": ("complete", _010),
    "011": ("stream", _011),
    "012": ("stream", _012),
    "013": ("stream", _013),
    "014": ("stream", _014),
    "015": ("stream", _015),
    "016": ("stream", _016),
}

# --- what carries no meaning ---------------------------------------------------------------

_DEFAULT_TTL = "5m"


def normalised(body: Body) -> Body:
    """``body`` without the differences that carry no meaning (see the module docs)."""
    out = copy.deepcopy(body)
    if out.get("stream") is False:
        del out["stream"]
    for tool in out.get("tools", []):
        if tool.get("description") == "":
            del tool["description"]
    _walk(out)
    return out


def _walk(node: Any) -> None:
    if isinstance(node, list):
        for item in node:
            _walk(item)
        return
    if not isinstance(node, dict):
        return
    control = node.get("cache_control")
    if isinstance(control, dict) and control.get("ttl") == _DEFAULT_TTL:
        del control["ttl"]
    if node.get("type") == "tool_result":
        if node.get("is_error") is False:
            del node["is_error"]
        content = node.get("content")
        if isinstance(content, list) and all(
            block.get("type") == "text" and "cache_control" not in block for block in content
        ):
            node["content"] = "".join(block["text"] for block in content)
    for value in node.values():
        _walk(value)


# --- sending -------------------------------------------------------------------------------


async def _sent(path: Path) -> tuple[Body, httpx.Request]:
    """The body (and the request) the provider sends for the record's Aether expression."""
    record = load(path)
    mode, build = CASES[path.stem]
    seen: list[httpx.Request] = []
    client = httpx.AsyncClient(transport=replay_transport(record, seen))
    request = build(record["request"]["json"])
    async with AnthropicProvider(api_key=API_KEY, http_client=client) as provider:
        try:
            if mode == "stream":
                _ = [chunk async for chunk in provider.stream(request)]
            else:
                await provider.complete(request)
        except ProviderError:
            assert record["expect"]["status"] >= 400, "only a recorded error may raise"
    (sent,) = seen
    return json.loads(sent.content), sent


RECORDS = record_files()


def test_every_record_has_its_aether_expression() -> None:
    assert sorted(path.stem for path in RECORDS) == sorted(CASES)


@pytest.mark.parametrize("path", RECORDS, ids=lambda p: p.stem)
async def test_the_recorded_body_is_sent(path: Path) -> None:
    body, _ = await _sent(path)
    recorded = load(path)["request"]["json"]
    assert normalised(body) == normalised(recorded)


async def test_a_file_source_brings_the_files_beta() -> None:
    """008 was refused for want of the Files API beta ("Input tag 'file' ... does not match")."""
    _, sent = await _sent(next(path for path in RECORDS if path.stem == "008"))
    assert sent.headers["anthropic-beta"] == "files-api-2025-04-14"
    _, plain = await _sent(next(path for path in RECORDS if path.stem == "009"))
    assert "anthropic-beta" not in plain.headers


async def test_the_structured_outputs_beta_is_sent_in_its_own_shape() -> None:
    """003 names the beta, so its format goes as a top-level output_format; 004 is GA."""
    beta, sent = await _sent(next(path for path in RECORDS if path.stem == "003"))
    assert sent.headers["anthropic-beta"] == "structured-outputs-2025-11-13"
    assert "output_format" in beta and "output_config" not in beta
    ga, plain = await _sent(next(path for path in RECORDS if path.stem == "004"))
    assert "anthropic-beta" not in plain.headers
    assert "format" in ga["output_config"] and "output_format" not in ga


def test_normalisation_keeps_what_carries_meaning() -> None:
    body = {
        "stream": True,
        "cache_control": {"type": "ephemeral", "ttl": "1h"},
        "tools": [{"name": "f", "description": "does f"}],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "t", "is_error": True, "content": "x"},
                    {
                        "type": "tool_result",
                        "tool_use_id": "u",
                        "content": [{"type": "text", "text": "y", "cache_control": {}}],
                    },
                ],
            }
        ],
    }
    assert normalised(body) == body


async def test_coverage_by_kind(capsys: pytest.CaptureFixture[str]) -> None:
    """Every kind of recorded traffic is asked through Aether; the table says how much."""
    total: Counter[str] = Counter()
    matched: Counter[str] = Counter()
    for path in RECORDS:
        record = load(path)
        body, _ = await _sent(path)
        same = normalised(body) == normalised(record["request"]["json"])
        for kind in record["kind"]:
            total[kind] += 1
            matched[kind] += same
    width = max(map(len, total))
    lines = [f"{'kind':<{width}}  records  sent as recorded"]
    lines += [f"{kind:<{width}}  {total[kind]:>7}  {matched[kind]:>16}" for kind in sorted(total)]
    with capsys.disabled():
        print("\nanthropic recorded requests through Aether, by kind:")
        print("\n".join(lines))
    assert matched == total
