"""dispatch_tool and Tool.run: by name (the spec's form) or by ToolCall (errors as content),
validation first, threads, timeouts, JSON."""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import datetime as dt
import enum
import threading
import uuid
from typing import Any

import pytest
from pydantic import BaseModel
from typing_extensions import assert_type

from aether.errors import ToolArgumentsError, ToolError, ToolExecutionError, ToolNotFoundError
from aether.events import TOOL_COMPLETE, TOOL_ERROR, TOOL_START, EventBus
from aether.llm.contracts import ToolCall
from aether.registry import Registry
from aether.tools import (
    RAW_ARGUMENTS_KEY,
    ToolResult,
    dispatch_tool,
    get_tool,
    list_tools,
    make_tool,
    register_tool,
    serialize_result,
)


class Address(BaseModel):
    street: str
    zip_code: int


def _call(name: str, **arguments: Any) -> ToolCall:
    return ToolCall(id="c1", name=name, arguments=arguments)


class Recorder:
    def __init__(self, bus: EventBus) -> None:
        self.seen: list[Any] = []
        for name in (TOOL_START, TOOL_COMPLETE, TOOL_ERROR):
            bus.on(name, self.seen.append)


@pytest.fixture
def calls() -> list[tuple[Any, ...]]:
    return []


@pytest.fixture
def add(calls: list[tuple[Any, ...]]) -> Any:
    def add(a: int, b: int = 1) -> int:
        calls.append((a, b))
        return a + b

    return make_tool(add)


async def test_valid_call_returns_the_result_as_text_and_fires_events(add: Any) -> None:
    bus = EventBus()
    recorder = Recorder(bus)
    result = await dispatch_tool(_call("add", a=2, b=3), [add], events=bus)
    assert result.content == "5"
    assert result.error is None
    message = result.to_message()
    assert (message.role, message.content, message.tool_call_id, message.name) == (
        "tool",
        "5",
        "c1",
        "add",
    )
    assert [e.name for e in recorder.seen] == [TOOL_START, TOOL_COMPLETE]
    assert recorder.seen[1].result == "5"
    assert recorder.seen[1].call.arguments == {"a": 2, "b": 3}


async def test_defaults_of_the_function_apply_and_lax_json_types_are_coerced(
    add: Any, calls: list[tuple[Any, ...]]
) -> None:
    assert (await dispatch_tool(_call("add", a="4"), [add])).content == "5"
    assert calls == [(4, 1)]


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"a": "x"}, "a: Input should be a valid integer"),
        ({"b": 2}, "a: required but missing"),
        ({"a": 1, "c": 3}, "c: unexpected argument"),
        ({RAW_ARGUMENTS_KEY: '{"a": 1'}, "were not a JSON object"),
    ],
)
async def test_bad_arguments_become_content_and_the_tool_is_not_called(
    add: Any, calls: list[tuple[Any, ...]], arguments: dict[str, Any], expected: str
) -> None:
    bus = EventBus()
    recorder = Recorder(bus)
    result = await dispatch_tool(
        ToolCall(id="c1", name="add", arguments=arguments), {"add": add}, events=bus
    )
    assert calls == []
    assert result.content.startswith("Error: ")
    assert expected in result.content
    assert "Call 'add' again" in result.content
    assert isinstance(result.error, ToolArgumentsError)
    assert [e.name for e in recorder.seen] == [TOOL_START, TOOL_ERROR]
    assert recorder.seen[1].error is result.error


async def test_unknown_tool_names_the_offered_ones(add: Any) -> None:
    @register_tool
    def hidden() -> str:
        return "registered globally but not offered"

    result = await dispatch_tool(_call("hidden"), [add])
    assert isinstance(result.error, ToolNotFoundError)
    assert result.content == (
        "Error: There is no tool named 'hidden'. The available tools are: add. "
        "Call one of those, or answer without a tool."
    )


async def test_without_a_tool_list_the_registry_is_used() -> None:
    @register_tool
    def ping() -> str:
        return "pong"

    assert (await dispatch_tool(_call("ping"))).content == "pong"
    missing = await dispatch_tool(_call("absent"))
    assert isinstance(missing.error, ToolNotFoundError)


