"""The user-facing LLM API: contracts, the provider protocol, and helpers for providers."""

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
    "Role",
    "ToolCall",
    "ToolChoice",
    "ToolSpec",
    "Usage",
    "check_tool_choice",
    "token_count",
]
