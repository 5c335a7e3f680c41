"""Anthropic's Messages API as an Aether provider, directly on httpx.

Installed, it is selected with ``LLM_PROVIDER=anthropic`` (key in ``ANTHROPIC_API_KEY``,
model in ``ANTHROPIC_MODEL``), or built directly:

    from aether_anthropic import AnthropicProvider

    async with AnthropicProvider(api_key="...") as claude:
        answer = await claude.complete(LLMRequest(messages=[Message(role="user", content="hi")]))

:data:`MODELS` says what each Claude family takes (thinking, sampling, structured output);
register a row for a model it does not know.
"""

from aether_anthropic._models import MODELS, ClaudeTraits
from aether_anthropic._provider import (
    API_VERSION,
    DEFAULT_BASE_URL,
    DEFAULT_MAX_TOKENS,
    DEFAULT_MODEL,
    AnthropicProvider,
)

__all__ = [
    "API_VERSION",
    "AnthropicProvider",
    "ClaudeTraits",
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_TOKENS",
    "DEFAULT_MODEL",
    "MODELS",
]
