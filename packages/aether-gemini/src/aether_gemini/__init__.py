"""Google's Gemini API as an Aether provider, directly on httpx.

Installed, it is selected with ``LLM_PROVIDER=gemini`` (key in ``GEMINI_API_KEY``, model in
``GEMINI_MODEL``), or built directly:

    from aether_gemini import GeminiProvider

    async with GeminiProvider(api_key="...") as gemini:
        answer = await gemini.complete(LLMRequest(messages=[Message(role="user", content="hi")]))

What each model takes (thinking level or budget, tool schema form, sampling) is in
:data:`MODELS`; register a row there for a model it does not know.
"""

from aether_gemini._models import MODELS, GeminiTraits
from aether_gemini._provider import DEFAULT_BASE_URL, DEFAULT_MODEL, GeminiProvider
from aether_gemini._schema import GeminiSchemaWarning, to_gemini_schema

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MODEL",
    "GeminiProvider",
    "GeminiSchemaWarning",
    "GeminiTraits",
    "MODELS",
    "to_gemini_schema",
]
