"""Each package's ``__all__`` is exactly its public names, sorted, and every name resolves."""

from __future__ import annotations

import importlib

import pytest

PACKAGES = [
    "aether",
    "aether.errors",
    "aether.events",
    "aether.llm",
    "aether.plugins",
    "aether.config",
]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_and_resolves(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported), f"{name}.__all__ is not sorted"
    for attr in exported:
        assert getattr(module, attr) is not None, f"{name}.{attr} does not resolve"


@pytest.mark.parametrize("name", PACKAGES)
def test_public_names_are_exported(name: str) -> None:
    module = importlib.import_module(name)
    public = {
        attr
        for attr, value in vars(module).items()
        if not attr.startswith("_")
        and getattr(value, "__module__", name).startswith(name)
        and not isinstance(value, type(importlib))
        and attr not in {"annotations", "TYPE_CHECKING"}
        and (callable(value) or attr.isupper())
        and type(value).__name__ != "TypeVar"
    }
    assert public <= set(module.__all__), f"{name} has public names missing from __all__"


def test_spec_import_paths() -> None:
    from aether import Aether, Message, SessionStore, register, register_provider, register_tool
    from aether.events import REQUEST_COMPLETE, TOOL_ERROR
    from aether.extensions.llm.fake import FakeProvider
    from aether.extensions.memory import InMemorySessionStore
    from aether.llm.contracts import LLMRequest, LLMResponse, ToolCall

    assert all(
        x is not None
        for x in (
            Aether,
            Message,
            SessionStore,
            register,
            register_provider,
            register_tool,
            REQUEST_COMPLETE,
            TOOL_ERROR,
            FakeProvider,
            InMemorySessionStore,
            LLMRequest,
            LLMResponse,
            ToolCall,
        )
    )
