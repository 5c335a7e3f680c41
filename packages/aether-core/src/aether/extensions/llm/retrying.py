"""``RetryingProvider``: the one retry layer, with the retry rules of the official OpenAI SDK.

Retried: 408, 409, 429, 5xx, timeouts and connection errors; never another 4xx. A server's
``x-should-retry`` verdict (``ProviderError.should_retry``) overrides the status rule. A
server-requested delay (``ProviderError.retry_after``, parsed by the provider from
``retry-after-ms`` / ``retry-after``) is honoured up to ``max_retry_after`` seconds; a longer one
surfaces the error at once rather than retrying early against the server's wishes. Otherwise
the wait is ``initial_delay * 2**n`` capped at ``max_delay``, minus up to ``jitter`` of it.

A stream is retried only until its first chunk is yielded; after that a failure raises
:class:`~aether.errors.StreamInterruptedError` and nothing already yielded is repeated.

Retries are visible: each wait is logged at INFO on ``aether.retry`` (provider, model, the
attempt, its status, the delay; never a message, which a provider might fill with a key) and
handed to ``on_retry`` as a :class:`~aether.events.RequestRetry` (the client publishes it as
``request.retry``). An error that surfaces after retries, or because the server asked for
a longer wait than allowed, says so: ``attempts``, ``statuses``, ``waited_seconds`` and a
sentence in ``retry_summary`` (see :class:`~aether.errors.ProviderError`).

In tests, ``with set_testing(True):`` makes every wait instant without changing a decision.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType

from pydantic import BaseModel, ConfigDict, Field

from aether.errors import (
    ConflictError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
    UnexpectedResponseError,
)
from aether.events import RequestRetry
from aether.extensions.llm._layer import ProviderLayer, maybe_aclose
from aether.llm.contracts import LLMProvider, LLMRequest, LLMResponse, LLMStreamChunk

__all__ = [
    "OnRetry",
    "RetryConfig",
    "RetryingProvider",
    "is_retryable",
    "is_testing",
    "set_testing",
]

logger = logging.getLogger("aether.retry")

_RETRYABLE_TYPES = (
    RateLimitError,
    ServerError,
    ProviderTimeoutError,
    ProviderConnectionError,
    ConflictError,
    StreamInterruptedError,
)
_RETRYABLE_STATUSES = frozenset({408, 409, 429})

_testing = False

OnRetry = Callable[[RequestRetry], "Awaitable[None] | None"]
"""Told of each retry before its wait: sync or async; what it raises is logged, not raised."""


class RetryConfig(BaseModel):
    """How the retry layer retries. The defaults are the OpenAI SDK's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_retries: int = Field(default=2, ge=0, description="Retries after the first attempt.")
    initial_delay: float = Field(default=0.5, ge=0, description="First backoff wait (s).")
    max_delay: float = Field(default=8.0, ge=0, description="Cap on one backoff wait (s).")
    jitter: float = Field(
        default=0.25, ge=0, le=1, description="Up to this fraction of a backoff is randomly cut."
    )
    max_retry_after: float = Field(
        default=120.0,
        ge=0,
        description="Longest server-requested wait honoured (s); a longer one surfaces the error.",
    )
    deadline: float | None = Field(
        default=None,
        gt=0,
        description="Overall budget for one call, waits included (s); a retry whose wait would "
        "pass it is not attempted and the last error surfaces. None: no budget.",
    )


def is_retryable(error: BaseException) -> bool:
    """Whether ``error`` is worth another attempt by the retry rules above.

    The server's ``x-should-retry`` verdict wins; then the error's type and HTTP status.
    """
    if not isinstance(error, ProviderError) or isinstance(error, UnexpectedResponseError):
        return False  # the second: the same base URL gives the same wrong answer
    if error.should_retry is not None:
        return error.should_retry
    if isinstance(error, _RETRYABLE_TYPES):
        return True
    status = error.status_code
    return status is not None and (status in _RETRYABLE_STATUSES or status >= 500)


class _TestingMode:
    """Returned by :func:`set_testing`; as a context manager it restores the previous mode."""

    __slots__ = ("_previous",)

    def __init__(self, previous: bool) -> None:
        self._previous = previous

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        global _testing
        _testing = self._previous


