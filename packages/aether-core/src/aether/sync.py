"""``SyncAether``: the :class:`~aether.client.Aether` facade as blocking calls.

    from aether import SyncAether

    with SyncAether() as client:                     # the same arguments as Aether()
        print(client.ask("What is 17 + 25?", tools=["add"]))
        for delta in client.stream_text("Tell me a story"):
            print(delta, end="", flush=True)
        chat = client.session("alice", system="Be brief.")
        chat.ask("My name is Alice.")

For scripts, notebooks and synchronous frameworks. Each call runs ``Aether``'s own coroutine
on one private event loop in a daemon thread, so it behaves the same in a plain script, under
a running loop (a notebook cell, an async framework calling sync code) and from many threads
at once; every method takes exactly the keywords of its ``Aether`` counterpart.

* Streams are ordinary iterators. Leaving one early (``break``, an exception, ``close()`` or
  ``with``) closes the underlying stream and its connection.
* ``KeyboardInterrupt`` in the waiting thread cancels the call in flight before it propagates.
* Event callbacks (``on``) run on the client's loop thread; they must not call the client.
* ``close()`` (or leaving ``with``) closes the provider's connections and stops the thread.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import weakref
from collections.abc import AsyncIterator, Callable, Coroutine, Generator, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec

from typing_extensions import TypeVar

from aether._sync_loop import LoopThread
from aether.client import Aether
from aether.memory.session import Session

if TYPE_CHECKING:
    from typing_extensions import Self

    from aether.events import EventBus
    from aether.extensions.llm.builder import ProviderConfig
    from aether.extensions.llm.usage import UsageSummary
    from aether.llm.contracts import LLMProvider
    from aether.memory.contracts import SessionStore

__all__ = ["SyncAether", "SyncSession", "SyncStream"]

P = ParamSpec("P")
# A method's result. mypy drops the default of a method's own type variable when it passes
# through a ParamSpec (``ask``'s answer type: ``str`` unless ``output_type=`` says otherwise),
# and would then infer ``Never``; this default restores it.
R = TypeVar("R", default=str)
T = TypeVar("T")


_END: Any = object()


async def _next(items: AsyncIterator[T]) -> T:
    # StopAsyncIteration must not cross a Task boundary, so the end is a sentinel.
    try:
        return await items.__anext__()
    except StopAsyncIteration:
        return _END  # type: ignore[no-any-return]


def _pull(source: AsyncIterator[T], loop: LoopThread) -> Generator[T, None, None]:
    try:
        while (item := loop.run(_next(source))) is not _END:
            yield item
    finally:
        close = getattr(source, "aclose", None)
        if close is not None and not loop.closed:
            if loop.on_loop_thread():  # dropped by code on the loop: close it there, later
                loop.spawn(close())
            else:
                # Still running only after a second Ctrl-C cut the wait for its cancellation
                # short; that cancellation ends it.
                with contextlib.suppress(RuntimeError):
                    loop.run(close())


class SyncStream(Iterator[T], Generic[T]):
    """A blocking iterator over one of the client's async streams.

    Leaving it early closes the async stream (and so the provider's connection): at once
    after ``break`` in a ``for`` loop over a fresh call, or with ``close()`` / ``with``::

        with client.stream_text("Tell me a story") as deltas:
            first = next(deltas)
    """

    __slots__ = ("_items", "_owner")

    def __init__(self, source: AsyncIterator[T], loop: LoopThread, owner: object) -> None:
        self._owner = owner  # the client stays open while its stream is read
        # Not a method: a generator holding ``self`` would make a cycle, and then dropping the
        # stream (``break``) would close it only when the garbage collector ran.
        self._items = _pull(source, loop)

    def __iter__(self) -> SyncStream[T]:
        return self

    def __next__(self) -> T:
        return next(self._items)

    def close(self) -> None:
        """Close the underlying stream now (idempotent)."""
        self._items.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _Blocking:
    """What the wrappers share: the async object they drive and the loop that runs it."""

    __slots__ = ("__weakref__", "_loop", "_target")

    _target: Any
    _loop: LoopThread

    def _client(self) -> object:
        """The SyncAether to keep alive (and so open) while something made here is in use."""
        return self


def _blocking(
    method: Callable[Concatenate[Any, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[_Blocking, P], R]:
    """A blocking method with ``method``'s parameters and result, running it on the loop."""
    name = method.__name__

    @functools.wraps(method)
    def call(self: _Blocking, /, *args: P.args, **kwargs: P.kwargs) -> R:
        bound: Callable[P, Coroutine[Any, Any, R]] = getattr(self._target, name)
        return self._loop.run(bound(*args, **kwargs))

    return call


def _iterating(
    method: Callable[Concatenate[Any, P], AsyncIterator[R]],
) -> Callable[Concatenate[_Blocking, P], SyncStream[R]]:
    """A method returning a :class:`SyncStream` over ``method``'s async stream."""
    name = method.__name__

    @functools.wraps(method)
    def call(self: _Blocking, /, *args: P.args, **kwargs: P.kwargs) -> SyncStream[R]:
        return SyncStream(getattr(self._target, name)(*args, **kwargs), self._loop, self._client())

    return call


def _on_loop(method: Callable[Concatenate[Any, P], R]) -> Callable[Concatenate[_Blocking, P], R]:
    """A plain method run on the loop thread, since it touches state the loop touches."""
    name = method.__name__

    @functools.wraps(method)
    def call(self: _Blocking, /, *args: P.args, **kwargs: P.kwargs) -> R:
        bound: Callable[P, R] = getattr(self._target, name)
        return self._loop.call(functools.partial(bound, *args, **kwargs))

    return call


class SyncSession(_Blocking):
    """A :class:`~aether.memory.Session` as blocking calls; made by :meth:`SyncAether.session`.

    Calls on one session are serialised, as on the async one; close a stream you leave early
    (``break`` does), since it holds the session until it ends.
    """

    __slots__ = ("_owner",)

    def __init__(self, session: Session, owner: SyncAether) -> None:
        self._target = session
        self._loop = owner._loop
        self._owner = owner

    def _client(self) -> object:
        return self._owner

    def __repr__(self) -> str:
        return f"Sync{self._target!r}"

    @property
    def session_id(self) -> str:
        """The key of this conversation in the store."""
        return str(self._target.session_id)

    @property
    def system(self) -> str | None:
        """The system prompt sent first on every call."""
        return self._target.system  # type: ignore[no-any-return]

    @property
    def store(self) -> SessionStore:
        """Where the history lives."""
        return self._target.store  # type: ignore[no-any-return]

    ask = _blocking(Session.ask)
    stream = _iterating(Session.stream)
    stream_text = _iterating(Session.stream_text)
    history = _blocking(Session.history)
    clear = _blocking(Session.clear)


def _wrap_session(
    method: Callable[Concatenate[Any, P], Session],
) -> Callable[Concatenate[SyncAether, P], SyncSession]:
    @functools.wraps(method)
    def call(self: SyncAether, /, *args: P.args, **kwargs: P.kwargs) -> SyncSession:
        self._loop.check_open()
        opened = self._loop.call(functools.partial(self._target.session, *args, **kwargs))
        return SyncSession(opened, self)

    return call


def _like(
    init: Callable[Concatenate[Any, P], None],
) -> Callable[[Callable[..., None]], Callable[Concatenate[Any, P], None]]:
    """Give the decorated ``__init__`` the parameters of ``init`` (for type checkers and help)."""

    def give(method: Callable[..., None]) -> Callable[Concatenate[Any, P], None]:
        return functools.wraps(init)(method)

    return give


class SyncAether(_Blocking):
    """An :class:`~aether.client.Aether` whose calls block: for scripts and notebooks.

    Takes exactly ``Aether``'s arguments and builds one; each method has the parameters and
    result of its ``Aether`` counterpart, streams are iterators and sessions are
    :class:`SyncSession` objects. See the module docs for threads, interrupts and closing.
    """

    __slots__ = ("_closer",)

    @_like(Aether.__init__)
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        loop = LoopThread()
        try:
            # On the loop thread, so anything the provider binds to a loop binds to this one.
            self._target = loop.call(lambda: Aether(*args, **kwargs))
        except BaseException:
            loop.stop()
            raise
        self._loop = loop
        # Never closed: still end the thread when the client is collected (or at exit).
        self._closer = weakref.finalize(self, loop.stop)

    def __repr__(self) -> str:
        state = ", closed" if self._loop.closed else ""
        return f"SyncAether(provider={self._target.provider!r}{state})"

    # --- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        """Close the provider's connections and stop the thread; later calls raise."""
        if self._loop.closed:
            return
        try:
            self._loop.run(self._target.aclose())
        finally:
            self._closer()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has been called."""
        return self._loop.closed

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- what the async client holds ---------------------------------------------------

    @property
    def aether(self) -> Aether:
        """The async client underneath; its coroutines belong to this client's loop thread."""
        return self._target  # type: ignore[no-any-return]

    @property
    def config(self) -> ProviderConfig:
        """How the provider stack was built."""
        return self._target.config  # type: ignore[no-any-return]

    @property
    def events(self) -> EventBus:
        """The event bus (its callbacks run on the loop thread)."""
        return self._target.events  # type: ignore[no-any-return]

    @property
    def provider(self) -> LLMProvider:
        """The provider stack the calls go through."""
        return self._target.provider  # type: ignore[no-any-return]

    @property
    def usage(self) -> UsageSummary:
        """Tokens and cost so far (a snapshot)."""
        return self._loop.call(lambda: self._target.usage, after_close=True)  # type: ignore[no-any-return]

    @property
    def memory_store(self) -> SessionStore:
        """The store sessions use (created on first use, as on ``Aether``)."""
        return self._loop.call(lambda: self._target.memory_store)  # type: ignore[no-any-return]

    # --- calls -------------------------------------------------------------------------

    ask = _blocking(Aether.ask)
    complete = _blocking(Aether.complete)
    stream = _iterating(Aether.stream)
    stream_text = _iterating(Aether.stream_text)
    stream_output = _iterating(Aether.stream_output)
    session = _wrap_session(Aether.session)
    on = _on_loop(Aether.on)
    off = _on_loop(Aether.off)


def _adopt(wrapper: type[_Blocking], source: type) -> None:
    """Give ``wrapper`` a blocking counterpart of each public async method of ``source`` that
    its class body does not declare.

    So a method ``Aether`` gains works here at once; declaring it in the class body as well
    (``name = _blocking(Aether.name)``) is what gives type checkers its signature.
    """
    for name, member in vars(source).items():
        if name.startswith("_") or name == "aclose" or name in vars(wrapper):
            continue
        if inspect.isasyncgenfunction(member):
            setattr(wrapper, name, _iterating(member))
        elif inspect.iscoroutinefunction(member):
            setattr(wrapper, name, _blocking(member))


_adopt(SyncAether, Aether)
_adopt(SyncSession, Session)
