"""Prompt-cache breakpoints: ``cache_control: {"type": "ephemeral"}`` where the call asks.

Anthropic caches the prompt up to each marked block (tools, then system, then messages). A
breakpoint comes from ``TextPart(cache=True)`` (on that part's block), ``cache.system`` (the
last system block), ``cache.tools`` (the last tool) or ``cache.messages`` (the last block of the
last message, so a growing conversation reads its earlier turns from the cache). The API takes at
most four; more is refused before sending. ``cache.key`` (OpenAI) and ``cache.cached_content``
(Gemini) have no Anthropic equivalent: they are not sent, said once per process on the
``aether.anthropic`` logger, so one set of settings can serve several providers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aether.config import warn_once
from aether.errors import ConfigurationError
from aether.llm.settings import PromptCacheSettings
from aether_anthropic._content import CACHE_CONTROL
from aether_anthropic._log import logger
from aether_anthropic._messages import Conversation

__all__ = ["MAX_BREAKPOINTS", "place_breakpoints"]

MAX_BREAKPOINTS = 4
"""The most ``cache_control`` blocks one request may hold."""

_ELSEWHERE = {
    "key": "OpenAI's prompt_cache_key",
    "cached_content": "Gemini's cachedContent",
}
# The API takes no cache_control on these: the breakpoint goes on the block before.
_UNMARKABLE = frozenset({"thinking", "redacted_thinking"})


def _mark(block: dict[str, Any]) -> None:
    block.setdefault("cache_control", dict(CACHE_CONTROL))


def place_breakpoints(
    conversation: Conversation, tools: list[dict[str, Any]], cache: PromptCacheSettings | None
) -> None:
    """Mark the blocks ``cache`` asks for, then check the request's breakpoints fit.

    Raises:
        ConfigurationError: More than :data:`MAX_BREAKPOINTS` blocks are marked.
    """
    cache = cache or {}
    for key, meaning in _ELSEWHERE.items():
        if cache.get(key) is not None:
            warn_once(
                logger,
                f"cache.{key}",
                f"cache={{'{key}': ...}} is {meaning}; Anthropic has none and it is not sent. "
                f"Anthropic caches up to breakpoints: cache={{'system': True, 'tools': True, "
                f"'messages': True}} or TextPart(cache=True).",
            )
    system = conversation.system_blocks
    if cache.get("system") and system:
        _mark(system[-1])
    if cache.get("tools") and tools:
        _mark(tools[-1])
    if cache.get("messages") and conversation.turns:
        markable = [
            block
            for block in conversation.turns[-1]["content"]
            if block.get("type") not in _UNMARKABLE
        ]
        if markable:
            _mark(markable[-1])
    where = [name for name, block in _blocks(system, tools, conversation.turns) if _marked(block)]
    if len(where) > MAX_BREAKPOINTS:
        raise ConfigurationError(
            f"Anthropic takes at most {MAX_BREAKPOINTS} cache breakpoints per request, but "
            f"this one marks {len(where)}: {', '.join(where)}. Drop some TextPart(cache=True) "
            f"marks or cache settings; one after the system prompt, the tools and the last "
            f"message covers most uses."
        )


def _marked(block: Any) -> bool:
    return isinstance(block, dict) and "cache_control" in block


def _blocks(
    system: list[dict[str, Any]], tools: list[dict[str, Any]], turns: list[dict[str, Any]]
) -> Iterator[tuple[str, Any]]:
    """Every block that may carry ``cache_control``, with where it is, for the message."""
    for index, tool in enumerate(tools):
        yield f"tools[{index}]", tool
    for index, block in enumerate(system):
        yield f"system[{index}]", block
    for turn_index, turn in enumerate(turns):
        for index, block in enumerate(turn["content"]):
            yield f"messages[{turn_index}].content[{index}]", block
            inner = block.get("content") if isinstance(block, dict) else None
            if isinstance(inner, list):
                for sub, nested in enumerate(inner):
                    yield f"messages[{turn_index}].content[{index}].content[{sub}]", nested
