"""``Session``: a conversation that remembers itself in a :class:`SessionStore`.

    session = client.session("user_alice", system="You are helpful.")
    await session.ask("My name is Alice.")
    await session.ask("What's my name?")

Each call sends ``[system] + history + [new input]`` through the client and, only when the
call succeeds, stores the turn ``[new input, assistant final text]``. Three guarantees follow:

* Tool turns stay out of history: the tool loop's intermediate messages are never stored, so
  no stored assistant message has a tool call without its result. A typed answer
  (``output_type=``) is stored as the JSON text the model gave, whatever the output mode, so
  the history reads the same to every provider.
* Failed calls roll back: nothing is stored unless the answer arrived (a stream must be
  consumed to its end); the next call starts from the same history.
* Calls on one session are serialised by a per-session :class:`asyncio.Lock`, so concurrent
  ``ask()`` calls never interleave; with an :class:`AppendableSessionStore` each turn is one
  atomic append, so sessions of other clients or processes sharing the store cannot lose it.

The system prompt is not stored: it belongs to the code that opens the session and is sent
first on every call. ``AETHER_SESSION_HISTORY_LIMIT`` (or ``history_limit=``) bounds how
many stored messages are sent back to the model, counted in whole turns.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Sequence
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, TypeVar

from typing_extensions import TypeVar as DefaultTypeVar

from aether import config
from aether._call import CallOptions
from aether.errors import AetherError, SessionStoreError
from aether.extensions.llm._layer import maybe_aclose
from aether.llm.contracts import LLMStreamChunk, Message, ToolChoice
from aether.llm.settings import CallSettings
from aether.memory.contracts import AppendableSessionStore, SessionStore
from aether.memory.turns import check_limit, new_turn_id, newest_turns, split_turns, validate_turn

if TYPE_CHECKING:
    from aether.client import Aether, ToolsArg
    from aether.llm.output import Output

__all__ = ["HISTORY_LIMIT_ENV", "Session"]

_T = TypeVar("_T")
_A = DefaultTypeVar("_A", default=str)  # the answer's type: str unless output_type says

HISTORY_LIMIT_ENV = "AETHER_SESSION_HISTORY_LIMIT"
"""Default cap on stored messages sent to the model per call (whole turns); unset: no cap."""


class Session:
    """One conversation, identified by ``session_id`` in ``store``.

    Made by :meth:`Aether.session`, which returns the same object for the same id.

    Args:
        client: The client whose ``complete`` / ``stream`` answer the calls.
        session_id: The key of the conversation in the store.
        store: Where the history lives.
        system: A system prompt sent first on every call (not stored).
        history_limit: At most this many stored messages (whole turns) are sent to the model;
            None: ``AETHER_SESSION_HISTORY_LIMIT``, else everything.
    """

    def __init__(
        self,
        *,
        client: Aether,
        session_id: str,
        store: SessionStore,
        system: str | None = None,
        history_limit: int | None = None,
    ) -> None:
        if not isinstance(session_id, str) or not session_id:
            raise ValueError(f"session_id must be a non-empty string, got {session_id!r}.")
        check_limit(history_limit)
        self._client = client
        self._session_id = session_id
        self._store = store
        self._system = system
        self._history_limit = history_limit
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"Session({self._session_id!r}, store={type(self._store).__name__})"

    @property
    def session_id(self) -> str:
        """The key of this conversation in the store."""
        return self._session_id

    @property
    def system(self) -> str | None:
        """The system prompt sent first on every call."""
        return self._system

    @property
    def store(self) -> SessionStore:
        """Where the history lives."""
        return self._store

    # --- calls -------------------------------------------------------------------------

    async def ask(
        self,
        prompt: str | Sequence[Message],
        *,
        tools: ToolsArg = None,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        stop: str | Sequence[str] | None = None,
        tool_choice: ToolChoice | None = None,
        allowed_tools: Sequence[str] | None = None,
        max_tool_iterations: int | None = None,
        tool_timeout: float | None = None,
        settings: CallSettings | None = None,
        output_type: type[_A] | Output[_A] | None = None,
        cache: bool | None = None,
    ) -> _A:
        """Send ``prompt`` after the history; store the turn and return the answer text.

        Args:
            prompt: The user's text, or the new messages of this turn.
            tools: Tools the model may call (their turns are not stored).
            model: Model override for this call.
            temperature: Sampling temperature for this call.
            max_tokens: Output cap for this call.
            stop: Stop sequences for this call.
            tool_choice: How the model must use tools.
            allowed_tools: Names among ``tools`` the model may call this time.
            max_tool_iterations: The most tool rounds for this call; default:
                ``AETHER_MAX_TOOL_ITERATIONS``, else 10.
            tool_timeout: Per-tool deadline in seconds.
            settings: Call settings (:class:`~aether.llm.settings.CallSettings`): sampling,
                reasoning, caching, ``timeout``, provider options; the keywords above win.
            output_type: Return this type instead of the text (see :meth:`Aether.ask
                <aether.Aether.ask>`); the turn stores the JSON the model gave.
            cache: The response cache for this call (see :meth:`Aether.complete
                <aether.Aether.complete>`): False skips it, True uses it anyway.
        """
        call = CallOptions(
            tools=tools,
            model=model,
            temperature=temperature,
            max_tokens=max_tokens,
            stop=stop,
            tool_choice=tool_choice,
            allowed_tools=allowed_tools,
            max_tool_iterations=max_tool_iterations,
            tool_timeout=tool_timeout,
            settings=settings,
            output_type=output_type,
            cache=cache,
        )
        new = _new_messages(prompt)
        async with self._lock:
            messages = await self._context(new)
            response = await self._client._completion(messages, call)
            # Read as Aether.ask reads it (a refusal without text raises) before anything is
            # stored: a refused turn leaves the history as it was.
            answer: Any = self._client._answer(response, call)
            await self._commit(new, response.text)
        return answer  # type: ignore[no-any-return]

    async def stream(
        self,
        prompt: str | Sequence[Message],
        *,
        tools: ToolsArg = None,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        stop: str | Sequence[str] | None = None,
        tool_choice: ToolChoice | None = None,
        allowed_tools: Sequence[str] | None = None,
        max_tool_iterations: int | None = None,
        tool_timeout: float | None = None,
        settings: CallSettings | None = None,
        cache: bool | None = None,
    ) -> AsyncGenerator[LLMStreamChunk, None]:
        """Stream the answer; the turn is stored once the stream has been consumed to its end.

        The session's lock is held while the stream is open, so close it (``aclosing``) if
        you stop early, and do not call the same session from inside the loop.
        """
        call = CallOptions(
            tools=tools,
            model=model,
            temperature=temperature,
            max_tokens=max_tokens,
            stop=stop,
            tool_choice=tool_choice,
            allowed_tools=allowed_tools,
            max_tool_iterations=max_tool_iterations,
            tool_timeout=tool_timeout,
            settings=settings,
            cache=cache,
        )
        async with aclosing(self._stream(prompt, call)) as chunks:
            async for chunk in chunks:
                yield chunk

    async def _stream(
        self, prompt: str | Sequence[Message], call: CallOptions
    ) -> AsyncGenerator[LLMStreamChunk, None]:
        """What :meth:`stream` does, for a call gathered already."""
        new = _new_messages(prompt)
        async with self._lock:
            messages = await self._context(new)
            texts: list[str] = []
            source = self._client._chunks(messages, call)
            try:
                async for chunk in source:
                    texts.append(chunk.text)
                    yield chunk
            finally:
                await maybe_aclose(source)  # now, not at GC time
            # The whole text the caller saw, tool rounds' preambles included.
            await self._commit(new, "".join(texts))

    async def stream_text(
        self,
        prompt: str | Sequence[Message],
        *,
        tools: ToolsArg = None,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        stop: str | Sequence[str] | None = None,
        tool_choice: ToolChoice | None = None,
        allowed_tools: Sequence[str] | None = None,
        max_tool_iterations: int | None = None,
        tool_timeout: float | None = None,
        settings: CallSettings | None = None,
        cache: bool | None = None,
    ) -> AsyncGenerator[str, None]:
        """The text deltas of :meth:`stream`; the final text is stored when it completes."""
        call = CallOptions(
            tools=tools,
            model=model,
            temperature=temperature,
            max_tokens=max_tokens,
            stop=stop,
            tool_choice=tool_choice,
            allowed_tools=allowed_tools,
            max_tool_iterations=max_tool_iterations,
            tool_timeout=tool_timeout,
            settings=settings,
            cache=cache,
        )
        async with aclosing(self._stream(prompt, call)) as chunks:
            async for chunk in chunks:
                if chunk.text:
                    yield chunk.text

    async def stream_output(
        self,
        prompt: str | Sequence[Message],
        *,
        output_type: type[_T] | Output[_T],
        tools: ToolsArg = None,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        stop: str | Sequence[str] | None = None,
        tool_choice: ToolChoice | None = None,
        allowed_tools: Sequence[str] | None = None,
        max_tool_iterations: int | None = None,
        tool_timeout: float | None = None,
        settings: CallSettings | None = None,
        cache: bool | None = None,
    ) -> AsyncGenerator[_T, None]:
        """The typed answer as it forms (see :meth:`Aether.stream_output
        <aether.Aether.stream_output>`); the turn is stored once the stream has ended.

        The turn stores the JSON of the last value, the validated answer; a stream left early
        or failing stores nothing. The session's lock is held while the stream is open, so
        close it (``aclosing``) if you stop early, and do not call the same session from
        inside the loop.
        """
        from aether.llm.output import as_output

        output = as_output(output_type)
        new = _new_messages(prompt)
        async with self._lock:
            messages = await self._context(new)
            source = self._client.stream_output(
                messages,
                output_type=output,
                tools=tools,
                model=model,
                temperature=temperature,
                max_tokens=max_tokens,
                stop=stop,
                tool_choice=tool_choice,
                allowed_tools=allowed_tools,
                max_tool_iterations=max_tool_iterations,
                tool_timeout=tool_timeout,
                settings=settings,
                cache=cache,
            )
            last: Any = None
            try:
                async for value in source:
                    last = value
                    yield value
            finally:
                await maybe_aclose(source)  # now, not at GC time
            # Ended without raising: the last value yielded is the validated answer.
            await self._commit(new, output.shape.adapter.dump_json(last).decode())

    # --- history -----------------------------------------------------------------------

    async def history(self, *, limit: int | None = None) -> list[Message]:
        """The stored messages, oldest first (the system prompt is not among them).

        Args:
            limit: Only the newest whole turns holding at most this many messages.
        """
        return await self._load(limit)

    async def clear(self) -> None:
        """Delete the stored history (waits for a call in progress on this session)."""
        async with self._lock:
            await self._guard("delete", self._store.delete(self._session_id))

    # --- internals ---------------------------------------------------------------------

    def _limit(self) -> int | None:
        if self._history_limit is not None:
            return self._history_limit
        if config.env_str(HISTORY_LIMIT_ENV) is None:
            return None
        value = config.env_int(HISTORY_LIMIT_ENV, -1, minimum=0)
        return None if value < 0 else value

    async def _load(self, limit: int | None) -> list[Message]:
        check_limit(limit)
        store = self._store
        if isinstance(store, AppendableSessionStore):
            return await self._guard("load", store.load(self._session_id, limit=limit))
        everything = await self._guard("load", store.load(self._session_id))
        return everything if limit is None else newest_turns(split_turns(everything), limit)

    async def _context(self, new: list[Message]) -> list[Message]:
        history = await self._load(self._limit())
        system = [Message(role="system", content=self._system)] if self._system else []
        return [*system, *history, *new]

    async def _commit(self, new: list[Message], text: str) -> None:
        turn = [*new, Message(role="assistant", content=text)]
        store = self._store
        if isinstance(store, AppendableSessionStore):
            await self._guard(
                "append_turn", store.append_turn(self._session_id, new_turn_id(), turn)
            )
            return
        # A store with only the four spec methods: read-modify-write under this session's
        # lock (other clients or processes writing the same session can still race it).
        current = await self._guard("load", store.load(self._session_id))
        await self._guard("save", store.save(self._session_id, [*current, *turn]))

    async def _guard(self, operation: str, call: Awaitable[_T]) -> _T:
        try:
            return await call
        except (AetherError, ValueError):
            raise
        except Exception as exc:
            # Third-party stores may leak their driver's errors; callers catch one type. The
            # original message stays on __cause__ only, since it may hold a connection URL.
            raise SessionStoreError(
                f"{type(self._store).__name__}.{operation} failed for session "
                f"{self._session_id!r} with {type(exc).__name__} (see the cause). If a turn "
                f"was being stored, it may or may not be; check the store's backend and retry."
            ) from exc


def _new_messages(prompt: str | Sequence[Message]) -> list[Message]:
    if isinstance(prompt, str):
        return [Message(role="user", content=prompt)]
    new = list(prompt)
    validate_turn(new)
    # A snapshot, so the turn stored is the one sent even if the caller changes its messages
    # while the call is in flight, and a store that keeps references cannot share them with
    # the caller. Only the new turn is copied: loaded history is the store's to copy (the
    # SessionStore contract), which durable stores do for free by decoding.
    return [message.model_copy(deep=True) for message in new]
