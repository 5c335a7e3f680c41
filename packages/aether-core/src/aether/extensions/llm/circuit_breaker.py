"""``CircuitBreakerProvider``: stop calling a provider that keeps failing, then probe it.

States: **closed** (calls pass; ``failure_threshold`` consecutive failures within ``window``
seconds open it), **open** (calls fail fast with :class:`~aether.errors.CircuitOpenError` for
``reset_timeout`` seconds), **half-open** (at most ``half_open_max_calls`` trial calls run;
``success_threshold`` successes close it, one failure opens it again).

Only signs of an unhealthy provider count as failures: 5xx, 408, timeouts, connection errors
and streams dropped mid-way. Other 4xx (the request's fault), context-length errors and
cancellation never do. A trial call that ends without a verdict (cancelled, a 4xx) gives its
permit back, so the breaker can never be stuck half-open.

It sits outside the retry layer, so one call that exhausted its retries is one failure.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from aether.errors import (
    CircuitOpenError,
    ContextLengthError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    ServerError,
    StreamInterruptedError,
)
from aether.extensions.llm._layer import ProviderLayer, maybe_aclose
from aether.llm.contracts import LLMProvider, LLMRequest, LLMResponse, LLMStreamChunk

__all__ = ["CircuitBreakerConfig", "CircuitBreakerProvider", "CircuitState", "counts_as_failure"]

logger = logging.getLogger("aether.circuit_breaker")

CircuitState = Literal["closed", "open", "half_open"]
"""Where the breaker is: letting calls through, refusing them, or probing with trials."""

_FAILURE_TYPES = (
    ServerError,
    ProviderTimeoutError,
    ProviderConnectionError,
    StreamInterruptedError,
)
_CLOSED: CircuitState = "closed"
_OPEN: CircuitState = "open"
_HALF_OPEN: CircuitState = "half_open"
_NOT_A_TRIAL = -1


class CircuitBreakerConfig(BaseModel):
    """When the breaker opens and how it recovers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    failure_threshold: int = Field(
        default=5, ge=1, description="Consecutive failures (within ``window``) that open it."
    )
    window: float = Field(
        default=60.0, gt=0, description="Failures older than this many seconds are forgotten."
    )
    reset_timeout: float = Field(
        default=30.0, ge=0, description="Seconds it stays open before trial calls are let through."
    )
    half_open_max_calls: int = Field(
        default=1, ge=1, description="Trial calls allowed at once while half-open."
    )
    success_threshold: int = Field(
        default=1, ge=1, description="Successful trial calls needed to close it again."
    )


def counts_as_failure(error: BaseException) -> bool:
    """Whether ``error`` says the provider is unhealthy (and so counts towards opening)."""
    if not isinstance(error, ProviderError) or isinstance(error, ContextLengthError):
        return False
    if isinstance(error, _FAILURE_TYPES):
        return True
    status = error.status_code
    return status is not None and (status >= 500 or status == 408)


