"""Structured output on Gemini: the answer's schema in the body, what is refused, call fragments."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, TypeAdapter

from aether.config import forget_warnings
from aether.errors import ConfigurationError, ResponseBlockedError
from aether.llm.contracts import LLMRequest, Message, OutputSpec, ToolSpec
from aether.llm.models import ModelTraits
from aether_gemini import MODELS, GeminiProvider, GeminiTraits, to_gemini_schema
from aether_gemini._request import build_payload
from aether_gemini._schema import DeclarationCache

KEY = "secret-gemini-key-321"
Handler = Callable[[httpx.Request], httpx.Response]


class Line(BaseModel):
    item: str
    quantity: int


class Invoice(BaseModel):
    """An invoice with its lines."""

    number: str
    lines: list[Line]
    note: str | None = None
    counts: dict[str, int] = {}


INVOICE = OutputSpec(name="Invoice", json_schema=Invoice.model_json_schema())
LOOKUP = ToolSpec(
    name="lookup",
    description="Find an order.",
    parameters={"type": "object", "properties": {"id": {"type": "string"}}},
)


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


def request(**fields: Any) -> LLMRequest:
    return LLMRequest(messages=[Message(role="user", content="Invoice 7: 2 pens")], **fields)


def body(model: str = "gemini-2.5-flash", **fields: Any) -> dict[str, Any]:
    return build_payload(request(**fields), model, DeclarationCache())


def provider(handler: Handler) -> GeminiProvider:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return GeminiProvider(api_key=KEY, http_client=client)


def sse(*events: dict[str, Any]) -> bytes:
    return b"".join(b"data: " + json.dumps(e).encode() + b"\r\n\r\n" for e in events)


def answering(event: dict[str, Any], seen: list[httpx.Request] | None = None) -> Handler:
    """Answers with ``event``, as one body or as one server-sent event."""

    def handler(sent: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(sent)
        if sent.url.params.get("alt") == "sse":
            headers = {"content-type": "text/event-stream"}
            return httpx.Response(200, content=sse(event), headers=headers)
        return httpx.Response(200, json=event)

    return handler


# --- the body ------------------------------------------------------------------------------


def test_the_answer_schema_goes_whole_as_json_schema() -> None:
    generation = body(output=INVOICE)["generationConfig"]
    assert generation == {
        "responseMimeType": "application/json",
        # $defs, anyOf with null, additionalProperties, titles: all kept, Gemini reads them.
        "responseJsonSchema": Invoice.model_json_schema(),
    }


def test_the_description_tells_the_model_what_the_answer_is_unless_the_schema_does() -> None:
    plain = {"type": "object", "properties": {"n": {"type": "integer"}}}
    described = OutputSpec(name="Count", json_schema=plain, description="How many pens.")
    schema = body(output=described)["generationConfig"]["responseJsonSchema"]
    assert schema == {**plain, "description": "How many pens."}
    assert "description" not in described.json_schema  # the request's own is left as it was
    own = OutputSpec(name="Invoice", json_schema=INVOICE.json_schema, description="Other words.")
    schema = body(output=own)["generationConfig"]["responseJsonSchema"]
    assert schema["description"] == "An invoice with its lines."
    rooted = {"$ref": "#/$defs/N", "$defs": {"N": plain}}
    by_ref = OutputSpec(name="N", json_schema=rooted, description="A count.")
    assert body(output=by_ref)["generationConfig"]["responseJsonSchema"] == rooted


def test_free_text_asks_for_no_schema() -> None:
    assert "generationConfig" not in body()


def test_gemini_1_5_gets_the_one_translation_and_is_told_once_what_was_lost(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="aether.gemini"):
        generation = body("gemini-1.5-flash", output=INVOICE)["generationConfig"]
        again = body("gemini-1.5-flash", output=INVOICE)["generationConfig"]
    # The same translation tool arguments get: $defs inlined, Optional as nullable.
    translated, _ = to_gemini_schema(Invoice.model_json_schema())
    assert (
        generation
        == again
        == {
            "responseMimeType": "application/json",
            "responseSchema": translated,
        }
    )
    assert translated["properties"]["note"] == {"type": "string", "nullable": True}
    assert translated["properties"]["lines"]["items"]["properties"]["quantity"] == {
        "type": "integer"
    }
    (said,) = [r.getMessage() for r in caplog.records]
    assert "'gemini-1.5-flash'" in said and "'Invoice'" in said
    assert "'additionalProperties' at /properties/counts" in said
    assert "json_schema_output=True" in said


def test_an_answer_that_is_not_an_object_is_not_wrapped_like_tool_arguments(
    caplog: pytest.LogCaptureFixture,
) -> None:
    numbers = OutputSpec(name="Numbers", json_schema=TypeAdapter(list[int]).json_schema())
    with caplog.at_level(logging.WARNING, logger="aether.gemini"):
        generation = body("gemini-1.5-pro", output=numbers)["generationConfig"]
    assert generation["responseSchema"] == {"type": "array", "items": {"type": "integer"}}
    assert caplog.records == []  # nothing was lost, so nothing is said


@pytest.mark.parametrize("model", ["gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.0-flash"])
def test_a_schema_beside_function_calling_before_gemini_3_is_refused(model: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        body(model, output=INVOICE, tools=[LOOKUP])
    message = str(info.value)
    assert f"{model!r} cannot answer in a schema ('Invoice') while it may call functions" in message
    assert "output_type=Output(T, mode='tool')" in message and "tool_choice='none'" in message


@pytest.mark.parametrize(
    "fields", [{"tool_choice": "none"}, {"allowed_tools": []}], ids=["none", "no-tool-allowed"]
)
def test_with_calling_off_gemini_2_5_takes_the_schema_beside_its_tools(
    fields: dict[str, Any],
) -> None:
    sent = body(output=INVOICE, tools=[LOOKUP], **fields)
    assert sent["toolConfig"] == {"functionCallingConfig": {"mode": "NONE"}}
    assert sent["generationConfig"]["responseJsonSchema"] == INVOICE.json_schema


def test_gemini_3_answers_in_a_schema_and_calls_functions_in_one_request() -> None:
    sent = body("gemini-3-flash-preview", output=INVOICE, tools=[LOOKUP])
    assert sent["tools"][0]["functionDeclarations"][0]["name"] == "lookup"
    assert sent["generationConfig"]["responseJsonSchema"] == INVOICE.json_schema


async def test_a_refused_combination_is_refused_before_anything_is_sent() -> None:
    seen: list[httpx.Request] = []
    gemini = provider(answering({}, seen))
    call = request(output=INVOICE, tools=[LOOKUP], model="gemini-2.5-flash")
    with pytest.raises(ConfigurationError, match="while it may call functions"):
        await gemini.complete(call)
    with pytest.raises(ConfigurationError, match="while it may call functions"):
        _ = [chunk async for chunk in gemini.stream(call)]
    assert seen == []


@pytest.mark.parametrize("key", ["responseSchema", "response_json_schema"])
def test_a_schema_given_in_provider_options_too_is_refused(key: str) -> None:
    options = {"generationConfig": {key: {"type": "string"}}}
    with pytest.raises(ConfigurationError, match=f"generationConfig.{key}"):
        body(output=INVOICE, provider_options=options)


def test_a_row_without_native_output_refuses_the_schema_and_says_so(models: Any) -> None:
    models.register("my-tune", ModelTraits(sampling=True))  # a plain row: native_output=False
    with pytest.raises(ConfigurationError, match="'my-tune' takes no response schema"):
        body("my-tune", output=INVOICE)


# --- what the provider tells core --------------------------------------------------------


def test_native_output_is_claimed_and_read_from_the_table(models: Any) -> None:
    gemini = GeminiProvider(api_key=KEY)
    assert GeminiProvider.capabilities.structured_output
    assert gemini.supports_native_output("gemini-2.5-flash")
    assert gemini.supports_native_output("gemini-1.5-flash")  # in the OpenAPI subset
    assert gemini.supports_native_output("models/gemini-3-pro-preview", with_tools=True)
    assert not gemini.supports_native_output("gemini-2.5-flash", with_tools=True)
    assert gemini.supports_native_output()  # the default model
    assert gemini.supports_native_output("gemini-unknown-9")  # the table's default
    models.register("my-tune", GeminiTraits(native_output=False))
    assert not gemini.supports_native_output("my-tune")
    models.register("my-flash", ModelTraits())
    assert not gemini.supports_native_output("my-flash")


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ({"promptFeedback": {"blockReason": "SAFETY"}}, "SAFETY"),
        ({"candidates": [{"finishReason": "SAFETY", "content": {"parts": []}}]}, "SAFETY"),
    ],
    ids=["prompt-blocked", "answer-withheld"],
)
async def test_a_blocked_structured_answer_is_the_blocked_error_in_both_modes(
    event: dict[str, Any], reason: str
) -> None:
    gemini = provider(answering(event))
    call = request(output=INVOICE)
    with pytest.raises(ResponseBlockedError) as whole:
        await gemini.complete(call)
    with pytest.raises(ResponseBlockedError) as streamed:
        _ = [chunk async for chunk in gemini.stream(call)]
    assert whole.value.reason == streamed.value.reason == reason


# --- streamed calls as fragments -----------------------------------------------------------


def _calls(*parts: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": list(parts)}}
    if finish:
        candidate["finishReason"] = finish
    return {"candidates": [candidate]}


async def test_each_streamed_call_is_also_its_one_fragment() -> None:
    events = [
        _calls({"text": "Looking up."}),
        _calls(
            {"functionCall": {"name": "lookup", "args": {"id": "ö-7"}, "id": "c1"}},
            {"functionCall": {"name": "lookup", "args": {"id": "8"}}},
        ),
        _calls({"functionCall": {"name": "lookup", "args": [1, 2]}}, finish="STOP"),
    ]

    def handler(sent: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, content=sse(*events), headers={"content-type": "text/event-stream"}
        )

    chunks = [chunk async for chunk in provider(handler).stream(request(tools=[LOOKUP]))]
    text, pair, single, last = chunks
    assert text.tool_call_deltas == [] and last.tool_call_deltas == []
    assert last.finish_reason == "tool_calls"
    fragments = [*pair.tool_call_deltas, *single.tool_call_deltas]
    calls = [*pair.tool_calls, *single.tool_calls]
    assert [f.index for f in fragments] == [0, 1, 2]  # counted across events
    assert [(f.id, f.name) for f in fragments] == [(c.id, c.name) for c in calls]
    assert fragments[0].id == "c1" and fragments[1].id  # Gemini's id, or the one made up
    assert [f.arguments for f in fragments] == ['{"id":"ö-7"}', '{"id":"8"}', "[1, 2]"]
