"""The user-facing LLM API: contracts, the provider protocol, ``ask``, typed answers (``Output``),
helpers for providers."""

from aether.llm.ask import ask
from aether.llm.capabilities import ProviderCapabilities, capabilities_of, check_supported
from aether.llm.contracts import (
    FinishReason,
    LLMProvider,
    LLMRequest,
    LLMResponse,
    LLMStreamChunk,
    Message,
    OutputSpec,
    Role,
    ToolCall,
    ToolCallDelta,
    ToolChoice,
    ToolSpec,
)
from aether.llm.mapping import Usage, check_tool_choice, token_count
from aether.llm.output import Output, OutputMode
from aether.llm.output_schema import strict_json_schema

__all__ = [
    "FinishReason",
    "LLMProvider",
    "LLMRequest",
    "LLMResponse",
    "LLMStreamChunk",
    "Message",
    "Output",
    "OutputMode",
    "OutputSpec",
    "ProviderCapabilities",
    "Role",
    "ToolCall",
    "ToolCallDelta",
    "ToolChoice",
    "ToolSpec",
    "Usage",
    "ask",
    "capabilities_of",
    "check_supported",
    "check_tool_choice",
    "strict_json_schema",
    "token_count",
]
