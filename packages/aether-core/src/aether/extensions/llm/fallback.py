"""``FallbackProvider``: when a provider fails in a way its own retries will not fix soon, ask
the next one.

A fallback chain is an ordered list of provider stacks, each with its own retry layer and
circuit breaker (``ProviderConfig(fallbacks=[...])`` builds it). A call goes to the first; when
the error it surfaces is one that falls over, the call goes to the next, and so on. The
retry layer has given up by the time an error reaches this layer, so what falls over is what
retrying the same provider will not fix soon.

Which errors fall over is a :class:`FallbackPolicy`. By default:

=====================================  ==========================================================
error                                   falls over?
=====================================  ==========================================================
``CircuitOpenError``                    yes: the provider is refusing calls for a while
``ServerError`` (5xx)                   yes, once its retries are spent
``RateLimitError`` (429, overloaded)    yes, once its retries are spent (or its wait was too long)
``ProviderTimeoutError`` (and 408)      yes, once its retries are spent
``ProviderConnectionError``             yes, once its retries are spent
``StreamInterruptedError``              yes, if the stream had shown no output yet
``AuthenticationError`` (401 / 403)     yes: this provider's key will not work on a retry either
``ContextLengthError``                  only to a provider with a longer context (see below)
any other ``BadRequestError`` (400...)  no: the request is wrong, another provider would refuse it
anything else                           no
=====================================  ==========================================================

A ``ContextLengthError`` falls over only to a provider configured with a larger
``max_context_tokens`` than the one that refused (any declared window, when the refusing
provider declares none); providers in between are skipped. A stream falls over only while it
has shown nothing: chunks without content (a role marker, an empty delta) are held back until
the first chunk with text, reasoning, a refusal or a tool call; after that an error is raised
as it is, since the caller has already seen part of one provider's answer.

Capabilities (tools, images, structured output) are checked against the first provider before
anything is sent: give it fallbacks that serve what it does.

Each fallback answers with its own model (a model named per call is the first provider's);
an answer that does not name its model is given the fallback's, so usage counted outside the
chain is counted per model. Each fall-over is logged at INFO on ``aether.fallback`` and told to
``on_fallback`` as a :class:`~aether.events.RequestRetry` whose ``fallback_provider`` names the
provider tried next (the client publishes it as ``request.retry``). An answer a fallback gave
(a response, each chunk of its stream) is marked as such
(:mod:`aether.extensions.llm._fallback_mark`), so the client's ``request.complete`` and
``stream.complete`` name the fallback that answered, and cost tracking counts a broken
stream's estimate under the fallback's model. When no provider answers, the error is a
:class:`~aether.errors.FallbackError`.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from aether.errors import (
    AuthenticationError,
    CircuitOpenError,
    ContextLengthError,
    FallbackError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
)
from aether.events import RequestRetry
from aether.extensions.llm._fallback_mark import mark_fallback, watch
from aether.extensions.llm._layer import ProviderLayer, maybe_aclose, provider_name
from aether.extensions.llm.retrying import OnRetry
from aether.llm.contracts import LLMProvider, LLMRequest, LLMResponse, LLMStreamChunk

__all__ = [
    "DEFAULT_FALLBACK_ERRORS",
    "FallOver",
    "FallbackPolicy",
    "FallbackProvider",
    "FallbackTarget",
]

logger = logging.getLogger("aether.fallback")

FallOver = Literal["stop", "next", "longer_context"]
"""What a :class:`FallbackPolicy` says of an error: raise it, try the next provider, or try the
next provider configured for a longer context."""

DEFAULT_FALLBACK_ERRORS: Final[tuple[type[BaseException], ...]] = (
    CircuitOpenError,
    ServerError,
    RateLimitError,
    ProviderTimeoutError,
    ProviderConnectionError,
    StreamInterruptedError,
    AuthenticationError,
)
"""The errors that fall over by default (see the module's table)."""


class FallbackPolicy(BaseModel):
    """Which errors make a call fall over to the next provider of a chain.

    Decided in this order: ``when`` (if it gives a verdict), then ``never``, then the
    context-length rule, then ``on``; anything else is raised as it is.

        FallbackPolicy().including(BadRequestError)   # 400s fall over too
        FallbackPolicy().excluding(AuthenticationError)   # a wrong key is raised at once
        FallbackPolicy(when=lambda e: getattr(e, "status_code", None) == 418 or None)
    """

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    on: tuple[type[BaseException], ...] = Field(
        default=DEFAULT_FALLBACK_ERRORS,
        description="Error types (subclasses included) that fall over to the next provider.",
    )
    never: tuple[type[BaseException], ...] = Field(
        default=(),
        description="Error types that never fall over, even when ``on`` holds a base class.",
    )
    context_length: bool = Field(
        default=True,
        description="A ContextLengthError falls over to the next provider configured with a "
        "larger max_context_tokens (False: it is treated like any other error).",
    )
    when: Callable[[BaseException], bool | None] | None = Field(
        default=None,
        description="Asked first: True falls over, False raises, None leaves it to the rules.",
    )

    def including(self, *errors: type[BaseException]) -> FallbackPolicy:
        """A copy in which ``errors`` fall over too (and are no longer in ``never``)."""
        return FallbackPolicy(
            on=(*self.on, *(e for e in errors if e not in self.on)),
            never=tuple(e for e in self.never if e not in errors),
            context_length=self.context_length,
            when=self.when,
        )

    def excluding(self, *errors: type[BaseException]) -> FallbackPolicy:
        """A copy in which ``errors`` (subclasses included) never fall over."""
        return FallbackPolicy(
            on=tuple(e for e in self.on if e not in errors),
            never=(*self.never, *(e for e in errors if e not in self.never)),
            context_length=self.context_length,
            when=self.when,
        )

    def classify(self, error: BaseException) -> FallOver:
        """What a chain does when a provider raised ``error`` (see :data:`FallOver`)."""
        if self.when is not None:
            verdict = self.when(error)
            if verdict is not None:
                return "next" if verdict else "stop"
        if self.never and isinstance(error, self.never):
            return "stop"
        if self.context_length and isinstance(error, ContextLengthError):
            return "longer_context"
        return "next" if isinstance(error, self.on) else "stop"

    def falls_over(self, error: BaseException) -> bool:
        """Whether ``error`` falls over at all (to some provider)."""
        return self.classify(error) != "stop"


@dataclass(frozen=True, slots=True)
class FallbackTarget:
    """One provider of a chain, with what the chain needs to know of it.

    Attributes:
        provider: Its stack (its own retry layer and circuit breaker, when it has them).
        name: How errors, logs and events name it; None: the provider's ``name``.
        model: The model asked of it when it is a fallback; None: its default model.
        max_context_tokens: Its model's context window in tokens, when known; a
            context-length error falls over only to a provider whose window is larger.
    """

    provider: LLMProvider
    name: str | None = None
    model: str | None = None
    max_context_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class _Failure:
    target: FallbackTarget
    model: str | None  # the model it was asked for
    error: BaseException


class FallbackProvider(ProviderLayer):
    """Tries the providers of a chain in order. Satisfies :class:`~aether.llm.LLMProvider`.

    ``inner`` is the first provider (what :func:`~aether.extensions.llm.builder.find_layer`
    and ``default_model`` read); the others are in ``fallbacks``.

    Args:
        providers: The chain, first choice first: provider stacks, or :class:`FallbackTarget`
            for a name, model or context window other than the provider's own. At least two.
        policy: Which errors fall over; default :class:`FallbackPolicy`.
        on_fallback: Told of each fall-over before the next provider is tried, as a
            :class:`~aether.events.RequestRetry` with ``fallback_provider`` set; sync or
            async; what it raises is logged, not raised. ``Aether`` passes its event bus's
            ``emit``.
    """

    __slots__ = ("fallbacks", "on_fallback", "policy", "primary")

    def __init__(
        self,
        providers: Sequence[LLMProvider | FallbackTarget],
        *,
        policy: FallbackPolicy | None = None,
        on_fallback: OnRetry | None = None,
    ) -> None:
        targets = [_target(p) for p in providers]
        if len(targets) < 2:
            raise ValueError(
                f"A fallback chain needs at least two providers, got {len(targets)}; "
                f"call the provider itself when there is nothing to fall back to."
            )
        super().__init__(targets[0].provider)
        self.primary = targets[0]
        self.fallbacks: tuple[FallbackTarget, ...] = tuple(targets[1:])
        self.policy = policy if policy is not None else FallbackPolicy()
        self.on_fallback = on_fallback
        watch()  # from now on, the event helpers look for the marks on a fallback's answers

    def __repr__(self) -> str:
        names = ", ".join(_who(t.name, t.model) for t in self.fallbacks)
        return f"FallbackProvider({self.inner!r}, fallbacks=[{names}])"

    async def aclose(self) -> None:
        """Close every provider of the chain, even when closing one of them fails."""
        failed: BaseException | None = None
        for provider in (self.inner, *(t.provider for t in self.fallbacks)):
            try:
                await maybe_aclose(provider)
            except Exception as exc:
                failed = failed or exc
        if failed is not None:
            raise failed

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """The first provider's answer; the next one's when it fails with an error that falls
        over (see the module docs); a :class:`~aether.errors.FallbackError` when none answers."""
        try:
            return await self.inner.complete(request)
        except Exception as exc:
            error = exc
        # Outside the handler, so the next provider's error is not chained to this one.
        chain = _Chain(self, request, error)
        while True:
            target = await chain.advance()
            try:
                response = await target.provider.complete(chain.request_for(target))
            except Exception as exc:
                chain.failed(target, exc)
                continue
            if not response.model and target.model:
                response = response.model_copy(update={"model": target.model})
            mark_fallback(response, _answer_name(target), target.model)
            return response

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        """The first provider's stream, falling over only while nothing has been shown."""
        target = self.primary
        provider = self.inner
        asked = request
        chain: _Chain | None = None
        while True:
            held: list[LLMStreamChunk] = []
            shown = finished = False
            model = target.model if chain is not None else None  # named on a fallback's answer
            # Each chunk of a fallback's stream is marked as its own (the first provider's
            # chunks pass untouched): the events and cost tracking outside read the mark.
            answerer = _answer_name(target) if chain is not None else None
            chunks = provider.stream(asked)
            try:
                async for chunk in chunks:
                    if model is not None and chunk.model is None and _is_last(chunk):
                        chunk = chunk.model_copy(update={"model": model})
                    if answerer is not None:
                        mark_fallback(chunk, answerer, target.model)
                    if shown:
                        yield chunk
                    elif _has_content(chunk):
                        shown = True
                        for early in held:
                            yield early
                        held.clear()
                        yield chunk
                    else:
                        held.append(chunk)  # nothing to show yet: a fall-over drops it
                finished = True
            except Exception as exc:
                if shown:
                    raise  # the caller has part of this answer: another would not continue it
                error = exc
            finally:
                if not finished:
                    await maybe_aclose(chunks)
            if finished:
                for early in held:  # an answer without content (an empty text) is an answer
                    yield early
                return
            if chain is None:
                chain = _Chain(self, request, error)
            else:
                chain.failed(target, error)
            target = await chain.advance()
            provider = target.provider
            asked = chain.request_for(target)


class _Chain:
    """One call's way down a chain after its first provider failed: who failed, and why."""

    __slots__ = ("failures", "floor", "layer", "longer", "position", "request", "skipped")

    def __init__(self, layer: FallbackProvider, request: LLMRequest, error: BaseException) -> None:
        self.layer = layer
        self.request = request
        self.failures = [_Failure(layer.primary, request.model, error)]
        self.position = 0  # index in layer.fallbacks of the next provider to consider
        self.longer = False  # a context-length error happened: only larger windows now
        self.floor: int | None = None  # the largest window that refused
        self.skipped: list[str] = []

    def failed(self, target: FallbackTarget, error: BaseException) -> None:
        self.failures.append(_Failure(target, target.model, error))

    def request_for(self, target: FallbackTarget) -> LLMRequest:
        """The request as ``target`` gets it: with its own model."""
        if target.model == self.request.model:
            return self.request
        return self.request.model_copy(update={"model": target.model})

    async def advance(self) -> FallbackTarget:
        """The next provider to try after the last failure; raises when there is none."""
        last = self.failures[-1]
        verdict = self.layer.policy.classify(last.error)
        fallbacks = self.layer.fallbacks
        if verdict == "stop":
            raise self._give_up(untried=len(fallbacks) - self.position)
        if verdict == "longer_context":
            self.longer = True
            window = last.target.max_context_tokens
            if window is not None:
                self.floor = max(window, self.floor or 0)
        while self.position < len(fallbacks):
            target = fallbacks[self.position]
            self.position += 1
            if self.longer and not _longer(target, self.floor):
                self.skipped.append(_who(target.name, target.model))
                continue
            await self._announce(last, target)
            return target
        raise self._give_up(untried=0)

    def _give_up(self, *, untried: int) -> BaseException:
        """The error to raise: the only one as it is, else a FallbackError naming them all."""
        last = self.failures[-1].error
        if len(self.failures) == 1:
            return last  # only the first provider was tried: its error, untouched
        error = FallbackError(
            [(f.target.name or "provider", f.model, f.error) for f in self.failures],
            skipped=self.skipped,
            untried=untried,
        )
        error.__cause__ = last
        return error

    async def _announce(self, last: _Failure, target: FallbackTarget) -> None:
        """Log the fall-over and tell ``on_fallback`` of it."""
        error = last.error
        logger.info(
            "Falling over from %s (model %s) to %s (model %s): it failed with %s.",
            last.target.name or "the provider",
            last.model or "default",
            target.name or "the next provider",
            target.model or "default",
            _label(error),
        )
        on_fallback = self.layer.on_fallback
        if on_fallback is None:
            return
        attempts = error.attempts if isinstance(error, ProviderError) else 1
        event = RequestRetry(
            self.request,
            last.target.name,
            last.model,
            attempts,
            0.0,
            error,
            fallback_provider=target.name,
            fallback_model=target.model,
        )
        try:
            told = on_fallback(event)
            if inspect.isawaitable(told):
                await told
        except Exception:  # observability never breaks the call
            logger.exception("on_fallback callback %r raised; ignored.", on_fallback)


def _target(item: LLMProvider | FallbackTarget) -> FallbackTarget:
    """``item`` as a target whose name and model are filled in from the provider when unset."""
    target = item if isinstance(item, FallbackTarget) else FallbackTarget(item)
    name = target.name or provider_name(target.provider)
    model = target.model or _default_model(target.provider)
    if name == target.name and model == target.model:
        return target
    return FallbackTarget(target.provider, name, model, target.max_context_tokens)


def _answer_name(target: FallbackTarget) -> str:
    """How the mark on an answer of ``target`` names it: its name, else its provider's class."""
    if target.name:
        return target.name
    provider: object = target.provider
    for _ in range(32):  # a stack is a few layers deep; a cycle must not hang a call
        inner = getattr(provider, "inner", None)
        if inner is None:
            break
        provider = inner
    return type(provider).__name__


def _default_model(provider: object) -> str | None:
    try:
        model = getattr(provider, "default_model", None)
    except Exception:  # a layer's passthrough reading a provider without one
        return None
    return model if isinstance(model, str) and model else None


def _longer(target: FallbackTarget, floor: int | None) -> bool:
    window = target.max_context_tokens
    return window is not None and (floor is None or window > floor)


def _has_content(chunk: LLMStreamChunk) -> bool:
    """Whether showing ``chunk`` shows part of an answer (so a fall-over would be seen)."""
    return bool(
        chunk.text
        or chunk.tool_call_deltas
        or chunk.tool_calls
        or chunk.reasoning_text
        or chunk.refusal
    )


def _is_last(chunk: LLMStreamChunk) -> bool:
    """The chunk usage is counted from: the one with the finish reason or the token counts."""
    return bool(chunk.finish_reason or chunk.input_tokens or chunk.output_tokens)


def _who(name: str | None, model: str | None) -> str:
    return f"{name or 'provider'} (model {model or 'default'})"


def _label(error: BaseException) -> str:
    status = getattr(error, "status_code", None)
    kind = type(error).__name__
    return f"{kind}, HTTP {status}" if isinstance(status, int) else kind
