"""``CostTrackingProvider``: count tokens and dollars of every call that billed.

It sits outermost in the stack, so it sees one result per logical call: retried attempts that
failed before any output are not counted, a call is counted once however many retries it
took. A stream counts from the usage its provider reports (on the final chunk).

A stream that breaks, is cancelled or is abandoned by its consumer after output began was
billed by the provider but usually never reported its usage. It is still counted, as an
*estimate*: one output token per chunk received (providers stream about one token per delta)
and one input token per four characters of the prompt. So is a stream that ended without
usage on its last chunk. Such calls are flagged in ``TokenUsage.estimated_requests``, and
counted under the model that streamed: the one its last chunk names, else, for a fallback of a
chain, the model asked of that fallback, else the request's.

An answer the response cache gave (:mod:`aether.extensions.llm.caching`, outside this layer)
billed nothing and is not a request: the cache tells :meth:`CostTrackingProvider.count_hit`,
which counts it in ``cache_hits`` and prices the tokens the original call billed, at the fold
as every cost is, into ``cost_saved_usd``.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import AsyncIterator, Callable
from itertools import repeat
from operator import itemgetter
from time import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from aether.extensions.llm._fallback_mark import fallback_of
from aether.extensions.llm._layer import ProviderLayer, maybe_aclose
from aether.extensions.llm.pricing import ModelPricing, PriceBook, Pricer, TimedPricer
from aether.extensions.llm.usage import TokenUsage, UsageSummary
from aether.llm.contracts import LLMProvider, LLMRequest, LLMResponse, LLMStreamChunk

__all__ = ["CostTrackingConfig", "CostTrackingProvider"]

_CHARS_PER_TOKEN = 4


class CostTrackingConfig(BaseModel):
    """Where prices come from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pricing: dict[str, ModelPricing] = Field(
        default_factory=dict,
        description="Prices by model name; they win over the bundled genai-prices data.",
    )
    provider_id: str | None = Field(
        default=None,
        description="genai-prices provider id (openai, google, anthropic...) to price by when "
        "several sell the same model; None: guessed from the model name.",
    )
    use_price_library: bool = Field(
        default=True, description="Look prices up in genai-prices (False: ``pricing`` only)."
    )


_FOLD_EVERY = 256

# input, output, cached input, cache write and reasoning tokens of a response or chunk.
_Usage = tuple[int, int, int, int, int]
_usage_of: Callable[[dict[str, Any]], _Usage] = itemgetter(
    "input_tokens", "output_tokens", "cached_input_tokens", "cache_write_tokens", "reasoning_tokens"
)
# A call's usage and when it was made (prices that change with the time of day are looked up
# for that moment, however late the fold prices it).
_Row = tuple[_Usage, float]


class _Meter:
    """One model's queued calls, waiting for the next fold.

    The request path only appends the usage tuple of each call to ``pending``; prices are
    looked up at the fold, never on the request path, so the first call of a fresh process
    does not load the price data. Estimated calls are rare and counted under the fold lock
    instead, so the common call appends the usage tuple it was given as is. Cache hits queue
    in ``saved`` the same way.
    """

    __slots__ = ("estimated", "pending", "saved")

    def __init__(self) -> None:
        self.pending: deque[_Row] = deque()
        self.saved: deque[_Row] = deque()
        self.estimated = 0  # only touched under the fold lock


class _Tally:
    """Running totals of one model (only touched under the fold lock)."""

    __slots__ = (
        "cached",
        "estimated",
        "flat",
        "hits",
        "input",
        "output",
        "per_call",
        "per_call_cost",
        "priced",
        "reasoning",
        "requests",
        "saved",
        "saved_per_call_cost",
        "saved_priced",
        "written",
    )

    def __init__(self, price: ModelPricing | Pricer | None) -> None:
        self.requests = self.input = self.output = self.cached = 0
        self.written = self.reasoning = self.estimated = 0
        self.per_call_cost = 0.0
        # Cache hits: how many, and the input, output, cached and written tokens they saved.
        self.hits = 0
        self.saved = [0, 0, 0, 0]
        self.saved_per_call_cost = 0.0
        self.flat: ModelPricing | None = None
        # Tiered prices depend on each call's counts, so such a model is priced call by call.
        self.per_call: Pricer | None = None
        if isinstance(price, ModelPricing):
            self.flat = price
        else:
            self.per_call = price
        self.priced = price is not None
        self.saved_priced = self.priced

    def cost(self) -> float | None:
        if not self.requests:
            return 0.0  # only cache hits: nothing billed, whatever the price
        if not self.priced:
            return None
        if self.flat is None:
            return self.per_call_cost
        # Flat prices are linear in the counts: pricing the totals equals summing the calls.
        return self.flat.cost(self.input, self.output, self.cached, self.written)

    def cost_saved(self) -> float | None:
        if not self.hits:
            return 0.0
        if not self.saved_priced:
            return None
        if self.flat is None:
            return self.saved_per_call_cost
        return self.flat.cost(*self.saved)


