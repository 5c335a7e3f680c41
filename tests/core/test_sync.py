"""``SyncAether``: Aether's calls, blocking, from scripts, threads, notebooks and Ctrl-C."""

from __future__ import annotations

import asyncio
import inspect
import signal
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import aether
from aether import Aether, SyncAether
from aether.llm.contracts import LLMRequest, LLMResponse, LLMStreamChunk
from aether.memory.session import Session
from aether.sync import SyncSession, SyncStream, _adopt

WAIT = 10.0


class Probe:
    """A provider that records where and how its calls ran, and whether streams were closed."""

    name = "probe"
    default_model = "probe-model"

    def __init__(self, *, gather: int = 0, hang: bool = False, chunks: int = 3) -> None:
        self.gather = gather  # hold each call until this many are in flight at once
        self.hang = hang  # hold each call until it is cancelled
        self.chunks = chunks
        self.threads: set[int] = set()
        self.loops: set[int] = set()
        self.in_flight = 0
        self.peak = 0
        self.all_in = asyncio.Event()  # bound to the client's loop on first use
        self.started = threading.Event()
        self.cancelled = threading.Event()
        self.streams_closed = 0
        self.closed = False

    async def _enter(self) -> None:
        self.threads.add(threading.get_ident())
        self.loops.add(id(asyncio.get_running_loop()))
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        self.started.set()
        if self.in_flight >= self.gather:
            self.all_in.set()
        try:
            if self.gather:
                await asyncio.wait_for(self.all_in.wait(), WAIT)
            if self.hang:  # long enough for any interrupt; bounded, so a lost one fails
                await asyncio.sleep(3 * WAIT)
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        finally:
            self.in_flight -= 1

    async def complete(self, request: LLMRequest) -> LLMResponse:
        await self._enter()
        return LLMResponse(text=f"echo: {request.messages[-1].text}", model="probe-model")

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        try:
            for index in range(self.chunks):
                if index == 1:
                    await self._enter()  # a stream that stalls after its first chunk
                yield LLMStreamChunk(text=f"t{index} ")
            yield LLMStreamChunk(finish_reason="stop", model="probe-model")
        finally:
            self.streams_closed += 1

    async def aclose(self) -> None:
        self.closed = True


@pytest.fixture
def probe() -> Probe:
    return Probe()


@pytest.fixture
def client(probe: Probe) -> SyncAether:
    return SyncAether(probe)


def test_a_script_asks_streams_and_keeps_a_session(client: SyncAether, probe: Probe) -> None:
    assert client.ask("hi") == "echo: hi"
    assert client.complete("hi").model == "probe-model"
    assert list(client.stream_text("x")) == ["t0 ", "t1 ", "t2 "]
    assert [chunk.finish_reason for chunk in client.stream("x")][-1] == "stop"
    chat = client.session("alice", system="Be brief.")
    assert isinstance(chat, SyncSession) and chat.session_id == "alice"
    assert chat.system == "Be brief."
    assert chat.ask("My name is Alice.") == "echo: My name is Alice."
    assert "".join(chat.stream_text("again")) == "t0 t1 t2 "
    assert [m.text for m in chat.history()] == [
        "My name is Alice.",
        "echo: My name is Alice.",
        "again",
        "t0 t1 t2 ",
    ]
    chat.clear()
    assert chat.history() == []
    assert client.usage.total_requests == 6
    main = threading.get_ident()
    assert len(probe.threads) == 1 and main not in probe.threads  # one loop thread, not ours
    assert len(probe.loops) == 1


def test_from_a_plain_thread(client: SyncAether) -> None:
    answers: list[str] = []
    worker = threading.Thread(target=lambda: answers.append(client.ask("from a thread")))
    worker.start()
    worker.join(WAIT)
    assert answers == ["echo: from a thread"]


async def test_under_a_running_loop(client: SyncAether, probe: Probe) -> None:
    # As in a notebook cell, or an async framework calling synchronous code.
    here = asyncio.get_running_loop()
    assert client.ask("inside a loop") == "echo: inside a loop"
    assert "".join(client.stream_text("x")) == "t0 t1 t2 "
    assert probe.loops and id(here) not in probe.loops  # ran on the client's own loop


