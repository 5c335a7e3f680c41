"""OpenAI Chat Completions for Aether, on plain httpx.

Speaks to the public OpenAI API and to every server with the same wire format (Ollama, vLLM,
llama.cpp's server, LM Studio, OpenRouter, Groq, Together, ...): point ``base_url`` (or
``OPENAI_BASE_URL``) at it. :data:`MODELS` says what each OpenAI model takes; register your
own models on it.
"""

from aether_openai._models import MODELS, OpenAIModelTraits
from aether_openai._provider import OpenAIProvider

__all__ = ["MODELS", "OpenAIModelTraits", "OpenAIProvider"]
