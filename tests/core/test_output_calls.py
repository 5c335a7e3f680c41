"""Typed answers through the client: each mode, every kind of type, repairs, refusals, usage."""

from __future__ import annotations

import enum
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

import pytest
from pydantic import BaseModel
from typing_extensions import TypedDict, assert_type

from aether import Aether, Output, ProviderConfig
from aether.errors import ConfigurationError, OutputValidationError, ResponseBlockedError
from aether.events import REQUEST_START, RequestStart
from aether.extensions.llm.fake import FakeProvider
from aether.llm import ProviderCapabilities, ask
from aether.llm.contracts import LLMRequest, LLMResponse, LLMStreamChunk, Message, ToolCall


class Invoice(BaseModel):
    """An invoice."""

    number: str
    total: float


@dataclass
class Point:
    x: int
    y: int


class Person(TypedDict):
    name: str
    age: int


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


INVOICE = Invoice(number="A-1", total=12.5)
INVOICE_JSON = '{"number": "A-1", "total": 12.5}'


class Scripted:
    """A provider that is not FakeProvider: it answers exactly the answers it is given."""

    name = "scripted"
    default_model = "scripted-1"

    def __init__(self, *answers: LLMResponse | list[LLMStreamChunk], claims: Any = None) -> None:
        self.capabilities = claims or ProviderCapabilities()
        self.answers = list(answers)
        self.calls: list[LLMRequest] = []

    async def complete(self, request: LLMRequest) -> LLMResponse:
        self.calls.append(request)
        answer = self.answers.pop(0)
        assert isinstance(answer, LLMResponse)
        return answer

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        self.calls.append(request)
        answer = self.answers.pop(0)
        assert isinstance(answer, list)
        for chunk in answer:
            yield chunk


NATIVE = ProviderCapabilities(structured_output=True)
TOOLS_ONLY = ProviderCapabilities()
TEXT_ONLY = ProviderCapabilities(tools=False)


def text(answer: str, **fields: Any) -> LLMResponse:
    usage = {"finish_reason": "stop", "input_tokens": 10, "output_tokens": 5}
    return LLMResponse(text=answer, **{**usage, **fields})


def called(arguments: dict[str, Any], name: str = "final_result") -> LLMResponse:
    call = ToolCall(id="call_1", name=name, arguments=arguments)
    return LLMResponse(
        tool_calls=[call], finish_reason="tool_calls", input_tokens=10, output_tokens=5
    )


# --- each mode, with a provider that is not FakeProvider --------------------------------------


async def test_native_mode_sends_the_schema_and_reads_the_json_text() -> None:
    provider = Scripted(text(INVOICE_JSON), claims=NATIVE)
    invoice = await Aether(provider).ask("Extract it", output_type=Invoice)
    assert_type(invoice, Invoice)
    assert invoice == INVOICE
    [request] = provider.calls
    assert request.output is not None
    assert request.output.name == "Invoice"
    assert request.output.description == "An invoice."
    assert request.output.json_schema == Invoice.model_json_schema()
    assert request.output.strict is True  # the schema can be made strict
    assert request.tools == [] and request.tool_choice is None


async def test_tool_mode_forces_one_tool_and_reads_its_arguments() -> None:
    provider = Scripted(called({"number": "A-1", "total": 12.5}), claims=TOOLS_ONLY)
    response = await Aether(provider).complete("Extract it", output_type=Invoice)
    assert response.output == INVOICE
    # The answer reads like a native one: the JSON as text, no tool call left over.
    assert json.loads(response.text) == {"number": "A-1", "total": 12.5}
    assert response.tool_calls == [] and response.finish_reason == "stop"
    [request] = provider.calls
    assert request.output is None
    [tool] = request.tools
    assert (tool.name, tool.parameters, tool.strict) == (
        "final_result",
        Invoice.model_json_schema(),
        False,
    )
    assert request.tool_choice == "final_result"