def _fold_hits(tally: _Tally, hits: list[_Row]) -> None:
    """Add cache hits to ``tally``: their count, the tokens they saved and, per call, their
    price (a flat price is applied to the totals when read)."""
    tally.hits += len(hits)
    usages = [usage for usage, _ in hits]
    saved = tally.saved
    for column, total in enumerate(map(sum, zip(*usages, strict=True))):
        if column < 4:  # input, output, cached, written: what a price is of
            saved[column] += total
    per_call = tally.per_call
    if per_call is not None:
        if isinstance(per_call, TimedPricer):
            prices = [per_call.priced_at(u[0], u[1], u[2], u[3], at) for u, at in hits]
        else:
            prices = [per_call(u[0], u[1], u[2], u[3]) for u, _ in hits]
        known = [cost for cost in prices if cost is not None]
        tally.saved_per_call_cost += sum(known)
        if len(known) < len(prices):
            tally.saved_priced = False


class CostTrackingProvider(ProviderLayer):
    """Counts usage and cost of the wrapped provider. Satisfies :class:`~aether.llm.LLMProvider`.

    Safe under many concurrent callers (tasks and threads). Recording a call is an append to
    a thread-safe queue; the queue is folded into per-model totals every few hundred calls
    and whenever ``usage`` is read, so the request path takes no lock. ``usage`` is a
    snapshot; ``reset()`` starts over.

    Args:
        inner: The provider to meter.
        config: Price overrides and lookup options; defaults to :class:`CostTrackingConfig`.
    """

    __slots__ = ("_fold_lock", "_meters", "_tallies", "config", "prices")

    def __init__(self, inner: LLMProvider, config: CostTrackingConfig | None = None) -> None:
        super().__init__(inner)
        self.config = config if config is not None else CostTrackingConfig()
        self.prices = PriceBook(
            self.config.pricing,
            provider_id=self.config.provider_id,
            use_library=self.config.use_price_library,
        )
        self._fold_lock = threading.Lock()
        # model -> its meter; one queue per model, so a fold sums whole columns at once.
        self._meters: dict[str, _Meter] = {}
        self._tallies: dict[str, _Tally] = {}

    @property
    def usage(self) -> UsageSummary:
        """A snapshot of the totals so far (later calls do not change it)."""
        with self._fold_lock:
            self._fold_locked()
            rows = {
                model: TokenUsage(
                    requests=t.requests,
                    input_tokens=t.input,
                    output_tokens=t.output,
                    cached_input_tokens=t.cached,
                    cache_write_tokens=t.written,
                    reasoning_tokens=t.reasoning,
                    estimated_requests=t.estimated,
                    cost_usd=t.cost(),
                    cache_hits=t.hits,
                    cost_saved_usd=t.cost_saved(),
                )
                for model, t in self._tallies.items()
            }
        values = rows.values()
        return UsageSummary(
            total_requests=sum(r.requests for r in values),
            total_input_tokens=sum(r.input_tokens for r in values),
            total_output_tokens=sum(r.output_tokens for r in values),
            total_cached_input_tokens=sum(r.cached_input_tokens for r in values),
            total_cache_write_tokens=sum(r.cache_write_tokens for r in values),
            total_reasoning_tokens=sum(r.reasoning_tokens for r in values),
            total_estimated_requests=sum(r.estimated_requests for r in values),
            total_cost_usd=sum(r.cost_usd for r in values if r.cost_usd is not None),
            unpriced_models=sorted(m for m, r in rows.items() if r.cost_usd is None),
            cache_hits=sum(r.cache_hits for r in values),
            cost_saved_usd=sum(r.cost_saved_usd for r in values if r.cost_saved_usd is not None),
            by_model=rows,
        )

    def reset(self) -> None:
        """Forget every total."""
        with self._fold_lock:
            self._fold_locked()
            self._tallies = {}

    def record(
        self,
        model: str,
        *,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cached_input_tokens: int = 0,
        cache_write_tokens: int = 0,
        reasoning_tokens: int = 0,
        estimated: bool = False,
    ) -> None:
        """Count one billed call of ``model``.

        The layer calls this itself; it is public for calls made around the stack.
        """
        self._record(
            model,
            (
                input_tokens,
                output_tokens,
                cached_input_tokens,
                cache_write_tokens,
                reasoning_tokens,
            ),
            estimated,
        )

    def _record(self, model: str, usage: _Usage, estimated: bool) -> None:
        # The request path: one dict lookup and one append; summing waits for the fold.
        meter = self._meters.get(model)
        if meter is None:
            with self._fold_lock:  # two threads meeting a new model at once share one meter
                meter = self._meters.setdefault(model, _Meter())
        pending = meter.pending
        pending.append((usage, time()))
        if estimated:  # after the append, so a snapshot never has more estimated than calls
            with self._fold_lock:
                meter.estimated += 1
        if len(pending) >= _FOLD_EVERY:
            with self._fold_lock:
                self._fold_locked()

    def count_hit(self, request: LLMRequest, answer: LLMResponse | LLMStreamChunk) -> None:
        """Count an answer the response cache gave for ``request``: billed nothing, its
        usage (what the original call billed) saved.

        The cache layer calls this (the builder wires it); it is a
        :data:`~aether.extensions.llm.caching.HitListener`.
        """
        fields = answer.__dict__
        model = fields["model"] or self._model_of(request)
        meter = self._meters.get(model)
        if meter is None:
            with self._fold_lock:
                meter = self._meters.setdefault(model, _Meter())
        saved = meter.saved
        saved.append((_usage_of(fields), time()))
        if len(saved) >= _FOLD_EVERY:
            with self._fold_lock:
                self._fold_locked()

    def _fold_locked(self) -> None:
        """Move queued calls into the per-model totals (caller holds the fold lock)."""
        tallies = self._tallies
        for model, meter in list(self._meters.items()):  # a thread may add a model meanwhile
            # Only what is queued now: appends racing with this fold wait for the next one.
            pending = meter.pending
            rows = list(map(deque.popleft, repeat(pending, len(pending))))
            saved = meter.saved
            hits = list(map(deque.popleft, repeat(saved, len(saved))))
            estimated, meter.estimated = meter.estimated, 0
            if not (rows or estimated or hits):
                continue
            tally = tallies.get(model)
            if tally is None:
                tally = tallies[model] = _Tally(self.prices.resolve(model))
            if hits:
                _fold_hits(tally, hits)
            tally.requests += len(rows)
            tally.estimated += estimated
            if rows:
                usages = [usage for usage, _ in rows]
                inp, out, cached, written, reasoning = map(sum, zip(*usages, strict=True))
                tally.input += inp
                tally.output += out
                tally.cached += cached
                tally.written += written
                tally.reasoning += reasoning
            per_call = tally.per_call
            if per_call is not None and rows:
                if isinstance(per_call, TimedPricer):
                    prices = [per_call.priced_at(u[0], u[1], u[2], u[3], at) for u, at in rows]
                else:
                    prices = [per_call(u[0], u[1], u[2], u[3]) for u, _ in rows]
                known = [cost for cost in prices if cost is not None]
                tally.per_call_cost += sum(known)
                if len(known) < len(prices):
                    tally.priced = False  # priced per call, but some call's price was unknown

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Return the wrapped provider's answer and count what it billed."""
        response = await self.inner.complete(request)
        self._count(request, response)
        return response

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        """Yield the wrapped provider's stream; count it when it ends, however it ends."""
        received = 0
        finished = False
        last: LLMStreamChunk | None = None
        chunks = self.inner.stream(request)
        try:
            async for chunk in chunks:
                received += 1
                last = chunk
                yield chunk
            finished = True
        finally:
            self._count_stream(request, last, received)
            # A stream that ran to its end is closed already; otherwise close it at once.
            if not finished:
                await maybe_aclose(chunks)

    def _count(self, request: LLMRequest, answer: LLMResponse | LLMStreamChunk) -> None:
        """Count one answer (a response, or a stream's usage-bearing last chunk)."""
        # Read from the instance dict in one C call: five pydantic attribute lookups cost
        # more than the rest of this layer on a fast provider.
        fields = answer.__dict__
        model = fields["model"] or self._model_of(request)
        meter = self._meters.get(model)
        if meter is None:  # a new model: the general path
            self._record(model, _usage_of(fields), False)
            return
        # The request path of a model seen before (most calls), without a further call.
        pending = meter.pending
        pending.append((_usage_of(fields), time()))
        if len(pending) >= _FOLD_EVERY:
            with self._fold_lock:
                self._fold_locked()

    def _count_stream(
        self, request: LLMRequest, last: LLMStreamChunk | None, received: int
    ) -> None:
        """Count a stream that ended (however it ended) after ``received`` chunks."""
        # The contract puts usage on the last chunk; without it (the stream broke or was
        # abandoned), what was received is counted as an estimate.
        if last is not None and (last.input_tokens or last.output_tokens):
            self._count(request, last)
        elif received:
            self._record_estimate(request, last, received)

    def _record_estimate(
        self, request: LLMRequest, last: LLMStreamChunk | None, received: int
    ) -> None:
        prompt_chars = sum(len(m.text) for m in request.messages)
        self.record(
            self._streamed_model(request, last),
            input_tokens=-(-prompt_chars // _CHARS_PER_TOKEN),
            output_tokens=received,
            estimated=True,
        )

    def _streamed_model(self, request: LLMRequest, last: LLMStreamChunk | None) -> str:
        """The model a stream that reported no usage came from (see the module docs).

        Not the request's when a fallback of a chain inside this layer streamed: the request
        names the first provider's model, the fallback answered with its own.
        """
        if last is not None:
            if last.model:
                return last.model
            mark = fallback_of(last)
            if mark is not None and mark.model:
                return mark.model
        return self._model_of(request)

    def _model_of(self, request: LLMRequest) -> str:
        if request.model:
            return request.model
        default = getattr(self.inner, "default_model", None)
        return default if isinstance(default, str) and default else "unknown"