def test_twenty_threads_at_once_share_one_loop() -> None:
    probe = Probe(gather=20)
    client = SyncAether(probe)
    answers: dict[int, str] = {}

    def ask(index: int) -> None:
        answers[index] = client.ask(f"question {index}")

    workers = [threading.Thread(target=ask, args=(i,)) for i in range(20)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(WAIT)
    assert answers == {i: f"echo: question {i}" for i in range(20)}
    assert probe.peak == 20  # all twenty were in flight together, not one after another
    assert len(probe.loops) == 1 and len(probe.threads) == 1
    client.close()


def test_breaking_out_of_a_stream_closes_the_providers_stream() -> None:
    probe = Probe(chunks=1000)
    client = SyncAether(probe)
    for delta in client.stream_text("long"):
        assert delta == "t0 "
        break
    assert probe.streams_closed == 1  # at once, not when the garbage collector gets to it

    with client.stream_text("long") as deltas:
        assert next(deltas) == "t0 "
    assert probe.streams_closed == 2

    # A session's stream holds the session while open; leaving it lets the next call in.
    chat = client.session("s")
    for _ in chat.stream_text("abandoned"):
        break
    assert probe.streams_closed == 3
    assert chat.history() == []  # an unfinished answer is not stored
    assert chat.ask("next") == "echo: next"


def test_a_stream_of_a_client_nobody_else_holds_stays_open() -> None:
    # The stream keeps its client alive; dropping the client would close it mid-stream.
    assert list(SyncAether(Probe()).stream_text("x")) == ["t0 ", "t1 ", "t2 "]
    assert SyncAether(Probe()).session("s").ask("y") == "echo: y"


def test_after_close_calls_fail_clearly(client: SyncAether, probe: Probe) -> None:
    assert client.ask("before") == "echo: before"
    thread = client._loop._thread
    client.close()
    assert probe.closed  # the provider's connections were closed
    assert not thread.is_alive()  # and the thread has ended
    assert client.closed and "closed" in repr(client)
    message = "This SyncAether is closed; create a new SyncAether"
    with pytest.raises(RuntimeError, match=message):
        client.ask("after")
    with pytest.raises(RuntimeError, match=message):
        next(client.stream_text("after"))
    with pytest.raises(RuntimeError, match=message):
        client.session("s")
    client.close()  # twice is fine
    assert client.usage.total_requests == 1  # what it spent can still be read


def test_context_manager_closes() -> None:
    probe = Probe()
    with SyncAether(probe) as client:
        assert client.ask("x") == "echo: x"
    assert probe.closed and client.closed


def test_ctrl_c_cancels_the_call_in_flight() -> None:
    probe = Probe(hang=True)
    client = SyncAether(probe)
    main = threading.main_thread().ident
    assert main == threading.get_ident() and main is not None

    def press_ctrl_c() -> None:
        if probe.started.wait(WAIT):
            signal.pthread_kill(main, signal.SIGINT)

    threading.Thread(target=press_ctrl_c).start()
    with pytest.raises(KeyboardInterrupt):
        client.ask("never answered")
    assert probe.cancelled.is_set()  # cancelled before the interrupt reached the caller
    assert probe.in_flight == 0
    probe.hang = False
    assert client.ask("still usable") == "echo: still usable"


def test_ctrl_c_during_a_stream_closes_it_and_keeps_no_turn() -> None:
    probe = Probe(hang=True)
    client = SyncAether(probe)
    chat = client.session("s")
    main = threading.main_thread().ident
    assert main is not None

    def press_ctrl_c() -> None:
        if probe.started.wait(WAIT):
            signal.pthread_kill(main, signal.SIGINT)

    threading.Thread(target=press_ctrl_c).start()
    seen: list[str] = []

    def read() -> None:
        for delta in chat.stream_text("stalls after one chunk"):
            seen.append(delta)

    with pytest.raises(KeyboardInterrupt):
        read()
    assert seen == ["t0 "]
    assert probe.cancelled.is_set() and probe.streams_closed == 1
    assert chat.history() == []


def test_event_callbacks_run_on_the_loop_and_cannot_call_back(client: SyncAether) -> None:
    seen: list[str] = []

    @client.on("request.start")
    def on_start(event: object) -> None:
        seen.append(threading.current_thread().name)
        try:
            client.ask("re-entrant")
        except RuntimeError as exc:
            seen.append(str(exc))

    assert client.ask("x") == "echo: x"
    assert seen[0] == "aether-sync"
    assert "called from its own event loop thread" in seen[1]
    client.off("request.start", on_start)
    client.ask("y")
    assert len(seen) == 2


def test_errors_propagate_as_they_are() -> None:
    from aether.errors import ToolNotFoundError

    client = SyncAether(Probe())
    with pytest.raises(ToolNotFoundError):
        client.ask("x", tools=["no_such_tool"])


def _public_async(cls: type) -> list[str]:
    return [
        name
        for name, member in vars(cls).items()
        if not name.startswith("_")
        and name != "aclose"
        and (inspect.iscoroutinefunction(member) or inspect.isasyncgenfunction(member))
    ]


@pytest.mark.parametrize(("wrapper", "source"), [(SyncAether, Aether), (SyncSession, Session)])
def test_every_async_method_has_a_blocking_twin_with_its_parameters(
    wrapper: type, source: type
) -> None:
    names = _public_async(source)
    assert {"ask", "stream_text"} <= set(names)
    for name in names:
        twin, original = getattr(wrapper, name), getattr(source, name)
        assert inspect.signature(twin).parameters == inspect.signature(original).parameters
        assert twin.__doc__ == original.__doc__


def test_async_methods_the_client_gains_are_adopted() -> None:
    class Grown(Aether):
        async def shout(self, text: str) -> str:
            return text.upper()

        async def words(self, text: str) -> AsyncIterator[str]:
            for word in text.split():
                yield word

    class SyncGrown(SyncAether):
        __slots__ = ()

    _adopt(SyncGrown, Grown)
    client = SyncGrown(Probe())
    client._target = Grown(Probe())
    assert client.shout("hey") == "HEY"  # type: ignore[attr-defined]
    words = client.words("a b c")  # type: ignore[attr-defined]
    assert isinstance(words, SyncStream) and list(words) == ["a", "b", "c"]
    assert "close" in vars(SyncAether) and "aclose" not in vars(SyncGrown)
    client.close()


def test_the_constructor_takes_aethers_arguments() -> None:
    assert inspect.signature(SyncAether).parameters == inspect.signature(Aether).parameters
    from aether.extensions.llm.builder import ProviderConfig

    config = ProviderConfig(provider="fake")
    with pytest.raises(TypeError, match="either a provider or config"):
        SyncAether(Probe(), config=config)


def test_import_aether_does_not_load_it() -> None:
    code = "import sys, aether; print('aether.sync' in sys.modules); aether.SyncAether"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
    assert aether.SyncAether is SyncAether


TYPED_USE = """
from pydantic import BaseModel
from aether import SyncAether

class Invoice(BaseModel):
    total: float

client = SyncAether()
reveal_type(client.ask("x"))
reveal_type(client.ask("x", output_type=Invoice, settings={"seed": 1}))
reveal_type(client.complete("x").text)
reveal_type(client.stream_text("x"))
reveal_type(client.stream_output("x", output_type=Invoice))
reveal_type(client.session("s").ask("x"))
reveal_type(client.session("s").history())
client.ask("x", temperatur=0.5)
SyncAether(confg=None)
"""


@pytest.mark.slow
def test_type_checkers_see_aethers_signatures(tmp_path: Path) -> None:
    source = tmp_path / "use.py"
    source.write_text(TYPED_USE)
    # In a process of its own: mypy raises the interpreter's recursion limit for good.
    out = subprocess.run(
        [sys.executable, "-m", "mypy", str(source), "--strict", "--cache-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    revealed = [
        line.split("Revealed type is ")[1] for line in out.splitlines() if "Revealed" in line
    ]
    assert revealed == [
        '"str"',
        '"use.Invoice"',
        '"str"',
        '"aether.sync.SyncStream[str]"',
        '"aether.sync.SyncStream[use.Invoice]"',
        '"str"',
        '"list[aether.llm.contracts.Message]"',
    ], out
    assert 'Unexpected keyword argument "temperatur"; did you mean "temperature"?' in out
    assert 'Unexpected keyword argument "confg" for "SyncAether"' in out
