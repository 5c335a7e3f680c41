"""The user-facing LLM API: contracts, the provider protocol, ``ask``, typed answers (``Output``),
helpers for providers.

Every name is imported on first use: a provider plugin importing :mod:`aether.llm.contracts`
does not load the client, the output machinery or the tool loop.
"""

from __future__ import annotations

import typing

from aether._lazy import lazy_exports as _lazy_exports

# Bound eagerly (it is cheap): were it lazy, importing the ``aether.llm.ask`` module would bind
# the module, not the function, to ``aether.llm.ask``.
from aether.llm.ask import ask

if typing.TYPE_CHECKING:
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

_HOMES = {
    "FinishReason": "aether.llm.contracts",
    "LLMProvider": "aether.llm.contracts",
    "LLMRequest": "aether.llm.contracts",
    "LLMResponse": "aether.llm.contracts",
    "LLMStreamChunk": "aether.llm.contracts",
    "Message": "aether.llm.contracts",
    "Output": "aether.llm.output",
    "OutputMode": "aether.llm.output",
    "OutputSpec": "aether.llm.contracts",
    "ProviderCapabilities": "aether.llm.capabilities",
    "Role": "aether.llm.contracts",
    "ToolCall": "aether.llm.contracts",
    "ToolCallDelta": "aether.llm.contracts",
    "ToolChoice": "aether.llm.contracts",
    "ToolSpec": "aether.llm.contracts",
    "Usage": "aether.llm.mapping",
    "capabilities_of": "aether.llm.capabilities",
    "check_supported": "aether.llm.capabilities",
    "check_tool_choice": "aether.llm.mapping",
    "strict_json_schema": "aether.llm.output_schema",
    "token_count": "aether.llm.mapping",
}

__getattr__, __dir__ = _lazy_exports(__name__, _HOMES, globals())
