"""Aether: an async-first framework for LLM applications, made of small typed parts.

    from aether import Aether

    client = Aether()                      # LLM_PROVIDER picks the provider plugin
    answer = await client.ask("What is the meaning of life?")
    invoice = await client.ask("Extract the invoice: ...", output_type=Invoice)  # typed
    print(client.usage.total_cost_usd)

Every name is imported on first use, so ``import aether`` stays cheap.
"""

from __future__ import annotations

import typing  # as a module, so ``Any``/``TYPE_CHECKING`` are not public names of ``aether``

from aether._lazy import lazy_exports as _lazy_exports

if typing.TYPE_CHECKING:
    from aether.client import Aether
    from aether.errors import AetherError
    from aether.events import EventBus
    from aether.extensions.llm.builder import ProviderConfig, build_provider
    from aether.extensions.llm.cache_config import CacheConfig
    from aether.extensions.llm.circuit_breaker import CircuitBreakerConfig
    from aether.extensions.llm.cost_tracking import CostTrackingConfig
    from aether.extensions.llm.pricing import ModelPricing
    from aether.extensions.llm.registry import register_provider
    from aether.extensions.llm.retrying import RetryConfig
    from aether.extensions.llm.usage import TokenUsage, UsageSummary
    from aether.llm.ask import ask
    from aether.llm.contracts import (
        LLMProvider,
        LLMRequest,
        LLMResponse,
        LLMStreamChunk,
        Message,
        ToolCall,
        ToolSpec,
    )
    from aether.llm.output import Output
    from aether.llm.parts import AudioPart, DocumentPart, ImagePart, TextPart, VideoPart
    from aether.llm.settings import CallSettings
    from aether.memory.contracts import SessionStore
    from aether.memory.session import Session
    from aether.registry import register
    from aether.sync import SyncAether
    from aether.tools import Tool, dispatch_tool, get_tool, list_tools, register_tool

__all__ = [
    "Aether",
    "AetherError",
    "AudioPart",
    "CacheConfig",
    "CallSettings",
    "CircuitBreakerConfig",
    "CostTrackingConfig",
    "DocumentPart",
    "EventBus",
    "ImagePart",
    "LLMProvider",
    "LLMRequest",
    "LLMResponse",
    "LLMStreamChunk",
    "Message",
    "ModelPricing",
    "Output",
    "ProviderConfig",
    "RetryConfig",
    "Session",
    "SessionStore",
    "SyncAether",
    "TextPart",
    "TokenUsage",
    "Tool",
    "ToolCall",
    "ToolSpec",
    "UsageSummary",
    "VideoPart",
    "__version__",
    "ask",
    "build_provider",
    "dispatch_tool",
    "get_tool",
    "list_tools",
    "register",
    "register_provider",
    "register_tool",
]

# Every public name is imported on first use: ``import aether`` (and so ``import aether.errors``,
# the ``aether`` command's ``--version``) load none of the rooms it does not need.
_LAZY = {
    "Aether": "aether.client",
    "AetherError": "aether.errors",
    "AudioPart": "aether.llm.parts",
    "CacheConfig": "aether.extensions.llm.cache_config",
    "CallSettings": "aether.llm.settings",
    "CircuitBreakerConfig": "aether.extensions.llm.circuit_breaker",
    "CostTrackingConfig": "aether.extensions.llm.cost_tracking",
    "DocumentPart": "aether.llm.parts",
    "EventBus": "aether.events",
    "ImagePart": "aether.llm.parts",
    "LLMProvider": "aether.llm.contracts",
    "LLMRequest": "aether.llm.contracts",
    "LLMResponse": "aether.llm.contracts",
    "LLMStreamChunk": "aether.llm.contracts",
    "Message": "aether.llm.contracts",
    "ModelPricing": "aether.extensions.llm.pricing",
    "Output": "aether.llm.output",
    "ProviderConfig": "aether.extensions.llm.builder",
    "RetryConfig": "aether.extensions.llm.retrying",
    "Session": "aether.memory.session",
    "SessionStore": "aether.memory.contracts",
    "SyncAether": "aether.sync",
    "TextPart": "aether.llm.parts",
    "TokenUsage": "aether.extensions.llm.usage",
    "Tool": "aether.tools",
    "ToolCall": "aether.llm.contracts",
    "ToolSpec": "aether.llm.contracts",
    "UsageSummary": "aether.extensions.llm.usage",
    "VideoPart": "aether.llm.parts",
    "ask": "aether.llm.ask",
    "build_provider": "aether.extensions.llm.builder",
    "dispatch_tool": "aether.tools",
    "get_tool": "aether.tools",
    "list_tools": "aether.tools",
    "register": "aether.registry",
    "register_provider": "aether.extensions.llm.registry",
    "register_tool": "aether.tools",
}


_exported, __dir__ = _lazy_exports(__name__, _LAZY, globals())


def __getattr__(name: str) -> typing.Any:
    if name == "__version__":
        from importlib.metadata import version

        return version("aether-core")
    return _exported(name)