async def test_a_raising_tool_becomes_content_with_the_cause_kept() -> None:
    def divide(a: float, b: float) -> float:
        return a / b

    bus = EventBus()
    recorder = Recorder(bus)
    result = await dispatch_tool(_call("divide", a=1, b=0), [make_tool(divide)], events=bus)
    assert result.content.startswith("Error: Tool 'divide' raised ZeroDivisionError: ")
    assert isinstance(result.error, ToolExecutionError)
    assert isinstance(result.error.__cause__, ZeroDivisionError)
    assert recorder.seen[-1].name == TOOL_ERROR


async def test_a_tool_raising_a_tool_error_speaks_for_itself() -> None:
    async def lookup(key: str) -> str:
        raise ToolArgumentsError(f"Unknown key {key!r}; use one of: a, b.")

    result = await dispatch_tool(_call("lookup", key="z"), [make_tool(lookup)])
    assert result.content == "Error: Unknown key 'z'; use one of: a, b."


async def test_sync_tools_run_in_a_worker_thread_async_ones_on_the_loop() -> None:
    threads: dict[str, int] = {}

    def sync_tool() -> str:
        threads["sync"] = threading.get_ident()
        return "ok"

    async def async_tool() -> str:
        threads["async"] = threading.get_ident()
        return "ok"

    tools = [make_tool(sync_tool), make_tool(async_tool)]
    await dispatch_tool(_call("sync_tool"), tools)
    await dispatch_tool(_call("async_tool"), tools)
    assert threads["async"] == threading.get_ident()
    assert threads["sync"] != threading.get_ident()


REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("REQUEST_ID", default="unset")


async def test_the_callers_context_reaches_a_sync_tool_in_its_thread() -> None:
    # What tracing (OpenTelemetry's current span) and request-id logging rely on: the worker
    # thread runs the tool in a copy of the caller's context (asyncio.to_thread's contract).
    def whoami() -> str:
        return REQUEST_ID.get()

    REQUEST_ID.set("req-42")
    assert (await dispatch_tool(_call("whoami"), [make_tool(whoami)])).content == "req-42"


async def test_a_slow_sync_tool_does_not_block_the_event_loop() -> None:
    release = threading.Event()

    def slow() -> str:
        release.wait(timeout=5)
        return "done"

    async def other_task() -> str:
        await asyncio.sleep(0)
        release.set()  # only possible if the loop kept running while slow() blocked
        return "progressed"

    result, progressed = await asyncio.gather(
        dispatch_tool(_call("slow"), [make_tool(slow)]), other_task()
    )
    assert (result.content, progressed) == ("done", "progressed")


async def test_per_call_timeout_wins_over_the_tools_own() -> None:
    never = asyncio.Event()

    async def wait_forever() -> str:
        await never.wait()
        return "unreachable"

    tool = make_tool(wait_forever, timeout=30)
    result = await dispatch_tool(_call("wait_forever"), [tool], timeout=0.01)
    assert isinstance(result.error, ToolExecutionError)
    assert isinstance(result.error.__cause__, asyncio.TimeoutError)
    assert "did not finish within 0.01s" in result.content


async def test_tool_timeout_applies_to_sync_tools_too() -> None:
    release = threading.Event()

    def stuck() -> str:
        release.wait(timeout=5)
        return "late"

    tool = make_tool(stuck, timeout=0.01)
    try:
        result = await dispatch_tool(_call("stuck"), [tool])
    finally:
        release.set()  # let the abandoned thread finish
    assert "did not finish within 0.01s" in result.content


async def test_a_tools_own_timeout_error_is_not_mistaken_for_ours() -> None:
    async def flaky() -> str:
        raise TimeoutError("upstream timed out")

    result = await dispatch_tool(_call("flaky"), [make_tool(flaky, timeout=5)])
    assert result.content == "Error: Tool 'flaky' raised TimeoutError: upstream timed out"


