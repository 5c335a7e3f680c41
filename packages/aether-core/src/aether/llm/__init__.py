"""The user-facing LLM API: contracts, the provider protocol, ``ask``, helpers for providers."""

from aether.llm.ask import ask
from aether.llm.capabilities import ProviderCapabilities, capabilities_of, check_supported
from aether.llm.contracts import (
    FinishReason,
    LLMProvider,
    LLMRequest,
    LLMResponse,
    LLMStreamChunk,
    Message,
    Role,
    ToolCall,
    ToolChoice,
    ToolSpec,
)
from aether.llm.mapping import Usage, check_tool_choice, token_count

__all__ = [
    "FinishReason",
    "LLMProvider",
    "LLMRequest",
    "LLMResponse",
    "LLMStreamChunk",
    "Message",
    "ProviderCapabilities",
    "Role",
    "ToolCall",
    "ToolChoice",
    "ToolSpec",
    "Usage",
    "ask",
    "capabilities_of",
    "check_supported",
    "check_tool_choice",
    "token_count",
]
