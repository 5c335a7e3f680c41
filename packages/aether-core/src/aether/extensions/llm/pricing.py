"""Model prices: user overrides first, then the ``genai-prices`` library's bundled data.

``genai-prices`` is imported on the first lookup of a model no override covers, never at
``import aether`` (it takes ~100 ms), and only its bundled data is used: no network, ever.
Each model name is resolved once; afterwards a request's cost is a dict lookup and a few
multiplications.

Dated snapshots resolve to their model (``gpt-4o-mini-2024-07-18`` costs what ``gpt-4o-mini``
costs), in overrides and in the library data alike. Token counts follow the contracts:
``input_tokens`` includes cached and cache-write tokens, ``output_tokens`` includes reasoning
tokens, which every major provider bills at the output price.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ModelPricing", "PriceBook", "TimedPricer", "snapshot_names"]

_PER = 1_000_000.0

# Trailing snapshot markers: -2024-07-18, -20241022, @20241022, -001, -latest.
_SNAPSHOT_SUFFIX = re.compile(r"(?:[-@](?:\d{4}-\d{2}-\d{2}|\d{8}|\d{3,4}|latest))$")
# Leading namespaces some APIs return or accept: models/gemini-..., openai/gpt-...
_NAMESPACE = re.compile(r"^(?:models/|[a-z0-9_.-]+/)")


class ModelPricing(BaseModel):
    """What a model costs, in USD per million tokens. Overrides the bundled price data.

    ``CostTrackingConfig(pricing={"my-finetune": ModelPricing(input_per_million=0.3,
    output_per_million=1.2)})``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    input_per_million: float = Field(ge=0, description="Uncached input tokens.")
    output_per_million: float = Field(ge=0, description="Output tokens, reasoning included.")
    cached_input_per_million: float | None = Field(
        default=None, ge=0, description="Prompt-cache reads; None: the input price."
    )
    cache_write_per_million: float | None = Field(
        default=None, ge=0, description="Prompt-cache writes; None: the input price."
    )

    def cost(
        self,
        input_tokens: int,
        output_tokens: int,
        cached_input_tokens: int = 0,
        cache_write_tokens: int = 0,
    ) -> float:
        """USD for one call. ``input_tokens`` includes the cached and cache-write tokens."""
        input_price = self.input_per_million
        cached_price = self.cached_input_per_million
        write_price = self.cache_write_per_million
        uncached = max(0, input_tokens - cached_input_tokens - cache_write_tokens)
        total = uncached * input_price + output_tokens * self.output_per_million
        total += cached_input_tokens * (input_price if cached_price is None else cached_price)
        total += cache_write_tokens * (input_price if write_price is None else write_price)
        return total / _PER


Pricer = Callable[[int, int, int, int], "float | None"]
"""``(input, output, cached_input, cache_write) -> USD``: a resolved model's price function."""


def snapshot_names(model: str) -> Iterator[str]:
    """The names a model may be priced under, most specific first.

    ``"models/gpt-4o-mini-2024-07-18"`` gives itself, ``"gpt-4o-mini-2024-07-18"`` and
    ``"gpt-4o-mini"``.
    """
    name = model.strip().lower()
    if not name:
        return
    bare = _NAMESPACE.sub("", name)
    if bare != name:
        yield name
    while bare:
        yield bare
        stripped = _SNAPSHOT_SUFFIX.sub("", bare)
        if stripped == bare:
            break
        bare = stripped


class PriceBook:
    """Model name → price function, resolved once per name and cached.

    Args:
        overrides: Prices that win over the library's, by model name (snapshots of a name
            match it too).
        provider_id: A ``genai-prices`` provider id (``"openai"``, ``"google"``,
            ``"anthropic"``...) when the same model is sold by several; None: guessed from
            the name.
        use_library: Look prices up in ``genai-prices`` (False: overrides only).
    """

    __slots__ = ("_cache", "_overrides", "provider_id", "use_library")

    def __init__(
        self,
        overrides: Mapping[str, ModelPricing] | None = None,
        *,
        provider_id: str | None = None,
        use_library: bool = True,
    ) -> None:
        self._overrides = {name.strip().lower(): price for name, price in (overrides or {}).items()}
        self.provider_id = provider_id
        self.use_library = use_library
        self._cache: dict[str, ModelPricing | Pricer | None] = {}

    def resolve(self, model: str) -> ModelPricing | Pricer | None:
        """The price of ``model``: flat per-token prices, a price function, or None (unknown).

        Flat prices (the common case) are linear in the token counts, so totals can be
        priced at once; a function (prompt-size tiers, time-of-day prices) prices one call.
        """
        try:
            return self._cache[model]
        except KeyError:
            pass
        found = self._resolve(model)
        self._cache[model] = found
        return found

    def pricer(self, model: str) -> Pricer | None:
        """The price function of ``model``, or None when its price is unknown."""
        found = self.resolve(model)
        return found.cost if isinstance(found, ModelPricing) else found

    def cost(
        self,
        model: str,
        input_tokens: int,
        output_tokens: int,
        cached_input_tokens: int = 0,
        cache_write_tokens: int = 0,
    ) -> float | None:
        """USD for one call of ``model``, or None when its price is unknown (never a made-up 0)."""
        price = self.pricer(model)
        if price is None:
            return None
        return price(input_tokens, output_tokens, cached_input_tokens, cache_write_tokens)

    def _resolve(self, model: str) -> ModelPricing | Pricer | None:
        names = list(snapshot_names(model))
        for name in names:
            override = self._overrides.get(name)
            if override is not None:
                return override
        if not self.use_library:
            return None
        for name in names:
            found = _library_pricer(name, self.provider_id)
            if found is not None:
                return found
        return None