def set_testing(enabled: bool = True) -> _TestingMode:
    """Make every retry wait instant (``True``) or real again (``False``), process-wide.

    Decisions (what is retried, how often) do not change, only the waiting. Use it as a
    plain call in a fixture, or as ``with set_testing(True): ...`` to restore afterwards.
    """
    global _testing
    previous = _testing
    _testing = enabled
    return _TestingMode(previous)


def is_testing() -> bool:
    """Whether :func:`set_testing` made retry waits instant."""
    return _testing


class _Tally:
    """What the attempts of one call met: the error of each, and the time waited."""

    __slots__ = ("labels", "statuses", "waited")

    def __init__(self, error: ProviderError) -> None:
        self.statuses: list[int | None] = [error.status_code]
        self.labels = [_label(error)]
        self.waited = 0.0

    def add(self, error: ProviderError) -> None:
        self.statuses.append(error.status_code)
        self.labels.append(_label(error))

    def record(self, error: ProviderError, reason: str = "") -> ProviderError:
        """Put the attempts on ``error`` (and why it surfaces now), and return it."""
        attempts = len(self.statuses)
        error.attempts = attempts
        error.statuses = tuple(self.statuses)
        error.waited_seconds = self.waited
        said = []
        if attempts > 1:
            said.append(
                f"Tried {attempts} times ({', '.join(self.labels)}), waiting "
                f"{self.waited:.2f}s in all."
            )
        if reason:
            said.append(reason)
        if said:
            error.retry_summary = " ".join(said)
            error.args = (str(error),)  # so the repr says it too
        return error


def _label(error: ProviderError) -> str:
    status = error.status_code
    return f"HTTP {status}" if status is not None else type(error).__name__


