"""Give a ``complete``-only provider a ``stream`` that yields its whole answer as one chunk.

The spec lets a provider implement only ``complete`` (``@register_provider`` examples do);
streaming, the tool loop and every decorator still work with it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aether.llm.contracts import LLMProvider, LLMRequest, LLMResponse, LLMStreamChunk

__all__ = ["StreamFromComplete", "ensure_stream"]


class StreamFromComplete:
    """Wraps a provider lacking ``stream``; everything else is delegated to it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __repr__(self) -> str:
        return f"StreamFromComplete({self.inner!r})"

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def complete(self, request: LLMRequest) -> LLMResponse:
        response: LLMResponse = await self.inner.complete(request)
        return response

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        response = await self.complete(request)
        yield LLMStreamChunk(
            text=response.text,
            refusal=response.refusal,
            model=response.model,
            response_id=response.response_id,
            reasoning_text=response.reasoning_text,
            tool_calls=response.tool_calls,
            finish_reason=response.finish_reason
            or ("tool_calls" if response.tool_calls else "stop"),
            input_tokens=response.input_tokens,
            output_tokens=response.output_tokens,
            cached_input_tokens=response.cached_input_tokens,
            cache_write_tokens=response.cache_write_tokens,
            reasoning_tokens=response.reasoning_tokens,
        )


def ensure_stream(provider: Any) -> LLMProvider:
    """``provider`` itself if it can stream, else wrapped in :class:`StreamFromComplete`.

    Raises:
        TypeError: when the object has no async ``complete`` at all.
    """
    if not callable(getattr(provider, "complete", None)):
        raise TypeError(
            f"{provider!r} is not an LLM provider: it needs an async complete(request) method "
            f"(and optionally stream(request))."
        )
    if callable(getattr(provider, "stream", None)):
        return provider  # type: ignore[no-any-return]
    return StreamFromComplete(provider)
