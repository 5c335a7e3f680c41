"""Every recorded real request, asked for through Aether, sends the recorded body.

Each record in ``tests/recorded/openai`` holds a body a real client sent to the API. ``CASES``
says how a user asks Aether for the same thing: an ``LLMRequest`` of Messages, parts, ToolSpecs
and settings. The provider sends it (the recorded answer is replayed) and the body must equal
the recorded one on every field that carries meaning; :func:`normalised` lists the little it
forgives. Long texts, tool schemas and file data are read from the record (they are the user's
data, not the mapping under test); everything else is written out. ``pytest -s`` prints the
coverage by kind tag.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from aether.errors import ProviderError
from aether.llm.contracts import LLMRequest, Message, OutputSpec, ToolCall, ToolSpec
from aether.llm.parts import ContentPart, DocumentPart, ImagePart, TextPart
from aether_openai import OpenAIProvider
from tests.openai._wire import request_problems
from tests.support.conformance import load, record_files, replay_transport

Wire = dict[str, Any]

RECORDS = {path.stem: path for path in record_files("openai")}


# --- building blocks of the table ---------------------------------------------------------


def user(content: str | list[ContentPart]) -> Message:
    return Message(role="user", content=content)


def system(text: str) -> Message:
    return Message(role="system", content=text)


def calls(call_id: str, name: str, **arguments: Any) -> Message:
    """An assistant turn that calls one tool."""
    return Message(
        role="assistant", tool_calls=[ToolCall(id=call_id, name=name, arguments=arguments)]
    )


def result(call_id: str, text: str) -> Message:
    return Message(role="tool", content=text, tool_call_id=call_id)


def said(wire: Wire, index: int) -> str:
    """The text of recorded message ``index`` (for texts too long to write out here)."""
    text = wire["messages"][index]["content"]
    assert isinstance(text, str)
    return text


def data(wire: Wire, index: int, part: int) -> bytes:
    """The bytes of the data URL in part ``part`` of recorded message ``index``."""
    wire_part = wire["messages"][index]["content"][part]
    url = (wire_part.get("image_url") or {}).get("url") or wire_part["file"]["file_data"]
    return base64.b64decode(url.partition(",")[2])


def tools(wire: Wire, names: list[str], *, strict: Collection[str] = ()) -> list[ToolSpec]:
    """ToolSpecs named ``names`` (``strict`` ones strict), with their recorded schemas."""
    recorded = {t["function"]["name"]: t["function"] for t in wire["tools"]}
    return [
        ToolSpec(
            name=name,
            description=recorded[name].get("description") or "",
            parameters=recorded[name]["parameters"],
            strict=name in strict,
        )
        for name in names
    ]


COUNTRY = "Tell me: the capital of the country; the weather there; the product name"
MCP = [
    "get_weather",
    "get_country",
    "celsius_to_fahrenheit",
    "get_weather_forecast",
    "get_image_resource",
    "get_image_resource_link",
    "get_audio_resource",
    "get_audio_resource_link",
    "get_product_name",
    "get_product_name_link",
    "get_image",
    "get_dict",
    "get_error",
    "get_none",
    "get_multiple_items",
    "get_log_level",
    "echo_deps",
    "use_sampling",
]
MCP_STRICT = {
    "get_weather",
    "celsius_to_fahrenheit",
    "get_weather_forecast",
    "use_sampling",
    "use_elicitation",
    "final_result",
}
MCP_MORE = [*MCP, "use_elicitation", "external", "final_result"]
CAPITAL = "What is the capital of Mexico?"
PROMPTED = (
    "response_format json_object (JSON mode) beside prompted output: the schema is in the "
    "system message, the way prompted output reaches a provider (instructions, no OutputSpec); "
    "JSON mode has no Aether setting (an OutputSpec asks for a schema)"
)
LARGEST = "What is the largest city in the user country?"
PARIS = "The weather in Paris is sunny and 72°F."


def weather_rounds(wire: Wire) -> list[Message]:
    """Record 027's 46 identical rounds: get_weather(city='Paris'), then its result.

    Only the call ids come from the record; a round of another shape fails the comparison.
    """
    rounds: list[Message] = []
    for message in wire["messages"][1:]:
        if message["role"] == "assistant":
            call_id = message["tool_calls"][0]["id"]
            rounds += [calls(call_id, "get_weather", city="Paris"), result(call_id, PARIS)]
    return rounds


@dataclass(frozen=True)
class Case:
    """How a user asks Aether for what a record asked the API for."""

    build: Callable[[Wire], LLMRequest]
    provider_options: str = ""
    """What ``provider_options`` carries in ``build`` and why Aether does not model it."""


CASES: dict[str, Case] = {
    "001": Case(
        lambda w: LLMRequest(
            model="gpt-4o",
            messages=[user(COUNTRY)],
            tools=tools(w, [*MCP, "final_result"], strict=MCP_STRICT),
            tool_choice="required",
        )
    ),
    "002": Case(
        lambda w: LLMRequest(
            model="gpt-4o",
            messages=[
                system("Be concise."),
                user("Summarize the pydantic/pydantic-ai repo in one sentence"),
            ],
            tools=tools(
                w,
                names := ["read_wiki_structure", "read_wiki_contents", "ask_question"],
                strict=set(names),
            ),
            tool_choice="auto",
        )
    ),
    "003": Case(lambda w: LLMRequest(model="gpt-5.2-proo", messages=[user("hello")])),
    "004": Case(
        lambda w: LLMRequest(
            model="gpt-4o",
            messages=[
                user(COUNTRY),
                calls("call_rI3WKPYvVwlOgCGRjsPP2hEx", "get_country"),
                result("call_rI3WKPYvVwlOgCGRjsPP2hEx", "Mexico"),
            ],
            tools=tools(w, MCP_MORE, strict=MCP_STRICT),
            tool_choice="required",
        )
    ),
    "005": Case(lambda w: LLMRequest(model="gpt-4o", messages=[user(CAPITAL)])),
    "006": Case(
        lambda w: LLMRequest(
            model="gpt-4o",
            messages=[user(COUNTRY)],
            tools=tools(w, MCP_MORE, strict=MCP_STRICT),
            tool_choice="required",
        )
    ),
    "007": Case(lambda w: LLMRequest(model="gpt-4o", messages=[user(CAPITAL)])),
    "008": Case(lambda w: LLMRequest(model="gpt-4o", messages=[user(CAPITAL)])),
    "009": Case(
        lambda w: LLMRequest(
            model="gpt-4o",
            messages=[
                system("Just call tools without asking for confirmation."),
                user("Delete the file `.env` and create `test.txt`"),
            ],
            tools=tools(w, names := ["create_file", "delete_file"], strict=set(names)),
            tool_choice="auto",
        )
    ),
    "010": Case(
        lambda w: LLMRequest(
            model="gpt-4o-mini",
            messages=[user(said(w, 0))],
            tools=tools(w, ["final_result"]),
            tool_choice="required",
        )
    ),
    "011": Case(lambda w: LLMRequest(model="o3-mini", messages=[user(said(w, 0))], stop=["Paris"])),
    "012": Case(
        lambda w: LLMRequest(
            model="gpt-4o",
            messages=[user("Use the tool to check the connection")],
            tools=tools(w, ["tool_using_httpx_client"]),
            tool_choice="auto",
        )
    ),
    "013": Case(
        lambda w: LLMRequest(
            model="gpt-5-mini",
            messages=[user(said(w, 0))],
            tools=tools(w, ["get_file"]),
            tool_choice="auto",
        )
    ),
    "014": Case(
        lambda w: LLMRequest(
            model="gpt-5-mini",
            messages=[
                user(said(w, 0)),
                calls("call_ME1KcrBbHGTnLG4bnoffOcxs", "get_file"),
                result("call_ME1KcrBbHGTnLG4bnoffOcxs", "File attached"),
                user([ImagePart(url="https://www.gstatic.com/webp/gallery3/1.png")]),
            ],
            tools=tools(w, ["get_file"]),
            tool_choice="auto",
        )
    ),
    "015": Case(
        lambda w: LLMRequest(
            model="gpt-4o",
            messages=[
                user(
                    [
                        TextPart(text="What is the main content on this document?"),
                        DocumentPart(
                            data=data(w, 0, 1),
                            media_type="application/pdf",
                            filename="filename.pdf",
                        ),
                    ]
                )
            ],
        )
    ),
    "016": Case(
        lambda w: LLMRequest(
            model="gpt-4.1-nano",
            messages=[
                user(
                    [
                        TextPart(text="What is this vegetable?"),
                        ImagePart(data=data(w, 0, 1), media_type="image/jpeg"),
                    ]
                )
            ],
        )
    ),
    "017": Case(
        lambda w: LLMRequest(
            model="gpt-4o",
            messages=[
                user(
                    [
                        TextPart(
                            text="What food is in the image you can get from the get_image tool?"
                        )
                    ]
                ),
                calls("call_4hrT4QP9jfojtK69vGiFCFjG", "get_image"),
                result("call_4hrT4QP9jfojtK69vGiFCFjG", "See file bd38f5"),
                user(
                    [
                        TextPart(text="This is file bd38f5:"),
                        ImagePart(
                            url="https://t3.ftcdn.net/jpg/00/85/79/92/"
                            "360_F_85799278_0BBGV9OAdQDTLnKwAPBCcg1J7QtiieJY.jpg"
                        ),
                    ]
                ),
            ],
            tools=tools(w, ["get_image"]),
            tool_choice="auto",
        )
    ),
    "018": Case(
        lambda w: LLMRequest(
            model="gpt-4o",
            messages=[
                user(LARGEST),
                calls("call_SIttSeiOistt33Htj4oiHOOX", "get_user_country"),
                result("call_SIttSeiOistt33Htj4oiHOOX", "Mexico"),
            ],
            tools=tools(w, ["get_user_country"]),
            tool_choice="auto",
            # pydantic-ai's native output, sent without "strict" (the API's default, false).
            output=OutputSpec(
                name="final_result",
                description="The final response which ends this conversation",
                json_schema=w["response_format"]["json_schema"]["schema"],
                strict=False,
            ),
        )
    ),
    "019": Case(
        lambda w: LLMRequest(
            model="o1-mini", messages=[system("You are a helpful assistant."), user("Hello")]
        )
    ),
    "020": Case(
        lambda w: LLMRequest(
            model="gpt-4o",
            messages=[system(said(w, 0)), user(LARGEST)],
            tools=tools(w, ["get_user_country"]),
            tool_choice="auto",
            provider_options={"response_format": {"type": "json_object"}},
        ),
        provider_options=PROMPTED,
    ),
    "021": Case(
        lambda w: LLMRequest(
            model="gpt-4o",
            messages=[
                system(said(w, 0)),
                user(LARGEST),
                calls("call_wJD14IyJ4KKVtjCrGyNCHO09", "get_user_country"),
                result("call_wJD14IyJ4KKVtjCrGyNCHO09", "Mexico"),
            ],
            tools=tools(w, ["get_user_country"]),
            tool_choice="auto",
            provider_options={"response_format": {"type": "json_object"}},
        ),
        provider_options=PROMPTED,
    ),
    "022": Case(
        lambda w: LLMRequest(
            model="gpt-4o",
            messages=[system("You are a helpful assistant."), user("What day is today?")],
            provider_options={"web_search_options": {"search_context_size": "low"}},
        ),
        provider_options="web_search_options: OpenAI's built-in web search, which Aether does "
        "not model",
    ),
    "023": Case(
        lambda w: LLMRequest(
            model="gpt-4o",
            messages=[
                system("You are a helpful weather assistant."),
                user("What is the weather like in Tokyo today?"),
                calls("call_weather_001", "get_weather", city="Tokyo", units="celsius"),
                result("call_weather_001", said(w, 3)),
            ],
            max_tokens=1,
        )
    ),
    "024": Case(
        lambda w: LLMRequest(
            model="gpt-4o",
            messages=[
                user("Tell me a joke"),
                Message(role="assistant", content=said(w, 1)),
                user("Tell me another one"),
            ],
            max_tokens=1,
        )
    ),
    "025": Case(
        lambda w: LLMRequest(
            model="gpt-4o",
            messages=[
                user("What is the weather in Tokyo?"),
                calls("call_123", "get_weather", city="Tokyo"),
                result("call_123", "Sunny, 25°C"),
            ],
            max_tokens=1,
        )
    ),
    "026": Case(
        lambda w: LLMRequest(
            model="gpt-5.6-sol",
            messages=[
                user(
                    [
                        TextPart(text=w["messages"][0]["content"][0]["text"], cache=True),
                        TextPart(text="Reply with exactly: OK"),
                    ]
                )
            ],
            cache={"key": "pydantic-ai-prompt-cache-e2e-chat"},
            provider_options={"prompt_cache_options": {"mode": "explicit", "ttl": "30m"}},
        ),
        provider_options="prompt_cache_options (explicit-only breakpoints, their lifetime), "
        "which Aether does not model",
    ),
    "027": Case(
        lambda w: LLMRequest(
            model="gpt-5-mini",
            messages=[user(said(w, 0)), *weather_rounds(w)],
            tools=tools(w, names := ["get_weather", "final_result"], strict=set(names)),
            tool_choice="required",
            allowed_tools=["get_weather"],
        )
    ),
    "028": Case(
        lambda w: LLMRequest(
            model="gpt-4o-mini",
            messages=[
                user("What is 1231 * 2331?"),
                Message(role="assistant", content=""),
                calls("call_1EYWDzueHEp8OsB8jJSEp7WB", "multiply", a=1231, b=2331),
                result("call_1EYWDzueHEp8OsB8jJSEp7WB", "2869461"),
            ],
            tools=tools(w, ["multiply"]),
        )
    ),
}


# --- comparing bodies ----------------------------------------------------------------------


def normalised(body: Wire) -> Wire:
    """``body`` without what carries no meaning, so two bodies compare on what does.

    - ``"stream": false`` and ``"n": 1`` are the API's defaults: sending them or not is the
      same request.
    - A tool's ``"description": ""`` is no description.
    - An assistant tool-call turn's ``"content": null`` is no content.
    - Tool-call ``arguments`` are JSON text: compared as the JSON they hold, since the
      spacing is the sending client's.
    """
    body = json.loads(json.dumps(body))  # a private copy
    if body.get("stream") is False:
        del body["stream"]
    if body.get("n") == 1:
        del body["n"]
    for tool in body.get("tools") or ():
        if tool.get("function", {}).get("description") == "":
            del tool["function"]["description"]
    for message in body["messages"]:
        if message["role"] == "assistant" and message.get("tool_calls"):
            if message.get("content", None) is None:
                message.pop("content", None)
            for call in message["tool_calls"]:
                call["function"]["arguments"] = json.loads(call["function"]["arguments"])
    return body


def differences(got: Any, want: Any, path: str = "body") -> list[str]:
    """Where two JSON values differ, as short lines (file data would drown a plain diff)."""
    if isinstance(got, dict) and isinstance(want, dict):
        found = [f"{path}.{k}: missing" for k in want.keys() - got.keys()]
        found += [f"{path}.{k}: not recorded" for k in got.keys() - want.keys()]
        for key in got.keys() & want.keys():
            found += differences(got[key], want[key], f"{path}.{key}")
        return found
    if isinstance(got, list) and isinstance(want, list) and len(got) == len(want):
        return [
            p
            for i, pair in enumerate(zip(got, want, strict=True))
            for p in differences(*pair, f"{path}[{i}]")
        ]
    if got != want:
        return [f"{path}: sent {str(got)[:80]!r}, recorded {str(want)[:80]!r}"]
    return []


async def sent_body(record: Wire) -> Wire:
    """What the provider sends for the record's Aether expression."""
    wire = record["request"]["json"]
    request = CASES[Path(record["_path"]).stem].build(wire)
    seen: list[httpx.Request] = []
    client = httpx.AsyncClient(transport=replay_transport(record, seen))
    provider = OpenAIProvider(api_key="sk-test", http_client=client)
    try:
        if wire.get("stream"):
            _ = [chunk async for chunk in provider.stream(request)]
        else:
            await provider.complete(request)
    except ProviderError:
        assert record["response"]["status"] >= 400  # only a recorded error may raise
    finally:
        await client.aclose()
    (sent,) = seen
    body: Wire = json.loads(sent.content)
    return body


