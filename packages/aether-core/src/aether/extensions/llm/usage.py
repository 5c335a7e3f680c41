"""Token and cost totals, as ``client.usage`` reports them (a snapshot, never live)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["TokenUsage", "UsageSummary"]


class TokenUsage(BaseModel):
    """Totals for one model, under the name the provider answered with."""

    model_config = ConfigDict(extra="forbid")

    requests: int = Field(default=0, description="Calls that billed (failed attempts excluded).")
    input_tokens: int = Field(default=0, description="Prompt tokens, cached included.")
    output_tokens: int = Field(default=0, description="Completion tokens, reasoning included.")
    cached_input_tokens: int = Field(default=0, description="Prompt tokens read from cache.")
    cache_write_tokens: int = Field(default=0, description="Prompt tokens written to cache.")
    reasoning_tokens: int = Field(default=0, description="Output tokens spent reasoning.")
    estimated_requests: int = Field(
        default=0,
        description="Streams that broke (or were abandoned) after output began and before the "
        "provider reported usage; their tokens are estimates.",
    )
    cost_usd: float | None = Field(default=0.0, description="None when the price is unknown.")
    cache_hits: int = Field(
        default=0,
        description="Answers the response cache gave: billed nothing, not in ``requests``.",
    )
    cost_saved_usd: float | None = Field(
        default=0.0,
        description="What those answers cost when they were first asked for; None when the "
        "price is unknown.",
    )


class UsageSummary(BaseModel):
    """Totals across every model a client used."""

    model_config = ConfigDict(extra="forbid")

    total_requests: int = 0
    total_input_tokens: int = 0
    total_output_tokens: int = 0
    total_cached_input_tokens: int = 0
    total_cache_write_tokens: int = 0
    total_reasoning_tokens: int = 0
    total_estimated_requests: int = 0
    total_cost_usd: float = Field(
        default=0.0, description="Cost of the priced models; see ``unpriced_models``."
    )
    unpriced_models: list[str] = Field(
        default_factory=list, description="Models whose cost is unknown (not in total_cost_usd)."
    )
    cache_hits: int = Field(
        default=0, description="Answers the response cache gave (not in total_requests)."
    )
    cost_saved_usd: float = Field(
        default=0.0,
        description="What the cache's answers would have cost, for the priced models.",
    )
    by_model: dict[str, TokenUsage] = Field(default_factory=dict)
