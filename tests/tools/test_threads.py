"""Sync tools on daemon workers: timeouts stop the wait, abandoned threads never block exit."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
from collections.abc import Callable

import pytest

from aether.errors import ToolExecutionError
from aether.extensions.llm.fake import FakeProvider
from aether.tools import _threads, make_tool
from aether.tools._threads import run_in_worker
from tests.tools.test_loop import BOTH_LOOPS, answer, calls, final_text, tool_messages


@BOTH_LOOPS
async def test_tool_timeout_stops_waiting_for_a_stuck_sync_tool_and_tells_the_model(
    streamed: bool, caplog: pytest.LogCaptureFixture
) -> None:
    release = threading.Event()

    def stuck() -> str:
        release.wait(timeout=30)
        return "late"

    fake = FakeProvider(responses=[calls(("c1", "stuck", {})), answer("gave up")])
    started = time.monotonic()
    try:
        with caplog.at_level(logging.WARNING, logger="aether.tools"):
            text = await final_text(fake, [make_tool(stuck, timeout=0.2)], streamed=streamed)
    finally:
        release.set()  # let the abandoned thread finish
    assert time.monotonic() - started < 5
    assert text == "gave up"
    [(_, content)] = tool_messages(fake.calls[1])
    assert content == (
        "Error: Tool 'stuck' did not finish within 0.2s and was abandoned. Try simpler "
        "arguments, or answer without it."
    )
    assert "Tool 'stuck' was abandoned" in caplog.text
    assert "does not keep the process from exiting" in caplog.text


async def test_no_warning_when_the_function_finished_before_the_wait_was_cancelled(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="aether.tools"):
        assert await run_in_worker("quick", int, "7") == 7
    assert caplog.text == ""


def _tool_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name.startswith("aether-tool-"))


async def test_sync_tools_run_on_daemon_threads_that_are_reused() -> None:
    seen: list[bool] = []

    def where() -> str:
        seen.append(threading.current_thread().daemon)
        return "here"

    tool = make_tool(where)
    assert await tool.run({}) == "here"
    before = _tool_threads()
    for _ in range(20):
        assert await tool.run({}) == "here"
    assert seen == [True] * 21
    assert _tool_threads() <= before  # one call at a time: idle workers took every one


async def test_concurrent_sync_tools_each_get_a_thread() -> None:
    # Each waits for the other: run one after the other, they would both time out.
    first, second = threading.Event(), threading.Event()

    def ping() -> str:
        first.set()
        return "ping" if second.wait(timeout=5) else "alone"

    def pong() -> str:
        second.set()
        return "pong" if first.wait(timeout=5) else "alone"

    results = await asyncio.gather(make_tool(ping).run({}), make_tool(pong).run({}))
    assert list(results) == ["ping", "pong"]


async def test_an_abandoned_thread_does_not_starve_the_next_call() -> None:
    release = threading.Event()

    def stuck() -> str:
        release.wait(timeout=30)
        return "late"

    try:
        with pytest.raises(ToolExecutionError, match="did not finish"):
            await make_tool(stuck, timeout=0.05).run({})
        assert await asyncio.wait_for(make_tool(lambda: "next", name="quick").run({}), 5) == "next"
    finally:
        release.set()


async def test_a_sync_tools_exception_reaches_the_caller() -> None:
    def broken() -> str:
        raise KeyError("k")

    with pytest.raises(ToolExecutionError, match="raised KeyError") as info:
        await make_tool(broken).run({})
    assert isinstance(info.value.__cause__, KeyError)


def test_idle_workers_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_threads, "IDLE_SECONDS", 0.05)
    workers = _threads._Workers()
    done = threading.Event()
    threads: list[threading.Thread] = []

    def work() -> Callable[[], None]:
        threads.append(threading.current_thread())
        return done.set

    workers.submit(work)
    assert done.wait(5)
    threads[0].join(timeout=5)
    assert not threads[0].is_alive()
    done.clear()
    workers.submit(work)  # a new worker is started once the idle one has gone
    assert done.wait(5)
    assert threads[1] is not threads[0]


_HANGING = """
import asyncio, threading
from aether.events import EventBus
from aether.extensions.llm.fake import FakeProvider
from aether.llm.contracts import LLMRequest, LLMResponse, Message, ToolCall
from aether.tools import make_tool, run_tool_loop

def hang() -> str:
    threading.Event().wait()  # never returns
    return "never"

async def main() -> None:
    tool = make_tool(hang)
    fake = FakeProvider(responses=[
        LLMResponse(tool_calls=[ToolCall(id="c1", name="hang", arguments={})]),
        LLMResponse(text="gave up"),
    ])
    request = LLMRequest(messages=[Message(role="user", content="go")], tools=[tool.spec])
    answer = await run_tool_loop(
        fake, request, [tool], events=EventBus(), max_iterations=2, tool_timeout=0.2
    )
    print(answer.text, "|", fake.calls[1].messages[-1].content, flush=True)

asyncio.run(main())
"""

_AFTER_FORK = """
import asyncio, os
from aether.tools import make_tool

tool = make_tool(lambda: "ran", name="quick")
print("parent", asyncio.run(tool.run({})), flush=True)  # leaves an idle worker behind
pid = os.fork()
if pid == 0:
    print("child", asyncio.run(asyncio.wait_for(tool.run({}), 5)), flush=True)
    os._exit(0)
os.waitpid(pid, 0)
"""


async def _run_child(code: str) -> tuple[int, str, str, float]:
    started = time.monotonic()
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(child.communicate(), 30)
    except asyncio.TimeoutError:
        child.kill()
        await child.wait()
        raise AssertionError("the child process did not exit") from None
    assert child.returncode is not None
    return child.returncode, out.decode(), err.decode(), time.monotonic() - started


async def test_asyncio_run_exits_although_a_sync_tool_never_returns() -> None:
    code, out, err, elapsed = await _run_child(_HANGING)
    assert code == 0, err
    assert out.strip() == "gave up | Error: Tool 'hang' did not finish within 0.2s and was " + (
        "abandoned. Try simpler arguments, or answer without it."
    )
    assert "Tool 'hang' was abandoned" in err  # logging's last-resort handler: stderr
    assert elapsed < 10  # the interpreter's start-up included; a join would never return


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX-only")
async def test_a_forked_child_starts_its_own_workers() -> None:
    code, out, err, _ = await _run_child(_AFTER_FORK)
    assert code == 0, err
    assert out.split() == ["parent", "ran", "child", "ran"]
