"""``LoopThread``: one event loop in a daemon thread, and blocking calls into it.

What :class:`~aether.sync.SyncAether` stands on. A call hands its coroutine to the loop and
waits on a plain lock, the cheapest wake-up between two threads; Ctrl-C while waiting cancels
the coroutine and waits for it to clean up before the ``KeyboardInterrupt`` goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any, Generic, TypeVar

__all__ = ["LoopThread"]

T = TypeVar("T")

_CLOSED = "This SyncAether is closed; create a new SyncAether to make more calls."


class _Call(Generic[T]):
    """One coroutine run for a waiting thread: started, then settled, on the loop thread."""

    __slots__ = ("coro", "done", "error", "result", "scheduled", "settled", "task")

    def __init__(self, coro: Coroutine[Any, Any, T]) -> None:
        self.coro = coro
        self.done = threading.Lock()
        self.done.acquire()  # released once settled
        self.task: asyncio.Task[None] | None = None
        self.result: T | None = None
        self.error: BaseException | None = None
        self.scheduled = self.settled = False

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self.task = loop.create_task(self._drive())
        self.task.add_done_callback(self._finish)

    async def _drive(self) -> None:
        # Settled from inside the task's last step, not from a done callback: that would
        # cost the waiting thread another turn of the loop.
        try:
            self.result = await self.coro
        except asyncio.CancelledError:  # by an interrupt (whose caller raises that) or close()
            self._settle(RuntimeError(f"The call was cancelled: {_CLOSED}"))
            raise
        except BaseException as exc:
            self._settle(exc)
        else:
            self._settle(None)

    def _finish(self, task: asyncio.Task[None]) -> None:
        if not self.settled:  # cancelled before its first step: _drive never ran
            self.coro.close()
            self._settle(RuntimeError(f"The call was cancelled: {_CLOSED}"))

    def _settle(self, error: BaseException | None) -> None:
        self.error = error
        self.settled = True
        self.done.release()

    def cancel(self) -> None:
        # Callbacks run in the order scheduled: if ``start`` was, it has run by now.
        if self.task is not None:
            self.task.cancel()
        elif not self.settled:
            self.coro.close()
            self._settle(RuntimeError("The call was cancelled before it started."))

    def outcome(self) -> T:
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]  # set when there is no error


class LoopThread:
    """An event loop running forever in a daemon thread; callers hand it work and wait."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._closed = False
        self._guard = threading.Lock()
        self._spawned: set[asyncio.Task[Any]] = set()  # held, so they are not collected
        self._thread = threading.Thread(target=self._main, name="aether-sync", daemon=True)
        self._thread.start()

    def _main(self) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
            # Stopped by stop(): calls still in flight (other threads') end cancelled.
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`stop` has been called."""
        return self._closed

    def on_loop_thread(self) -> bool:
        """Whether the caller is the loop's own thread (where waiting would never end)."""
        return threading.get_ident() == self._thread.ident

    def check_open(self) -> None:
        """Raise the error of a closed client when it is closed."""
        if self._closed:
            raise RuntimeError(_CLOSED)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop and wait; an interrupt while waiting cancels it first."""
        if self.on_loop_thread():
            coro.close()
            raise RuntimeError(
                "A SyncAether was called from its own event loop thread (from an event "
                "callback?), which would wait forever; use the async Aether there, or do the "
                "work after the call returns."
            )
        call = _Call(coro)
        try:
            # Inside the try: Ctrl-C can land anywhere, even before the wait begins.
            with self._guard:
                if self._closed:
                    coro.close()  # never started: no "was never awaited" warning
                    raise RuntimeError(_CLOSED)
                call.scheduled = True
                self._loop.call_soon_threadsafe(call.start, self._loop)
            call.done.acquire()
        except BaseException:
            if call.scheduled and not call.settled:  # interrupted: cancel, let it clean up
                self._cancel(call)
            raise
        return call.outcome()

    def _cancel(self, call: _Call[Any]) -> None:
        try:
            self._loop.call_soon_threadsafe(call.cancel)
        except RuntimeError:  # the loop has closed: nothing runs there any more
            return
        # The call closes its stream, drops its session turn..., before the interrupt goes
        # on; a second Ctrl-C stops waiting for that.
        with contextlib.suppress(BaseException):
            call.done.acquire()

    def call(self, fn: Callable[[], T], *, after_close: bool = False) -> T:
        """Run the plain function ``fn`` on the loop thread, for state the loop also touches.

        With ``after_close``, a closed loop runs it here instead (nothing else touches the
        state then), so a closed client still reports its usage.
        """
        if self.on_loop_thread() or (after_close and self._closed):
            return fn()

        async def on_loop() -> T:
            return fn()

        return self.run(on_loop())

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Start ``coro`` on the loop without waiting (called on the loop thread)."""
        task = self._loop.create_task(coro)
        self._spawned.add(task)
        task.add_done_callback(self._spawned.discard)

    def stop(self) -> None:
        """Refuse new work, cancel what is in flight, and end the thread (waits for it)."""
        with self._guard:
            if self._closed:
                return
            self._closed = True
            self._loop.call_soon_threadsafe(self._loop.stop)
        if not self.on_loop_thread():
            self._thread.join()
