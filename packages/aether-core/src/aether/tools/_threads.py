"""Daemon worker threads for sync tools, so an abandoned call never keeps the process alive.

A thread cannot be stopped from outside. When a sync tool outlives its timeout (or the call
awaiting it is cancelled), the loop stops waiting and the thread is abandoned: it runs on
until the function returns. ``asyncio.to_thread`` would be wrong for that: the default
executor's threads are joined by ``asyncio.run()`` on the way out and by the interpreter at
exit, so one tool that never returns would keep the process from ever exiting. These workers
are daemon threads nobody joins; at interpreter exit an abandoned one is simply stopped.

The pool grows on demand (a hung thread never starves the next call of a worker) and a worker
idle for :data:`IDLE_SECONDS` exits, so a burst of parallel calls does not leave threads
behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import os
import queue
import threading
from collections.abc import Callable
from typing import Any, Final

__all__ = ["IDLE_SECONDS", "run_in_worker"]

logger = logging.getLogger("aether.tools")

IDLE_SECONDS: Final = 60.0
"""How long a worker waits for the next call before it exits."""


_Work = Callable[[], Callable[[], None]]
"""Runs the call and returns what hands its outcome over, run once the worker is idle."""


class _Workers:
    """Reusable daemon threads taking work from one queue.

    ``_idle`` counts the workers waiting for work minus the work queued for them; it changes
    only under ``_lock``, and work is queued only under it, so a worker that times out can
    tell whether work it was counted for is still coming. A worker counts itself idle before
    handing the outcome over, so a caller making one call after another reuses it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[_Work] = queue.SimpleQueue()
        self._idle = 0
        self._started = 0

    def submit(self, work: _Work) -> None:
        with self._lock:
            if self._idle:
                self._idle -= 1
                self._queue.put(work)
                return
            self._started += 1
            number = self._started
        # A new worker starts with its first call in hand: if the thread cannot start, the
        # error reaches the caller and nothing is left queued to run later.
        threading.Thread(
            target=self._work, args=(work,), name=f"aether-tool-{number}", daemon=True
        ).start()

    def _work(self, first: _Work) -> None:
        work: _Work | None = first
        while True:
            if work is None:
                try:
                    work = self._queue.get(timeout=IDLE_SECONDS)
                except queue.Empty:
                    with self._lock:
                        if self._queue.empty():
                            self._idle -= 1
                            return
                    continue  # work was queued for this worker just as it timed out
            hand_over = work()
            with self._lock:
                self._idle += 1
            hand_over()
            # Drop the call's references before waiting for the next one.
            del hand_over
            work = None

    def reset_after_fork(self) -> None:
        # A forked child has none of the parent's threads: counting them idle would queue
        # work that no thread ever takes.
        self._lock = threading.Lock()
        self._queue = queue.SimpleQueue()
        self._idle = 0


_workers = _Workers()
if hasattr(os, "register_at_fork"):  # not on Windows
    os.register_at_fork(after_in_child=_workers.reset_after_fork)


async def run_in_worker(
    name: str, function: Callable[..., Any], /, *args: Any, **kwargs: Any
) -> Any:
    """``function(*args, **kwargs)`` on a daemon worker thread, in a copy of the caller's context.

    Like ``asyncio.to_thread``: contextvars (tracing spans, request ids) reach the function,
    and its result or exception comes back here. If the awaiting task is cancelled (a
    timeout) before the function returns, the thread is abandoned with a warning on the
    ``aether.tools`` logger and its eventual outcome is dropped.

    Args:
        name: The tool's name, for the warning.
        function: The sync function to run.
        *args: Its positional arguments.
        **kwargs: Its keyword arguments.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()
    context = contextvars.copy_context()
    finished = threading.Event()

    def work() -> Callable[[], None]:
        try:
            result = context.run(function, *args, **kwargs)
        except BaseException as exc:  # handed to the awaiting task, as to_thread does
            return functools.partial(_deliver, loop, future, None, exc)
        finally:
            finished.set()
        return functools.partial(_deliver, loop, future, result, None)

    _workers.submit(work)
    try:
        return await future
    except asyncio.CancelledError:
        if not finished.is_set():
            logger.warning(
                "Tool %r was abandoned while its sync function was still running: a thread "
                "cannot be stopped, so it runs on in the background until the function "
                "returns (a daemon thread: it does not keep the process from exiting).",
                name,
            )
        raise


def _deliver(
    loop: asyncio.AbstractEventLoop,
    future: asyncio.Future[Any],
    result: Any,
    error: BaseException | None,
) -> None:
    # A closed loop (RuntimeError) means nobody awaits this abandoned call any more.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(_settle, future, result, error)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # cancelled: the call was abandoned
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
