"""Per-iteration overhead of the tool loop against a bare FakeProvider round trip, same run.

    python bench/bench_tool_loop.py [--iterations 2000] [--repeat 5]

Four figures, each the best of ``--repeat`` runs, in microseconds per provider call:

* ``bare``: ``await fake.complete(request)``, the cheapest possible round trip (no network,
  no JSON, the scripted answer returned as is);
* ``hand-written loop``: the least a loop written by hand with the same contracts does per
  iteration (provider call, two messages, the tool call, the next request): the baseline the
  framework's overhead is measured against;
* ``loop (async tool)``: one tool-loop iteration: the provider call through
  ``complete_with_events``, appending the assistant turn, validating the arguments with the
  tool's pydantic model, running an async tool, serialising its result, building the next
  request;
* ``loop (sync tool)``: the same with a sync tool, which adds the hop to a worker thread
  (``asyncio.to_thread``) that keeps the event loop responsive.

The framework's overhead is ``(loop - hand-written) / hand-written``: what validation,
events, error handling and concurrency cost on top of the unavoidable work. Against the bare
``complete`` of a fake that returns a prebuilt object (a fraction of a microsecond) any
loop is many times slower; against a real provider round trip (100 ms and more) the
absolute figures printed here are what matter.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable

from aether.events import EventBus
from aether.extensions.llm.fake import FakeProvider
from aether.llm.contracts import LLMRequest, LLMResponse, Message, ToolCall
from aether.tools import make_tool, run_tool_loop


def add_sync(a: int, b: int) -> int:
    return a + b


async def add_async(a: int, b: int) -> int:
    return a + b


def _script(n: int, tool: str) -> list[LLMResponse]:
    call = LLMResponse(
        text="",
        model="fake",
        input_tokens=10,
        output_tokens=2,
        tool_calls=[ToolCall(id="c1", name=tool, arguments={"a": 2, "b": 3})],
    )
    final = LLMResponse(text="5", model="fake", input_tokens=10, output_tokens=1)
    return [call] * (n - 1) + [final]


async def _time(make: Callable[[], Awaitable[None]]) -> float:
    started = time.perf_counter()
    await make()
    return time.perf_counter() - started


async def bare(n: int) -> float:
    fake = FakeProvider(responses=_script(n, "add_async"))
    request = LLMRequest(messages=[Message(role="user", content="2+3?")])

    async def go() -> None:
        for _ in range(n):
            await fake.complete(request)

    return await _time(go)


async def by_hand(n: int) -> float:
    """The least a hand-written loop does per iteration with the same contracts: call the
    provider, append the assistant turn, call the tool, append its result, build the next
    request. No validation, no events, no error handling, no concurrency."""
    fake = FakeProvider(responses=_script(n, "add_async"))
    tool = make_tool(add_async)
    request = LLMRequest(messages=[Message(role="user", content="2+3?")], tools=[tool.spec])

    async def go() -> None:
        messages = list(request.messages)
        current = request
        while True:
            response = await fake.complete(current)
            if not response.tool_calls:
                return
            messages.append(
                Message(role="assistant", content=response.text, tool_calls=response.tool_calls)
            )
            for call in response.tool_calls:
                result = await add_async(**call.arguments)
                messages.append(
                    Message(role="tool", content=str(result), tool_call_id=call.id, name=call.name)
                )
            current = request.model_copy(update={"messages": list(messages)})

    return await _time(go)


async def loop(n: int, function: Callable[..., object]) -> float:
    tool = make_tool(function)
    fake = FakeProvider(responses=_script(n, tool.name))
    # The conversation grows by two messages per iteration; the bench keeps it short so the
    # figure is per-iteration work, not copying an ever-longer transcript.
    request = LLMRequest(messages=[Message(role="user", content="2+3?")], tools=[tool.spec])
    events = EventBus()

    async def go() -> None:
        await run_tool_loop(fake, request, [tool], events=events, max_iterations=n)

    return await _time(go)


async def main(iterations: int, repeat: int) -> None:
    chunk = 50  # iterations per loop run: the transcript stays realistic in length
    runs = max(1, iterations // chunk)

    async def best(measure: Callable[[], Awaitable[float]]) -> float:
        results = []
        for _ in range(repeat):
            total = 0.0
            for _ in range(runs):
                total += await measure()
            results.append(total / (runs * chunk))
        return min(results)

    b = await best(lambda: bare(chunk))
    h = await best(lambda: by_hand(chunk))
    la = await best(lambda: loop(chunk, add_async))
    ls = await best(lambda: loop(chunk, add_sync))
    rows = [
        ("bare FakeProvider.complete", b, None),
        ("hand-written loop iteration", h, b),
        ("tool loop iteration, async tool", la, b),
        ("tool loop iteration, sync tool", ls, b),
    ]
    print(f"per provider call (best of {repeat}, {runs * chunk} iterations each)")
    for label, value, base in rows:
        extra = "" if base is None else f"  +{(value - base) * 1e6:6.2f} us over bare"
        print(f"  {label:<32} {value * 1e6:7.2f} us{extra}")
    print(f"framework overhead vs the hand-written loop (async tool): {(la - h) / h:6.1%}")
    print(f"framework overhead vs the hand-written loop (sync tool):  {(ls - h) / h:6.1%}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.iterations, args.repeat))