async def test_prompted_mode_puts_the_schema_in_the_system_text_and_reads_a_fence() -> None:
    answer = f"Here you are:\n```json\n{INVOICE_JSON}\n```"
    provider = Scripted(text(answer), claims=TEXT_ONLY)
    conversation = [Message(role="system", content="Be terse."), Message(role="user", content="?")]
    response = await Aether(provider).complete(conversation, output_type=Invoice)
    assert response.output == INVOICE
    assert response.text == answer  # as the model gave it
    [request] = provider.calls
    assert request.output is None and request.tools == []
    system = request.messages[0]
    assert system.role == "system" and system.text.startswith("Be terse.\n\nAnswer with Invoice")
    assert '"number"' in system.text  # the schema itself
    assert [m.role for m in request.messages] == ["system", "user"]
    assert conversation[0].text == "Be terse."  # the caller's messages are untouched


async def test_prompted_mode_adds_a_system_message_when_there_is_none() -> None:
    provider = Scripted(text(INVOICE_JSON), claims=TEXT_ONLY)
    assert await Aether(provider).ask("?", output_type=Invoice) == INVOICE
    assert [m.role for m in provider.calls[0].messages] == ["system", "user"]


@pytest.mark.parametrize(
    ("claims", "native_model", "mode"),
    [
        (NATIVE, None, "native"),
        (NATIVE, False, "tool"),
        (NATIVE, True, "native"),
        (TOOLS_ONLY, None, "tool"),
        (TEXT_ONLY, None, "prompted"),
        (ProviderCapabilities(tools=False, structured_output=True), False, "prompted"),
    ],
)
async def test_auto_mode_is_the_best_the_provider_and_model_serve(
    claims: ProviderCapabilities, native_model: bool | None, mode: str
) -> None:
    provider = Scripted(text(INVOICE_JSON), called(INVOICE.model_dump()), claims=claims)
    if native_model is not None:
        provider.supports_native_output = lambda model: native_model  # type: ignore[attr-defined]
    client = Aether(provider)
    if mode == "tool":
        provider.answers.pop(0)
    assert await client.ask("?", output_type=Invoice) == INVOICE
    request = provider.calls[0]
    seen = "native" if request.output else "tool" if request.tools else "prompted"
    assert seen == mode


async def test_the_mode_can_be_chosen_and_is_refused_where_it_cannot_work() -> None:
    provider = Scripted(called(INVOICE.model_dump()), claims=NATIVE)
    assert await Aether(provider).ask("?", output_type=Output(Invoice, mode="tool")) == INVOICE
    for claims, mode, message in [
        (TOOLS_ONLY, "native", "does not answer in a JSON schema natively"),
        (TEXT_ONLY, "tool", "has no tools"),
    ]:
        refused = Scripted(claims=claims)
        with pytest.raises(ConfigurationError, match=message):
            await Aether(refused).ask("?", output_type=Output(Invoice, mode=mode))  # type: ignore[call-overload]
        assert refused.calls == []  # nothing was sent
    picky = Scripted(claims=NATIVE)
    picky.supports_native_output = lambda model: False  # type: ignore[attr-defined]
    with pytest.raises(ConfigurationError, match="model 'scripted-1' does not answer"):
        await Aether(picky).ask("?", output_type=Output(Invoice, mode="native"))


async def test_tool_mode_takes_another_name_when_a_tool_has_it() -> None:
    def final_result(x: int) -> int:
        """A tool of the user's that happens to have the name."""
        return x

    provider = Scripted(called(INVOICE.model_dump(), name="final_result_2"), claims=TOOLS_ONLY)
    client = Aether(provider)
    answer = await client.ask("?", tools=[final_result], output_type=Output(Invoice, mode="tool"))
    assert answer == INVOICE
    assert [tool.name for tool in provider.calls[0].tools] == ["final_result", "final_result_2"]
    assert provider.calls[0].tool_choice == "required"  # the model may call its tools first


async def test_tool_mode_with_tool_choice_none_is_refused() -> None:
    provider = Scripted()
    with pytest.raises(ConfigurationError, match="tool_choice='none' leaves the model no way"):
        await Aether(provider).ask(
            "?", tool_choice="none", output_type=Output(Invoice, mode="tool")
        )
    assert provider.calls == []


async def test_a_tool_mode_answer_in_text_is_taken_when_it_is_the_json() -> None:
    provider = Scripted(text(INVOICE_JSON), claims=TOOLS_ONLY)
    response = await Aether(provider).complete("?", output_type=Invoice)
    assert response.output == INVOICE and response.text == INVOICE_JSON