# --- the genai-prices adapter ---------------------------------------------------------


def _library_pricer(model: str, provider_id: str | None) -> ModelPricing | Pricer | None:
    """Resolve ``model`` in the bundled ``genai-prices`` data (imported here, on first use)."""
    import genai_prices

    empty = genai_prices.Usage(input_tokens=0, output_tokens=0)
    try:
        found = genai_prices.calc_price(empty, model, provider_id=provider_id)
    except LookupError:
        return None
    info = found.model
    constraints = [
        getattr(conditional, "constraint", None)
        for conditional in (info.prices if isinstance(info.prices, list) else ())
    ]
    if any(constraint is not None for constraint in constraints):
        # Prices that change with the date or time of day (off-peak discounts): resolve the
        # price in force at each call instead of freezing today's.
        return TimedPricer(info)
    return _from_library_price(found.model_price)


def _from_library_price(price: Any) -> ModelPricing | Pricer | None:
    keys = ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok")
    values = [getattr(price, key, None) for key in keys]
    if values[0] is None or values[1] is None:
        return None  # not priced per token (images, audio-only): unknown, not free
    thresholds = sorted({tier.start for value in values for tier in getattr(value, "tiers", ())})
    base = _flat_pricing(values, threshold=None)
    if not thresholds:
        return base
    tiers = tuple((start, _flat_pricing(values, threshold=start)) for start in thresholds)
    return _TieredPricer(base, tiers)


def _flat_pricing(values: list[Any], threshold: int | None) -> ModelPricing:
    """The flat prices in force when the input exceeds ``threshold`` tokens (None: base)."""
    flat: list[float | None] = []
    for value in values:
        if value is None:
            flat.append(None)
            continue
        tiers = getattr(value, "tiers", None)
        if tiers is None:
            flat.append(float(value))
            continue
        chosen = value.base
        for tier in tiers:
            if threshold is not None and tier.start <= threshold:
                chosen = tier.price
        flat.append(float(chosen))
    return ModelPricing(
        input_per_million=flat[0] or 0.0,
        output_per_million=flat[1] or 0.0,
        cached_input_per_million=flat[2],
        cache_write_per_million=flat[3],
    )


class _TieredPricer:
    """Prices that step up with the size of the prompt (as ``genai-prices`` tiers them)."""

    __slots__ = ("_base", "_tiers")

    def __init__(self, base: ModelPricing, tiers: tuple[tuple[int, ModelPricing], ...]) -> None:
        self._base = base
        self._tiers = tiers

    def __call__(self, input_tokens: int, output: int, cached: int, written: int) -> float:
        chosen = self._base
        for start, pricing in self._tiers:
            if input_tokens > start:
                chosen = pricing
        return chosen.cost(input_tokens, output, cached, written)


class TimedPricer:
    """Prices with date or time-of-day conditions (off-peak discounts), looked up per call.

    Calling it prices a call made now; :meth:`priced_at` prices one made at another moment,
    so a call counted now and priced later still costs what it cost when it was made.
    """

    __slots__ = ("_converted", "_info")

    def __init__(self, info: Any) -> None:
        self._info = info
        self._converted: dict[int, ModelPricing | Pricer | None] = {}

    def __call__(self, input_tokens: int, output: int, cached: int, written: int) -> float | None:
        return self.priced_at(input_tokens, output, cached, written, time.time())

    def priced_at(
        self, input_tokens: int, output: int, cached: int, written: int, at: float
    ) -> float | None:
        """USD for one call made at ``at`` (seconds since the epoch)."""
        price = self._info.get_prices(datetime.fromtimestamp(at, tz=timezone.utc))
        key = id(price)
        if key not in self._converted:
            self._converted[key] = _from_library_price(price)
        found = self._converted[key]
        if found is None:
            return None
        if isinstance(found, ModelPricing):
            return found.cost(input_tokens, output, cached, written)
        return found(input_tokens, output, cached, written)