class CircuitBreakerProvider(ProviderLayer):
    """Fails fast while the wrapped provider is unhealthy; an :class:`~aether.llm.LLMProvider`.

    Safe for many concurrent callers (asyncio tasks, and threads sharing one instance).

    Args:
        inner: The provider to guard.
        config: Thresholds and timings; defaults to :class:`CircuitBreakerConfig`.
        name: The provider's name, shown in :class:`~aether.errors.CircuitOpenError`.
        clock: Monotonic clock in seconds (default :func:`time.monotonic`), for tests.
    """

    __slots__ = (
        "_clock",
        "_failures",
        "_generation",
        "_in_flight",
        "_lock",
        "_opened_at",
        "_opened_by",
        "_state",
        "_successes",
        "config",
        "name",
    )

    def __init__(
        self,
        inner: LLMProvider,
        config: CircuitBreakerConfig | None = None,
        *,
        name: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(inner)
        self.config = config if config is not None else CircuitBreakerConfig()
        self.name = name
        self._clock = clock
        self._lock = threading.Lock()
        self._state: CircuitState = _CLOSED
        self._failures: deque[float] = deque()
        self._opened_at = 0.0
        self._opened_by = 0
        # Each half-open period gets a new generation; a trial's ticket is its generation, so
        # a late verdict from an earlier period can never touch the current permits.
        self._generation = 0
        self._in_flight = 0
        self._successes = 0

    def __repr__(self) -> str:
        return f"CircuitBreakerProvider({self.inner!r}, state={self.state!r})"

    @property
    def state(self) -> CircuitState:
        """The current state; an open circuit whose timeout passed reads as half-open."""
        state = self._state
        if state == _OPEN and self._clock() >= self._opened_at + self.config.reset_timeout:
            return _HALF_OPEN
        return state

    @property
    def failures(self) -> int:
        """Consecutive recent failures counted while closed."""
        return len(self._failures)

    def reset(self) -> None:
        """Close the circuit and forget all failures (e.g. after fixing the configuration)."""
        with self._lock:
            self._close()

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Call the wrapped provider unless the circuit is open."""
        ticket = _NOT_A_TRIAL if self._state is _CLOSED else self._admit()
        try:
            response = await self.inner.complete(request)
        except BaseException as exc:
            self._on_error(ticket, exc, received=False)
            raise
        self._on_success(ticket)
        return response

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        """Yield the wrapped provider's stream unless the circuit is open."""
        ticket = _NOT_A_TRIAL if self._state is _CLOSED else self._admit()
        received = finished = False
        chunks = self.inner.stream(request)
        try:
            async for chunk in chunks:
                received = True
                yield chunk
            finished = True
        except BaseException as exc:
            self._on_error(ticket, exc, received=received)
            raise
        else:
            self._on_success(ticket)
        finally:
            # A stream that ran to its end is closed already; otherwise close it at once.
            if not finished:
                await maybe_aclose(chunks)

    # --- state machine (the slow path: only off the closed-and-healthy road) ----------

    def _admit(self) -> int:
        """Let a call through (returning its ticket) or raise ``CircuitOpenError``."""
        with self._lock:
            if self._state is _CLOSED:
                return _NOT_A_TRIAL
            if self._state is _OPEN:
                wait = self._opened_at + self.config.reset_timeout - self._clock()
                if wait > 0:
                    raise CircuitOpenError(
                        provider=self.name, retry_in=wait, failures=self._opened_by
                    )
                self._state = _HALF_OPEN
                self._generation += 1
                self._in_flight = 0
                self._successes = 0
                logger.info("Circuit half-open%s: letting trial calls through.", self._who())
            if self._in_flight >= self.config.half_open_max_calls:
                raise CircuitOpenError(
                    provider=self.name, retry_in=0.0, failures=self._opened_by, half_open=True
                )
            self._in_flight += 1
            return self._generation

    def _on_error(self, ticket: int, error: BaseException, *, received: bool) -> None:
        """The verdict on a call that raised ``error`` (after ``received`` chunks, if a stream)."""
        if counts_as_failure(error):
            self._on_failure(ticket)
        elif received and isinstance(error, GeneratorExit):
            # The consumer stopped early after the provider answered: it is healthy.
            self._on_success(ticket)
        else:
            self._on_no_verdict(ticket)

    def _on_success(self, ticket: int) -> None:
        if ticket == _NOT_A_TRIAL:
            if self._failures:
                self._failures.clear()
        else:
            self._on_trial_success(ticket)

    def _on_trial_success(self, ticket: int) -> None:
        with self._lock:
            if not self._is_current_trial(ticket):
                return
            self._in_flight -= 1
            self._successes += 1
            if self._successes >= self.config.success_threshold:
                self._close()
                logger.info("Circuit closed%s: trial calls succeeded.", self._who())

    def _on_failure(self, ticket: int) -> None:
        now = self._clock()
        with self._lock:
            if ticket == _NOT_A_TRIAL:
                if self._state is not _CLOSED:
                    return  # started before the circuit opened; already accounted for
                failures = self._failures
                failures.append(now)
                horizon = now - self.config.window
                while failures[0] < horizon:
                    failures.popleft()
                if len(failures) >= self.config.failure_threshold:
                    self._open(now, len(failures))
            elif self._is_current_trial(ticket):
                self._open(now, self._opened_by)

    def _on_no_verdict(self, ticket: int) -> None:
        if ticket == _NOT_A_TRIAL:
            return
        with self._lock:
            if self._is_current_trial(ticket):
                self._in_flight -= 1

    def _is_current_trial(self, ticket: int) -> bool:
        return self._state is _HALF_OPEN and ticket == self._generation

    def _open(self, now: float, failures: int) -> None:
        self._state = _OPEN
        self._opened_at = now
        self._opened_by = failures
        self._failures.clear()
        self._generation += 1
        self._in_flight = 0
        self._successes = 0
        # INFO like every state change: the caller hears of it as CircuitOpenError, and an
        # application that has not configured logging should not find it on its stderr.
        logger.info(
            "Circuit opened%s after %d consecutive failures; refusing calls for %.1fs.",
            self._who(),
            failures,
            self.config.reset_timeout,
        )

    def _close(self) -> None:
        self._state = _CLOSED
        self._failures.clear()
        self._generation += 1
        self._in_flight = 0
        self._successes = 0
        self._opened_by = 0

    def _who(self) -> str:
        return f" for {self.name!r}" if self.name else ""