def loaded(stem: str) -> Wire:
    record = load(RECORDS[stem])
    record["_path"] = str(RECORDS[stem])
    return record


# --- the tests -----------------------------------------------------------------------------


def test_every_record_has_its_aether_expression() -> None:
    assert sorted(CASES) == sorted(RECORDS)


@pytest.mark.parametrize("stem", sorted(RECORDS))
async def test_the_recorded_body_is_sent(stem: str) -> None:
    record = loaded(stem)
    body = await sent_body(record)
    assert request_problems(body) == []
    assert differences(normalised(body), normalised(record["request"]["json"])) == []


async def test_coverage_by_kind() -> None:
    """Print which kinds of request the records cover and how many are sent as recorded."""
    total: Counter[str] = Counter()
    matched: Counter[str] = Counter()
    for stem in sorted(RECORDS):
        record = loaded(stem)
        same = not differences(
            normalised(await sent_body(record)), normalised(record["request"]["json"])
        )
        for kind in ["all", *record["kind"]]:
            total[kind] += 1
            matched[kind] += same
    width = max(map(len, total))
    print(f"\nOpenAI recorded requests sent as recorded, by kind\n{'kind':<{width}}  sent/records")
    for kind in sorted(total, key=lambda k: (k != "all", k)):
        print(f"{kind:<{width}}  {matched[kind]:>4}/{total[kind]}")
    print("provider_options, where used:")
    for stem, case in sorted(CASES.items()):
        if case.provider_options:
            print(f"  {stem}: {case.provider_options}")
    assert matched["all"] == total["all"] == len(RECORDS)