# --- every kind of type, in every mode, with FakeProvider ------------------------------------

TYPES: list[tuple[Any, Any, Any]] = [
    # (the type, the value expected, what the model sends as JSON)
    (Invoice, INVOICE, INVOICE.model_dump()),
    (Point, Point(1, 2), {"x": 1, "y": 2}),
    (Person, {"name": "Ada", "age": 36}, {"name": "Ada", "age": 36}),
    (list[int], [1, 2, 3], {"response": [1, 2, 3]}),
    (Output[int | str](int | str), 7, {"response": 7}),
    (Output(Literal["red", "green"]), "green", {"response": "green"}),
    (Color, Color.GREEN, {"response": "green"}),
    (float, 2.5, {"response": 2.5}),
    (bool, False, {"response": False}),
    (str, "hello", {"response": "hello"}),
]


@pytest.mark.parametrize("mode", ["native", "tool", "prompted"])
@pytest.mark.parametrize(("output_type", "expected", "sent"), TYPES)
async def test_every_kind_of_type_in_every_mode(
    output_type: Any, expected: Any, sent: Any, mode: Literal["native", "tool", "prompted"]
) -> None:
    output = output_type if isinstance(output_type, Output) else Output(output_type)
    chosen = Output(output.type, mode=mode)
    answer = f"```json\n{json.dumps(sent)}\n```" if mode == "prompted" else sent
    fake = FakeProvider(responses=[answer])
    value = await Aether(fake).ask("?", output_type=chosen)
    assert value == expected
    assert type(value) is type(expected)
    request = fake.calls[0]
    assert (request.output is not None) == (mode == "native")
    assert bool(request.tools) == (mode == "tool")


async def test_the_fake_answers_native_mode_with_the_json_of_what_it_is_given() -> None:
    fake = FakeProvider(responses=[INVOICE, Point(3, 4), [1, 2]])
    client = Aether(fake)
    response = await client.complete("?", output_type=Invoice)
    assert (response.output, json.loads(response.text)) == (INVOICE, INVOICE.model_dump())
    assert await client.ask("?", output_type=Point) == Point(3, 4)
    assert await client.ask("?", output_type=list[int]) == [1, 2]  # the bare value, unwrapped


async def test_complete_keeps_the_value_out_of_dumps() -> None:
    response = await Aether(FakeProvider(responses=[INVOICE])).complete("?", output_type=Invoice)
    assert response.output == INVOICE
    assert "output" not in response.model_dump()
    assert "output" not in json.loads(response.model_dump_json())


async def test_the_module_level_ask_takes_an_output_type() -> None:
    invoice = await ask("?", FakeProvider(responses=[INVOICE]), output_type=Invoice)
    assert_type(invoice, Invoice)
    assert invoice == INVOICE
    assert_type(await ask("?", FakeProvider(canned_response="hi")), str)


# --- repairs ----------------------------------------------------------------------------------


async def test_a_wrong_answer_is_repaired_on_the_second_try_and_both_are_billed() -> None:
    fake = FakeProvider(responses=['{"number": 5}', INVOICE])
    client = Aether(fake)
    starts: list[RequestStart] = []
    client.on(REQUEST_START, starts.append)
    response = await client.complete("Extract it", output_type=Invoice)
    assert response.output == INVOICE
    assert len(fake.calls) == 2 and len(starts) == 2  # each attempt is a call like any other
    repair = fake.calls[1].messages
    assert [m.role for m in repair] == ["user", "assistant", "user"]
    assert repair[1].text == '{"number": 5}'
    assert "does not fit the schema of Invoice" in repair[2].text
    assert '"loc":["number"]' in repair[2].text and '"loc":["total"]' in repair[2].text
    assert "Field required" in repair[2].text
    assert client.usage.total_requests == 2
    # The answer counts what both calls cost, as cost tracking (which sees each call) does.
    first = await FakeProvider(responses=['{"number": 5}']).complete(fake.calls[0])
    assert response.input_tokens > first.input_tokens
    assert response.input_tokens == client.usage.total_input_tokens
    assert response.output_tokens == client.usage.total_output_tokens