async def test_nested_models_arrive_validated() -> None:
    received: list[Address] = []

    def ship(address: Address) -> str:
        received.append(address)
        return "shipped"

    tool = make_tool(ship)
    ok = await dispatch_tool(_call("ship", address={"street": "Main", "zip_code": "75001"}), [tool])
    assert ok.content == "shipped"
    assert received == [Address(street="Main", zip_code=75001)]
    bad = await dispatch_tool(_call("ship", address={"street": "Main"}), [tool])
    assert "address.zip_code: required but missing" in bad.content


async def test_positional_only_parameters_are_passed_positionally() -> None:
    def power(base: int, /, exponent: int = 2) -> int:
        return int(base**exponent)

    assert (await dispatch_tool(_call("power", base=3), [make_tool(power)])).content == "9"


class Mood(enum.Enum):
    HAPPY = "happy"


@dataclasses.dataclass
class Row:
    when: dt.date
    mood: Mood


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain text", "plain text"),
        (42, "42"),
        (None, "null"),
        ({"a": [1, 2.5, True]}, '{"a":[1,2.5,true]}'),
        (Address(street="Main", zip_code=1), '{"street":"Main","zip_code":1}'),
        (Row(dt.date(2024, 1, 2), Mood.HAPPY), '{"when":"2024-01-02","mood":"happy"}'),
        ([uuid.UUID(int=1)], '["00000000-0000-0000-0000-000000000001"]'),
        ({"ünï": "çødé"}, '{"ünï":"çødé"}'),
    ],
)
def test_results_are_serialised_to_json_not_str(value: Any, expected: str) -> None:
    assert serialize_result(value) == expected


def test_unknown_objects_fall_back_to_str_for_that_value_only() -> None:
    class Opaque:
        def __str__(self) -> str:
            return "opaque!"

    assert serialize_result({"x": Opaque()}) == '{"x":"opaque!"}'


async def test_unserialisable_results_become_error_content() -> None:
    def loop() -> Any:
        cycle: list[Any] = []
        cycle.append(cycle)
        return cycle

    result = await dispatch_tool(_call("loop"), [make_tool(loop)])
    assert isinstance(result.error, ToolExecutionError)
    assert "could not be serialised to JSON" in result.content


async def test_tool_run_directly_raises_typed_errors(add: Any) -> None:
    assert await add.run({"a": 1, "b": 2}) == 3
    with pytest.raises(ToolArgumentsError):
        await add.run({"a": "nope"})


# --- by name: the spec's dispatch_tool(name, arguments) ----------------------------------


async def test_by_name_returns_the_tools_value_not_text() -> None:
    @register_tool(description="Add two numbers")
    def add(a: int, b: int) -> int:
        return a + b

    @register_tool
    async def profile(user: str) -> dict[str, Any]:
        return {"user": user, "tags": ["a"]}

    total = await dispatch_tool("add", {"a": 2, "b": 3})
    assert_type(total, Any)
    assert total == 5
    assert type(total) is int
    assert await dispatch_tool("profile", {"user": "u1"}) == {"user": "u1", "tags": ["a"]}


async def test_by_name_without_arguments_and_with_the_functions_defaults() -> None:
    @register_tool
    def ping(reply: str = "pong") -> str:
        return reply

    assert await dispatch_tool("ping") == "pong"
    assert await dispatch_tool("ping", {}) == "pong"
    assert await dispatch_tool("ping", {"reply": "hi"}) == "hi"


async def test_by_name_an_unknown_tool_raises_naming_the_registered_ones() -> None:
    @register_tool
    def add(a: int, b: int) -> int:
        return a + b

    with pytest.raises(ToolNotFoundError) as info:
        await dispatch_tool("ad", {"a": 1, "b": 2})
    message = str(info.value)
    assert "'ad'" in message
    assert "add" in message.replace("'ad'", "")  # what exists is listed


