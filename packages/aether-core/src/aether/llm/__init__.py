"""The user-facing LLM API: contracts and the provider protocol."""

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
]
