"""Aether: an async-first framework for LLM applications, made of small typed parts.

    from aether import Aether

    client = Aether()                      # LLM_PROVIDER picks the provider plugin
    answer = await client.ask("What is the meaning of life?")
    invoice = await client.ask("Extract the invoice: ...", output_type=Invoice)  # typed
    print(client.usage.total_cost_usd)

Names from the tools, sessions and resilience rooms are imported on first use, so
``import aether`` stays cheap.
"""

from __future__ import annotations

import importlib
import typing  # as a module, so ``Any``/``TYPE_CHECKING`` are not public names of ``aether``

from aether.client import Aether
from aether.errors import AetherError
from aether.events import EventBus
from aether.extensions.llm.builder import ProviderConfig, build_provider
from aether.extensions.llm.registry import register_provider
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
from aether.llm.parts import AudioPart, DocumentPart, ImagePart, TextPart
from aether.llm.settings import CallSettings
from aether.registry import register

if typing.TYPE_CHECKING:
    from aether.extensions.llm.circuit_breaker import CircuitBreakerConfig
    from aether.extensions.llm.cost_tracking import CostTrackingConfig
    from aether.extensions.llm.pricing import ModelPricing
    from aether.extensions.llm.retrying import RetryConfig
    from aether.memory.contracts import SessionStore
    from aether.memory.session import Session
    from aether.sync import SyncAether
    from aether.tools import Tool, dispatch_tool, get_tool, list_tools, register_tool

__all__ = [
    "Aether",
    "AetherError",
    "AudioPart",
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

_LAZY = {
    "CircuitBreakerConfig": "aether.extensions.llm.circuit_breaker",
    "CostTrackingConfig": "aether.extensions.llm.cost_tracking",
    "ModelPricing": "aether.extensions.llm.pricing",
    "RetryConfig": "aether.extensions.llm.retrying",
    "Session": "aether.memory.session",
    "SessionStore": "aether.memory.contracts",
    "SyncAether": "aether.sync",
    "Tool": "aether.tools",
    "dispatch_tool": "aether.tools",
    "get_tool": "aether.tools",
    "list_tools": "aether.tools",
    "register_tool": "aether.tools",
}


def __getattr__(name: str) -> typing.Any:
    if name == "__version__":
        from importlib.metadata import version

        return version("aether-core")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'aether' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
