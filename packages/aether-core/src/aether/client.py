"""The ``Aether`` facade: the front door for the common case.

    client = Aether()                          # provider from LLM_PROVIDER, resilient stack
    client = Aether(config=ProviderConfig(provider="openai", model="gpt-4o-mini"))
    client = Aether(FakeProvider(canned_response="hi"))   # a pre-built provider, used as given

Three construction modes. From the environment and from a ``ProviderConfig``, the provider is
wrapped in cost tracking → circuit breaker → retry (each can be turned off with
``with_retry=False`` etc.). A provider passed positionally is used as given (you built or wrapped
it yourself) except for cost tracking, which only counts and so stays on unless
``with_cost_tracking=False``; pass ``with_retry=True`` to add the others. The response cache is
off in every mode until ``with_cache=True`` (or a ``CacheConfig``) turns it on, outermost.

Typed answers: ``ask(..., output_type=Invoice)`` returns an ``Invoice``; ``complete`` puts it on
``LLMResponse.output``; ``stream_output`` yields it as it forms (see :mod:`aether.llm.output`).

Here: the public methods with their full signatures, and the path every call takes. A plain
text prompt becomes its request inline in ``_request``, since every call pays for each frame
there; the rest of request building (a conversation or parts, tools, settings, an answer
type) is in :mod:`aether._request`, the ``timeout`` setting's deadline in :mod:`aether._deadline`.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, overload

from typing_extensions import TypeVar

from aether import config
from aether._call import CallOptions
from aether._deadline import before, within
from aether._request import build_request, resolve_call_tools
from aether.errors import ConfigurationError, ResponseBlockedError
from aether.events import EventBus, Subscriber
from aether.extensions.llm._cache_call import switched, switched_stream
from aether.extensions.llm._layer import ProviderLayer, aclosing_stream, maybe_aclose
from aether.extensions.llm.builder import ProviderConfig, build_provider, find_layer
from aether.extensions.llm.cache_config import CacheConfig
from aether.extensions.llm.caching import CachingProvider
from aether.extensions.llm.cost_tracking import CostTrackingProvider
from aether.extensions.llm.usage import UsageSummary
from aether.llm._complete_only import ensure_stream
from aether.llm._output_plan import OutputPlan, OutputTarget
from aether.llm.contracts import (
    LLMProvider,
    LLMRequest,
    LLMResponse,
    LLMStreamChunk,
    Message,
    ToolChoice,
)
from aether.llm.instrumented import (
    complete_with_events,
    in_scopes,
    stream_in_scopes,
    stream_with_events,
)
from aether.llm.output import Output, as_output
from aether.llm.parts import ContentPart
from aether.llm.settings import CallSettings
from aether.plugins.manager import plugin_manager
from aether.registry import Registry

if TYPE_CHECKING:
    from aether.memory.contracts import SessionStore
    from aether.memory.session import Session
    from aether.tools import Tool, ToolSet

__all__ = ["Aether", "Prompt", "ToolsArg"]

Prompt = str | Sequence[Message] | Sequence["str | ContentPart"]
"""A single user turn as text (or as text and content parts), or a whole conversation."""

ToolsArg = Sequence["str | Tool | ToolSet | Callable[..., Any]"] | None
"""Tools the model may call: registered names, ``Tool`` objects or decorated functions."""

S = TypeVar("S", bound=Subscriber)
T = TypeVar("T", default=str)  # the answer's type: str unless output_type says otherwise


class Aether:
    """An LLM client with retry, circuit breaker, cost tracking, tools, streaming and sessions.

    Args:
        provider: A pre-built provider to use as given (see the module docs).
        config: How to build the provider stack; default: from the environment.
        events: An :class:`EventBus` to share across clients; default: a new one. Besides
            the lifecycle events, it hears ``request.retry`` from the retry layer the client
            builds (not from one inside a provider passed positionally).
        memory_store: Where sessions keep conversations; default: a new in-memory store.
        with_retry: Turn the retry layer off (``False``) or, for a positional provider, on.
        with_circuit_breaker: Likewise for the circuit breaker.
        with_cost_tracking: Likewise for cost tracking (``client.usage``).
        with_cache: Turn the response cache on (``True``: ``config``'s ``CacheConfig``, else
            the default one, whose backend is ``AETHER_CACHE`` or memory; or a
            :class:`~aether.extensions.llm.cache_config.CacheConfig`) or off (``False``). Off
            by default in every mode; see :mod:`aether.extensions.llm.caching`.
        registry: Where names are resolved; default: the process-wide registry.
    """

    def __init__(
        self,
        provider: LLMProvider | None = None,
        *,
        config: ProviderConfig | None = None,
        events: EventBus | None = None,
        memory_store: SessionStore | None = None,
        with_retry: bool | None = None,
        with_circuit_breaker: bool | None = None,
        with_cost_tracking: bool | None = None,
        with_cache: bool | CacheConfig | None = None,
        registry: Registry | None = None,
    ) -> None:
        if provider is not None and config is not None:
            raise TypeError("Pass either a provider or config=ProviderConfig(...), not both.")
        prebuilt = provider is not None
        chosen = config or ProviderConfig()
        updates: dict[str, Any] = {}
        for field_name, flag in (
            ("retry", with_retry),
            ("circuit_breaker", with_circuit_breaker),
            ("cost_tracking", with_cost_tracking),
        ):
            if flag is False or (flag is None and prebuilt and field_name != "cost_tracking"):
                updates[field_name] = None
            elif flag is True and getattr(chosen, field_name) is None:
                field_info = ProviderConfig.model_fields[field_name]
                updates[field_name] = field_info.get_default(call_default_factory=True)
        if isinstance(with_cache, CacheConfig):
            updates["cache"] = with_cache
        elif with_cache is not None:
            updates["cache"] = (chosen.cache or CacheConfig()) if with_cache else None
        if updates:
            chosen = chosen.model_copy(update=updates)
        self.config = chosen
        self.events = events if events is not None else EventBus()
        self.provider: LLMProvider = build_provider(
            chosen,
            provider=ensure_stream(provider) if provider is not None else None,
            registry=registry,
            # The retry layer built here publishes each retry as ``request.retry``; it calls
            # this only when it is about to wait, so a call that succeeds costs nothing more.
            on_retry=self.events.emit,
        )
        self._registry = registry
        self._cost = find_layer(self.provider, CostTrackingProvider)
        self._cache = find_layer(self.provider, CachingProvider)
        # For the errors the client raises itself: the configured name, else the provider's.
        base: object = self.provider
        while isinstance(base, ProviderLayer):
            base = base.inner
        self._provider_name: str | None = chosen.provider or getattr(base, "name", None)
        self._memory_store = memory_store
        # Weak: a long-running server would otherwise keep every Session it ever opened. A
        # session stays (the same object, so the same lock) while anyone holds it, and a call
        # in progress holds it; its history is in the store, not in the object.
        self._sessions: weakref.WeakValueDictionary[str, Session] = weakref.WeakValueDictionary()
        self._output_target: OutputTarget | None = None  # found on the first typed call
        # Observability plugins (``aether.instrumentations`` entry points) see each client.
        plugin_manager().instrument(self)

    def __repr__(self) -> str:
        return f"Aether(provider={self.provider!r})"

    # --- lifecycle ---------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the provider's connections (if it holds any)."""
        await maybe_aclose(self.provider)

    async def __aenter__(self) -> Aether:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # --- events ------------------------------------------------------------------------

    @overload
    def on(self, event: str) -> Callable[[S], S]: ...

    @overload
    def on(self, event: str, callback: S) -> S: ...

    def on(self, event: str, callback: S | None = None) -> S | Callable[[S], S]:
        """Subscribe to a lifecycle event; works as a call and as a decorator."""
        if callback is None:
            return self.events.on(event)
        return self.events.on(event, callback)

    def off(self, event: str, callback: Subscriber) -> None:
        """Unsubscribe a callback."""
        self.events.off(event, callback)

    # --- usage -------------------------------------------------------------------------

    @property
    def usage(self) -> UsageSummary:
        """Tokens and cost so far, and the response cache's hits and what they saved (all
        zeros when cost tracking is off)."""
        return self._cost.usage if self._cost is not None else UsageSummary()

    # --- requests ----------------------------------------------------------------------

    def _request(
        self, prompt: Prompt, call: CallOptions, tools: Sequence[Tool], output: Output[Any] | None
    ) -> tuple[LLMRequest, float | None, OutputPlan | None]:
        """The request ``call`` stands for, its ``timeout`` setting and its output plan."""
        # Resolved here so events and logs name the model actually used.
        model = call.model or getattr(self.provider, "default_model", None)
        if type(prompt) is str and call.plain and not self.config.settings:
            # The common call: one user message of text and nothing to merge, check or shape;
            # every provider serves it, so there is nothing for check_supported to refuse.
            request = LLMRequest(
                messages=[Message(role="user", content=prompt)],
                model=model,
                default_temperature=config.default_temperature(),
            )
            return request, None, None
        return build_request(
            prompt,
            call,
            tools,
            output,
            model=model,
            provider=self.provider,
            client_config=self.config,
            output_target=self._target,
        )

    def _target(self) -> OutputTarget:
        """The output mode the provider stack serves: found on the first typed call, kept."""
        target = self._output_target
        if target is None:
            target = self._output_target = OutputTarget.of(self.provider, self._provider_name)
        return target

    def _completion(self, prompt: Prompt, call: CallOptions) -> Awaitable[LLMResponse]:
        """The answer of :meth:`complete` for a call gathered already, to await at once.

        Not a coroutine itself, so awaiting what it returns costs no frame of its own: a
        plain call awaits the provider's call through its events and nothing else.
        """
        if call.cache:
            self._check_cache()  # before any coroutine is made, so none is left unawaited
        tools = resolve_call_tools(call.tools, self._registry)
        output = None if call.output_type is None else as_output(call.output_type)
        request, timeout, plan = self._request(prompt, call, tools, output)
        answer: Awaitable[LLMResponse]
        if plan is not None:
            from aether.llm._output_calls import complete_output

            answer = complete_output(
                self.provider,
                request,
                plan,
                tools=tools,
                events=self.events,
                max_iterations=config.max_tool_iterations(call.max_tool_iterations) if tools else 1,
                tool_timeout=call.tool_timeout,
                provider_name=self._provider_name,
            )
        elif not tools:
            answer = complete_with_events(self.provider, request, self.events)
        else:
            from aether.tools.loop import run_tool_loop

            answer = run_tool_loop(
                self.provider,
                request,
                tools,
                events=self.events,
                max_iterations=config.max_tool_iterations(call.max_tool_iterations),
                tool_timeout=call.tool_timeout,
            )
        if call.cache is not None:
            answer = switched(call.cache, answer)
        answer = answer if timeout is None else within(timeout, answer, self._provider_name)
        return in_scopes(self.events, "complete", request, self._provider_name, answer)

    def _check_cache(self) -> None:
        """``cache=True`` needs a response cache to use."""
        if self._cache is None:
            raise ConfigurationError(
                "cache=True asks for the response cache, but this client has none; build it "
                "with Aether(with_cache=True) or ProviderConfig(cache=CacheConfig(...))."
            )

    def _answer(self, response: LLMResponse, call: CallOptions) -> Any:
        """What :meth:`ask` returns for ``response``: the typed answer, else the text.

        Raises:
            ResponseBlockedError: The model refused and wrote no answer.
        """
        if call.output_type is not None:
            return response.output
        if response.refusal is not None and not response.text:
            raise ResponseBlockedError(
                "The model refused to answer and wrote no answer; its words are on the "
                "error's .refusal. Rephrase the request, or call complete() to handle "
                "LLMResponse.refusal yourself.",
                reason="refusal",
                refusal=response.refusal,
                provider=self._provider_name,
            )
        return response.text

    def _chunks(self, prompt: Prompt, call: CallOptions) -> AsyncIterator[LLMStreamChunk]:
        """The chunks of :meth:`stream` for a call gathered already (sessions call it too).

        Called from inside a stream's generator, so a bad request is raised when the stream
        is first iterated, as from a generator; closing what this returns closes the
        provider's stream.
        """
        if call.cache:
            self._check_cache()
        tools = resolve_call_tools(call.tools, self._registry)
        request, timeout, _ = self._request(prompt, call, tools, None)
        if tools:
            from aether.tools.loop import stream_tool_loop

            source = stream_tool_loop(
                self.provider,
                request,
                tools,
                events=self.events,
                max_iterations=config.max_tool_iterations(call.max_tool_iterations),
                tool_timeout=call.tool_timeout,
            )
        else:
            source = self.provider.stream(request)
        chunks = stream_with_events(source, request, self.events)
        if call.cache is not None:
            chunks = switched_stream(call.cache, chunks)
        chunks = chunks if timeout is None else before(timeout, chunks, self._provider_name)
        return stream_in_scopes(self.events, "stream", request, self._provider_name, chunks)

    async def complete(
        self,
        prompt: Prompt,
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
        output_type: type[Any] | Output[Any] | None = None,
        cache: bool | None = None,
    ) -> LLMResponse:
        """The whole answer; with ``tools``, runs the model↔tool loop and returns the final one.

        ``allowed_tools=[names]`` lets the model call only those of ``tools`` this time; all
        stay declared, so the tool list (and the provider's prompt cache) does not change.

        ``cache=False`` keeps this call away from the response cache (it neither reads nor
        stores an answer); ``cache=True`` caches it even where ``CacheConfig(
        deterministic_only=True)`` would not, and is an error on a client without a cache.
        It is not ``CallSettings(cache=...)``, which is the provider's *prompt* caching.

        With ``output_type`` (a type, or an :class:`~aether.llm.output.Output` saying how to
        ask for it) the answer's ``output`` is the validated value and its ``text`` the JSON
        the model gave; token counts cover every repair. See :meth:`ask`.
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
        return await self._completion(prompt, call)

    async def ask(
        self,
        prompt: Prompt,
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
        output_type: type[T] | Output[T] | None = None,
        cache: bool | None = None,
    ) -> T:
        """The final answer text, or with ``output_type`` the typed answer (see :meth:`complete`).

        ``output_type`` is any type pydantic validates (a model, a dataclass, a TypedDict,
        ``list[...]``, a union, ``Literal``, an enum, a primitive), or an
        :class:`~aether.llm.output.Output` choosing the mode (native, tool, prompted), the
        number of repairs and the name the model sees. With ``tools``, the tools run first
        and the final answer is the typed one. An answer that does not validate is sent back
        with its errors, ``Output(retries=...)`` (else ``ProviderConfig(output_retries=...)``,
        1) times, each a billed call. ``cache=`` is as for :meth:`complete`.

        Raises:
            ResponseBlockedError: The model refused (``reason="refusal"``) and wrote no answer,
                so an empty string is never mistaken for one; :meth:`complete` returns the
                refusal in ``LLMResponse.refusal`` instead of raising. With ``output_type``
                any refusal (or content filter) raises it, from both methods.
            OutputValidationError: No answer fitted ``output_type``, repairs included.
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
        answer: T = self._answer(await self._completion(prompt, call), call)
        return answer

    async def stream(
        self,
        prompt: Prompt,
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
    ) -> AsyncIterator[LLMStreamChunk]:
        """One logical stream of chunks, tool rounds included; the last carries finish/usage.

        With the response cache on, a stream is stored once it has run to its end and replayed
        chunk by chunk; ``cache=`` is as for :meth:`complete`.
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
        async with aclosing_stream(self._chunks(prompt, call)) as chunks:
            async for chunk in chunks:
                yield chunk

    async def stream_output(
        self,
        prompt: Prompt,
        *,
        output_type: type[T] | Output[T],
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
    ) -> AsyncIterator[T]:
        """The typed answer as it forms: growing partial values, the last the validated whole.

        Each value is what the answer holds so far (complete list items and objects, a string
        as far as it came) and differs from the one before; the last is the value
        :meth:`ask` would return. A type with required fields shows once they have all
        arrived, so fields with defaults make the answer show sooner. Native mode reads the
        text as it streams, tool mode the output tool's arguments (with ``tools``, after the
        tools have run). After a repair the values start over.

            async for invoice in client.stream_output(text, output_type=Invoice):
                render(invoice)

        Raises:
            ResponseBlockedError: The model refused, or the provider withheld the answer.
            OutputValidationError: No answer fitted ``output_type``, repairs included.
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
        if call.cache:
            self._check_cache()
        tools = resolve_call_tools(call.tools, self._registry)
        request, timeout, plan = self._request(prompt, call, tools, as_output(output_type))
        assert plan is not None
        from aether.llm._output_calls import stream_output

        source = stream_output(
            self.provider,
            request,
            plan,
            tools=tools,
            events=self.events,
            max_iterations=config.max_tool_iterations(call.max_tool_iterations) if tools else 1,
            tool_timeout=call.tool_timeout,
            provider_name=self._provider_name,
        )
        values = source
        if call.cache is not None:
            values = switched_stream(call.cache, values)
        values = values if timeout is None else before(timeout, values, self._provider_name)
        values = stream_in_scopes(self.events, "stream", request, self._provider_name, values)
        async with aclosing_stream(values) as items:
            async for value in items:
                yield value

    async def stream_text(
        self,
        prompt: Prompt,
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
    ) -> AsyncIterator[str]:
        """Only the text deltas of :meth:`stream`."""
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
        async with aclosing_stream(self._chunks(prompt, call)) as chunks:
            async for chunk in chunks:
                if chunk.text:
                    yield chunk.text

    # --- sessions ----------------------------------------------------------------------

    @property
    def memory_store(self) -> SessionStore:
        """The store sessions use (created on first use: ``AETHER_SESSION_STORE`` or memory)."""
        if self._memory_store is None:
            from aether.memory.factory import create_session_store

            self._memory_store = create_session_store()
        return self._memory_store

    def session(self, session_id: str, *, system: str | None = None) -> Session:
        """The conversation ``session_id``; the same id gives the same object on this client.

        The same object while anyone (or a call in progress) holds it; the client does not keep
        sessions alive by itself, and one opened again later reads its history from the store.
        """
        existing = self._sessions.get(session_id)
        if existing is not None:
            if system is not None and existing.system != system:
                raise ValueError(
                    f"Session {session_id!r} already exists on this client with a different "
                    f"system prompt; use a new session id or the existing system prompt."
                )
            return existing
        from aether.memory.session import Session

        created = Session(
            client=self, session_id=session_id, system=system, store=self.memory_store
        )
        self._sessions[session_id] = created
        return created