async def test_a_repair_in_tool_mode_answers_the_call_with_the_errors() -> None:
    provider = Scripted(called({"number": "A-1"}), called(INVOICE.model_dump()), claims=TOOLS_ONLY)
    assert await Aether(provider).ask("?", output_type=Invoice) == INVOICE
    messages = provider.calls[1].messages
    assert [m.role for m in messages] == ["user", "assistant", "tool"]
    assert messages[1].tool_calls[0].name == "final_result"
    assert messages[2].tool_call_id == "call_1"
    assert "total" in messages[2].text and "Call final_result again" in messages[2].text
    assert provider.calls[1].tool_choice == "final_result"


async def test_no_valid_answer_raises_with_the_text_errors_and_attempts() -> None:
    fake = FakeProvider(responses=["not json", '{"number": "A-1", "total": "lots"}'])
    client = Aether(fake)
    with pytest.raises(OutputValidationError) as caught:
        await client.ask("?", output_type=Invoice)
    error = caught.value
    assert error.attempts == 2
    assert error.text == '{"number": "A-1", "total": "lots"}'
    assert [e["loc"] for e in error.errors] == [("total",)]
    assert error.errors[0]["type"] == "float_parsing"
    assert error.output_name == "Invoice"
    assert client.usage.total_requests == 2  # both answers were billed


async def test_retries_are_set_per_call_and_per_client() -> None:
    bad = ['{"number": 1}'] * 4
    with pytest.raises(OutputValidationError) as caught:
        await Aether(FakeProvider(responses=bad)).ask("?", output_type=Output(Invoice, retries=0))
    assert caught.value.attempts == 1
    config = ProviderConfig(provider="fake", options={"responses": bad}, output_retries=2)
    with pytest.raises(OutputValidationError) as caught:
        await Aether(config=config).ask("?", output_type=Invoice)
    assert caught.value.attempts == 3
    client = Aether(config=config)
    with pytest.raises(OutputValidationError) as caught:
        await client.ask("?", output_type=Output(Invoice, retries=1))  # the call's own wins
    assert caught.value.attempts == 2


async def test_an_answer_cut_at_max_tokens_is_not_repaired() -> None:
    cut = text('{"number": "A-1", "to', finish_reason="length")
    provider = Scripted(cut, claims=NATIVE)
    with pytest.raises(OutputValidationError, match="raise max_tokens") as caught:
        await Aether(provider).ask("?", output_type=Invoice)
    assert caught.value.truncated and caught.value.attempts == 1
    assert len(provider.calls) == 1


async def test_each_repair_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeProvider(responses=["{}", "{}", INVOICE])
    with caplog.at_level(logging.INFO, logger="aether.output"):
        await Aether(fake).ask("?", output_type=Output(Invoice, retries=2))
    lines = [r for r in caplog.records if r.name == "aether.output"]
    assert [r.getMessage() for r in lines] == [
        "The answer did not fit Invoice (2 errors); asking the model to fix it (repair 1 of 2).",
        "The answer did not fit Invoice (2 errors); asking the model to fix it (repair 2 of 2).",
    ]
    assert [r.aether_output_repair for r in lines] == [1, 2]  # type: ignore[attr-defined]


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (LLMResponse(refusal="I can't help with that.", finish_reason="stop"), "refusal"),
        (LLMResponse(text="", finish_reason="content_filter"), "content_filter"),
    ],
)
async def test_a_refusal_raises_the_refusal_error_never_a_validation_error(
    answer: LLMResponse, reason: str
) -> None:
    fake = FakeProvider(responses=[answer, INVOICE])
    client = Aether(fake)
    with pytest.raises(ResponseBlockedError) as caught:
        await client.ask("?", output_type=Invoice)
    assert caught.value.reason == reason
    assert len(fake.calls) == 1  # no repair of a refusal
    fake = FakeProvider(responses=[answer])
    with pytest.raises(ResponseBlockedError):
        await Aether(fake).complete("?", output_type=Invoice)


async def test_a_blocked_response_from_the_provider_passes_through() -> None:
    blocked = ResponseBlockedError("blocked", reason="SAFETY", provider="fake")
    fake = FakeProvider(responses=[blocked, INVOICE])
    with pytest.raises(ResponseBlockedError, match="blocked"):
        await Aether(fake).ask("?", output_type=Invoice)
    assert len(fake.calls) == 1