class RetryingProvider(ProviderLayer):
    """Retries failed calls of the wrapped provider. Satisfies :class:`~aether.llm.LLMProvider`.

    Args:
        inner: The provider to retry (it must not retry on its own).
        config: The retry rules; defaults to :class:`RetryConfig`.
        sleep: Awaitable wait, injectable for tests (default :func:`asyncio.sleep`).
        clock: Monotonic clock in seconds, used for ``deadline`` (default
            :func:`time.monotonic`).
        rng: Source of jitter in ``[0, 1)`` (default :func:`random.random`).
        on_retry: Told of each retry before its wait (:data:`OnRetry`); ``Aether`` passes
            its event bus's ``emit``. Only the retry path calls it, so a call that succeeds
            first time pays nothing for it.
    """

    __slots__ = ("_clock", "_random", "_sleep", "config", "on_retry")

    def __init__(
        self,
        inner: LLMProvider,
        config: RetryConfig | None = None,
        *,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
        on_retry: OnRetry | None = None,
    ) -> None:
        super().__init__(inner)
        self.config = config if config is not None else RetryConfig()
        self._sleep = sleep
        self._clock = clock
        self._random = rng
        self.on_retry = on_retry

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Return the wrapped provider's answer, retrying retryable failures."""
        started = self._start()
        try:
            return await self.inner.complete(request)
        except ProviderError as exc:
            error = exc
        # Outside the handler, so a later attempt's error is not chained to this one.
        return await self._complete_after(request, error, started)

    def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        """Yield the wrapped provider's stream, retrying only before the first chunk."""
        return self._attempts(request, None, None)

    # --- the retry loop, in pieces the default stack's fused path reuses -----------------

    def _start(self) -> float:
        """The clock reading ``deadline`` is measured from (0.0 when there is no deadline)."""
        return self._clock() if self.config.deadline is not None else 0.0

    async def _complete_after(
        self, request: LLMRequest, error: ProviderError, started: float
    ) -> LLMResponse:
        """The attempts after a failed first one, until one answers or the rules say stop."""
        tally = _Tally(error)
        while True:
            await self._pause(request, error, tally, started)
            try:
                return await self.inner.complete(request)
            except ProviderError as exc:
                error = exc
                tally.add(exc)

    async def _attempts(
        self, request: LLMRequest, error: ProviderError | None, started: float | None
    ) -> AsyncIterator[LLMStreamChunk]:
        """Stream attempts; given the ``error`` of a first attempt, they start with its retry."""
        if started is None:
            started = self._start()
        tally = _Tally(error) if error is not None else None
        while True:
            if error is not None and tally is not None:
                await self._pause(request, error, tally, started)
            sent = 0
            finished = False
            chunks = self.inner.stream(request)
            try:
                async for chunk in chunks:
                    sent += 1
                    yield chunk
                finished = True
                return
            except ProviderError as exc:
                if sent:
                    broken = exc if isinstance(exc, StreamInterruptedError) else None
                    if broken is None:
                        broken = self._interrupted(exc, sent)
                    if tally is not None:  # earlier attempts failed before this one
                        tally.add(exc)
                        tally.record(broken)
                    if broken is exc:
                        raise
                    raise broken from exc
                error = exc
                if tally is None:
                    tally = _Tally(exc)
                else:
                    tally.add(exc)
            finally:
                # Close the provider's stream at once (early break, error, cancellation), as
                # contextlib.aclosing would, without its per-stream context-manager cost. A
                # stream that ran to its end is closed already: skip the no-op await.
                if not finished:
                    await maybe_aclose(chunks)

    @staticmethod
    def _interrupted(error: ProviderError, sent: int) -> StreamInterruptedError:
        """The error for a stream that failed after ``sent`` chunks: it is never retried."""
        return StreamInterruptedError(
            f"The stream broke after {sent} chunk(s) were delivered: {error.message}. "
            f"It is not retried, so nothing is repeated; keep what was received "
            f"or ask again.",
            chunks_received=sent,
            provider=error.provider,
            status_code=error.status_code,
            request_id=error.request_id,
        )

    async def _pause(
        self, request: LLMRequest, error: ProviderError, tally: _Tally, started: float
    ) -> None:
        """Wait before the next attempt, telling whoever listens; or raise ``error`` now."""
        attempt = len(tally.statuses)
        delay = self._delay(error, attempt - 1, started)
        if isinstance(delay, str):
            raise tally.record(error, delay)
        logger.info(
            "Retrying %s (model %s) in %.2fs: attempt %d of %d failed with %s (%s).",
            error.provider or "the provider",
            request.model or "default",
            delay,
            attempt,
            self.config.max_retries + 1,
            _label(error),
            type(error).__name__,
        )
        on_retry = self.on_retry
        if on_retry is not None:
            event = RequestRetry(request, error.provider, request.model, attempt, delay, error)
            try:
                told = on_retry(event)
                if inspect.isawaitable(told):
                    await told
            except Exception:  # observability never breaks the call
                logger.exception("on_retry callback %r raised; ignored.", on_retry)
        tally.waited += delay
        await self._wait(delay)

    def _delay(self, error: ProviderError, retries: int, started: float) -> float | str:
        """Seconds to wait before the next attempt, or why ``error`` surfaces now.

        The reason is a sentence for ``retry_summary``; empty when there is nothing worth
        saying (a first attempt that is not retryable, or retries turned off).
        """
        config = self.config
        if not is_retryable(error):
            return "The last error is not one a retry can fix." if retries else ""
        if retries >= config.max_retries:
            if not retries:
                return ""
            return f"No retry is left (RetryConfig(max_retries={config.max_retries}))."
        requested = error.retry_after
        if requested is not None and requested > 0:  # NaN fails the test and falls through
            if requested > config.max_retry_after:
                return (
                    f"The server asked to wait {requested:g}s before a retry, more than the "
                    f"{config.max_retry_after:g}s the retry layer allows, so it was not "
                    f"retried; to wait that long, raise the cap with "
                    f"RetryConfig(max_retry_after=...)."
                )
            delay = requested
        else:
            backoff = min(config.initial_delay * 2.0**retries, config.max_delay)
            delay = backoff * (1.0 - config.jitter * self._random())
        if not math.isfinite(delay):
            return ""
        if config.deadline is not None and self._clock() + delay - started > config.deadline:
            return (
                f"Waiting {delay:.2f}s for another attempt would pass the "
                f"{config.deadline:g}s deadline (RetryConfig(deadline=...))."
            )
        return delay

    async def _wait(self, delay: float) -> None:
        if _testing or delay <= 0:
            return
        await self._sleep(delay)