async def test_by_name_invalid_arguments_raise_before_the_tool_runs() -> None:
    ran: list[int] = []

    @register_tool
    def double(n: int) -> int:
        ran.append(n)
        return n * 2

    with pytest.raises(ToolArgumentsError, match="n: Input should be a valid integer"):
        await dispatch_tool("double", {"n": "many"})
    with pytest.raises(ToolArgumentsError, match="n: required but missing"):
        await dispatch_tool("double", {})
    with pytest.raises(ToolArgumentsError, match="extra: unexpected argument"):
        await dispatch_tool("double", {"n": 1, "extra": 2})
    assert ran == []


async def test_by_name_a_raising_tool_raises_tool_execution_error_with_its_exception() -> None:
    @register_tool
    def divide(a: float, b: float) -> float:
        return a / b

    with pytest.raises(ToolExecutionError, match="raised ZeroDivisionError") as info:
        await dispatch_tool("divide", {"a": 1, "b": 0})
    assert isinstance(info.value.__cause__, ZeroDivisionError)
    # The same error the ToolCall form reports, so one except clause covers both forms.
    result = await dispatch_tool(_call("divide", a=1, b=0))
    assert type(result.error) is type(info.value)
    assert str(result.error) == str(info.value)


async def test_by_name_a_timeout_raises_tool_execution_error() -> None:
    never = asyncio.Event()

    @register_tool(timeout=30)
    async def wait_forever() -> str:
        await never.wait()
        return "unreachable"

    with pytest.raises(ToolExecutionError, match=r"did not finish within 0\.01s") as info:
        await dispatch_tool("wait_forever", timeout=0.01)
    assert isinstance(info.value.__cause__, asyncio.TimeoutError)


async def test_by_name_every_failure_is_a_tool_error() -> None:
    @register_tool
    def fails() -> str:
        raise KeyError("k")

    for name, arguments in (("missing", {}), ("fails", {"x": 1}), ("fails", {})):
        with pytest.raises(ToolError):
            await dispatch_tool(name, arguments)


async def test_by_name_a_tool_error_raised_by_the_tool_is_raised_as_is() -> None:
    refusal = ToolArgumentsError("Unknown key 'z'; use one of: a, b.")

    @register_tool
    async def lookup(key: str) -> str:
        raise refusal

    with pytest.raises(ToolArgumentsError) as info:
        await dispatch_tool("lookup", {"key": "z"})
    assert info.value is refusal


async def test_by_name_looks_in_the_given_registry() -> None:
    private = Registry()

    def secret() -> str:
        return "from the private registry"

    register_tool(registry=private)(secret)
    assert await dispatch_tool("secret", registry=private) == "from the private registry"
    with pytest.raises(ToolNotFoundError):
        await dispatch_tool("secret")


async def test_by_name_bad_input_is_a_type_error_saying_what_to_pass() -> None:
    @register_tool
    def add(a: int, b: int) -> int:
        return a + b

    with pytest.raises(TypeError, match="arguments must be a mapping"):
        await dispatch_tool("add", [2, 3])  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="fires no events"):
        await dispatch_tool("add", {"a": 1, "b": 2}, events=EventBus())  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="a tool name and its arguments, or a ToolCall"):
        await dispatch_tool({"name": "add"})  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="registry= applies to dispatch_tool"):
        await dispatch_tool(_call("add", a=1, b=2), registry=Registry())  # type: ignore[call-overload]


async def test_the_toolcall_form_is_typed_as_a_tool_result(add: Any) -> None:
    result = await dispatch_tool(_call("add", a=1, b=1), tools=[add])
    assert_type(result, ToolResult)
    assert result.content == "2"


def test_get_tool_and_list_tools_as_the_spec_exposes_them() -> None:
    import aether

    @register_tool(description="Add two numbers")
    def add(a: int, b: int) -> int:
        return a + b

    assert (aether.dispatch_tool, aether.get_tool, aether.list_tools) == (
        dispatch_tool,
        get_tool,
        list_tools,
    )
    tool = get_tool("add")
    assert (tool.name, tool.description, tool.function) == ("add", "Add two numbers", add)
    names = list_tools()
    assert "add" in names
    assert names == sorted(names)
    with pytest.raises(ToolNotFoundError):
        get_tool("nope")
