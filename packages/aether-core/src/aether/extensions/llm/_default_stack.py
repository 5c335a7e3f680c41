"""``DefaultStack``: the builder's default stack, cost tracking → circuit breaker → retry.

Each layer is a provider of its own, so any of them composes with anything. Composed, they
are three frames per call and three per streamed chunk, and on a fast provider those frames
alone cost more than the stack's budget (a tenth of a bare round trip). So the default stack
keeps the three layer objects (``inner`` walks them, ``find_layer`` finds each, and each keeps
its own state and settings) but runs their closed-circuit path in one frame: a
``CostTrackingProvider`` that does the breaker's and the retry layer's work inline, through
the same methods those layers use, and hands what is off that path (an open or probing
circuit) to the layers themselves.

The composition is fixed when the stack is built: the provider under the retry layer may be
swapped (``retry.inner = ...``), the layers themselves may not.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aether.errors import ProviderError, StreamInterruptedError
from aether.extensions.llm._layer import maybe_aclose
from aether.extensions.llm.circuit_breaker import _CLOSED, _NOT_A_TRIAL, CircuitBreakerProvider
from aether.extensions.llm.cost_tracking import CostTrackingConfig, CostTrackingProvider
from aether.extensions.llm.retrying import RetryingProvider
from aether.llm.contracts import LLMRequest, LLMResponse, LLMStreamChunk

__all__ = ["DefaultStack"]


class DefaultStack(CostTrackingProvider):
    """Cost tracking around ``breaker`` (a circuit breaker around a retry layer), in one frame.

    Behaves exactly as ``CostTrackingProvider(breaker)`` does; only faster.

    Args:
        breaker: ``CircuitBreakerProvider(RetryingProvider(provider))``.
        config: Price overrides and lookup options, as for :class:`CostTrackingProvider`.
    """

    __slots__ = ("_breaker", "_retry")

    def __init__(
        self, breaker: CircuitBreakerProvider, config: CostTrackingConfig | None = None
    ) -> None:
        retry = getattr(breaker, "inner", None)
        # Exact types: a subclass may override what this class runs inline.
        if type(breaker) is not CircuitBreakerProvider or type(retry) is not RetryingProvider:
            raise TypeError(
                "DefaultStack wraps CircuitBreakerProvider(RetryingProvider(provider)) exactly; "
                f"got {breaker!r}. Compose other stacks from the layers themselves."
            )
        super().__init__(breaker, config)
        self._breaker = breaker
        self._retry: RetryingProvider = retry

    @property
    def default_model(self) -> str:
        """The provider's default model, read in one step: the two layers only pass it on."""
        return self._retry.inner.default_model  # type: ignore[attr-defined,no-any-return]

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Return the provider's answer, retried, guarded by the breaker, and counted."""
        breaker = self._breaker
        if breaker._state is not _CLOSED:
            # An open or probing circuit: the layers' own code runs the state machine.
            return await super().complete(request)
        retry = self._retry
        started = retry._clock() if retry.config.deadline is not None else 0.0  # _start(), inline
        try:
            try:
                response = await retry.inner.complete(request)
            except ProviderError as exc:
                failed: ProviderError | None = exc
            else:
                failed = None
            if failed is not None:  # outside the handler: later errors are not chained to it
                response = await retry._complete_after(request, failed, started)
        except BaseException as exc:
            breaker._on_error(_NOT_A_TRIAL, exc, received=False)
            raise
        if breaker._failures:  # what _on_success does for a call that was not a trial
            breaker._on_success(_NOT_A_TRIAL)
        self._count(request, response)
        return response

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        """Yield the provider's stream, retried before its first chunk, guarded and counted."""
        breaker = self._breaker
        if breaker._state is not _CLOSED:
            layered = super().stream(request)
            try:
                async for chunk in layered:
                    yield chunk
            finally:
                await maybe_aclose(layered)
            return
        retry = self._retry
        started = retry._start()
        received = 0
        last: LLMStreamChunk | None = None
        finished = False
        chunks: AsyncIterator[LLMStreamChunk] = retry.inner.stream(request)
        try:
            failed: ProviderError | None = None
            try:
                async for chunk in chunks:
                    received += 1
                    last = chunk
                    yield chunk
                finished = True
            except ProviderError as exc:
                if received:
                    if isinstance(exc, StreamInterruptedError):
                        raise
                    raise retry._interrupted(exc, received) from exc
                failed = exc
            if failed is not None:
                # The first attempt failed before its first chunk: close it, as the retry
                # layer does, and let the retry layer's loop take the attempts that remain.
                await maybe_aclose(chunks)
                chunks = retry._attempts(request, failed, started)
                async for chunk in chunks:
                    received += 1
                    last = chunk
                    yield chunk
                finished = True
        except BaseException as exc:
            breaker._on_error(_NOT_A_TRIAL, exc, received=received > 0)
            raise
        else:
            breaker._on_success(_NOT_A_TRIAL)
        finally:
            self._count_stream(request, last, received)
            # A stream that ran to its end is closed already; otherwise close it at once.
            if not finished:
                await maybe_aclose(chunks)
