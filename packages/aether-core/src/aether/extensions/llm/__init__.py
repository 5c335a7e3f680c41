"""LLM-provider extensions: the fake provider, decorators, the factory and the builder.

The names below are imported on first use, so importing one module of this package (a
provider plugin importing the registry) does not load the others.
"""

from __future__ import annotations

import typing

from aether._lazy import lazy_exports as _lazy_exports

if typing.TYPE_CHECKING:
    from aether.extensions.llm.builder import LayerFactory
    from aether.extensions.llm.fallback import (
        FallbackError,
        FallbackPolicy,
        FallbackProvider,
        FallbackTarget,
        FallOver,
    )

__all__ = [
    "FallOver",
    "FallbackError",
    "FallbackPolicy",
    "FallbackProvider",
    "FallbackTarget",
    "LayerFactory",
]

_LAZY = {
    "FallOver": "aether.extensions.llm.fallback",
    "FallbackError": "aether.extensions.llm.fallback",
    "FallbackPolicy": "aether.extensions.llm.fallback",
    "FallbackProvider": "aether.extensions.llm.fallback",
    "FallbackTarget": "aether.extensions.llm.fallback",
    "LayerFactory": "aether.extensions.llm.builder",
}

__getattr__, __dir__ = _lazy_exports(__name__, _LAZY, globals())
