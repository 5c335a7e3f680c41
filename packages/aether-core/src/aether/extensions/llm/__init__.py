"""LLM-provider extensions: the fake provider, decorators, the factory and the builder.

The names below are imported on first use, so importing one module of this package (a
provider plugin importing the registry) does not load the others.
"""

from __future__ import annotations

import typing

from aether._lazy import lazy_exports as _lazy_exports

if typing.TYPE_CHECKING:
    from aether.extensions.llm._layer import ProviderWrap, find_layer, wrap_providers
    from aether.extensions.llm.builder import LayerFactory
    from aether.extensions.llm.fallback import (
        FallbackPolicy,
        FallbackProvider,
        FallbackTarget,
        FallOver,
    )

__all__ = [
    "FallOver",
    "FallbackPolicy",
    "FallbackProvider",
    "FallbackTarget",
    "LayerFactory",
    "ProviderWrap",
    "find_layer",
    "wrap_providers",
]

_LAZY = {
    "FallOver": "aether.extensions.llm.fallback",
    "FallbackPolicy": "aether.extensions.llm.fallback",
    "FallbackProvider": "aether.extensions.llm.fallback",
    "FallbackTarget": "aether.extensions.llm.fallback",
    "LayerFactory": "aether.extensions.llm.builder",
    "ProviderWrap": "aether.extensions.llm._layer",
    "find_layer": "aether.extensions.llm._layer",
    "wrap_providers": "aether.extensions.llm._layer",
}

__getattr__, __dir__ = _lazy_exports(__name__, _LAZY, globals())
