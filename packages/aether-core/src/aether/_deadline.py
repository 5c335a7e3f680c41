"""The ``timeout`` call setting: one deadline for the whole call, kept by the client.

The provider's own timeouts bound each HTTP request; this one bounds what the caller waits
for, retries and tool rounds included, so it wraps the call's answer (or stream) from the
outside. A call without the setting never reaches this module: the client wraps an answer
only when the setting is there, so the common call pays nothing for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from typing import Any

from aether.errors import ProviderTimeoutError
from aether.extensions.llm._layer import aclosing_stream
from aether.llm.contracts import LLMResponse

__all__ = ["before", "timed_out", "within"]


async def within(
    timeout: float, answer: Awaitable[LLMResponse], provider_name: str | None
) -> LLMResponse:
    """``answer`` if it comes within ``timeout`` seconds; else ProviderTimeoutError."""
    try:
        return await asyncio.wait_for(answer, timeout)
    except asyncio.TimeoutError:
        raise timed_out(timeout, provider_name) from None


async def before(
    timeout: float, items: AsyncIterator[Any], provider_name: str | None
) -> AsyncIterator[Any]:
    """``items`` until ``timeout`` seconds from now; then ProviderTimeoutError.

    Closing this closes ``items``, so callers hold one stream, not two.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with aclosing_stream(items):
        while True:
            try:
                left = max(deadline - loop.time(), 0.0)
                item = await asyncio.wait_for(items.__anext__(), left)
            except StopAsyncIteration:
                return
            except asyncio.TimeoutError:
                raise timed_out(timeout, provider_name) from None
            yield item


def timed_out(timeout: float, provider_name: str | None) -> ProviderTimeoutError:
    """The error of a call that outlived its ``timeout`` setting."""
    return ProviderTimeoutError(
        f"The call did not finish within its {timeout:g}s timeout (the timeout call "
        f"setting covers retries and tool rounds too); raise it, or set none.",
        provider=provider_name,
    )
