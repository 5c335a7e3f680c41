"""Every public package's ``__all__`` is sorted and is exactly its public names.

Packages are the public surface (conventions §1): for each public ``__init__`` of core (found
by walking ``aether``, so a new subpackage is covered without editing this file) and each
plugin distribution's top package, ``__all__`` must equal :func:`public_names`. A package that
exports nothing may leave ``__all__`` out. The few public *modules* users import from directly
(``aether.events``, ``aether.errors``, ``aether.config``) hold implementation too, so for them
every name defined there must be exported. Private modules (``_x.py``) are not checked.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from types import ModuleType
from typing import TypeVar

import pytest

import aether
from tests.support.exports import public_names

PLUGIN_PACKAGES = [
    "aether_gemini",
    "aether_mcp",
    "aether_memory_redis",
    "aether_memory_sqlite",
    "aether_openai",
    "aether_otel",
    "aether_tools_std",
]
# aether_anthropic is being written in parallel; it is checked as soon as it is importable.
if importlib.util.find_spec("aether_anthropic") is not None:
    PLUGIN_PACKAGES.insert(0, "aether_anthropic")
PUBLIC_MODULES = ["aether.config", "aether.errors", "aether.events"]


def _core_packages() -> list[str]:
    found = ["aether"]
    for info in pkgutil.walk_packages(aether.__path__, "aether."):
        if info.ispkg and not any(part.startswith("_") for part in info.name.split(".")):
            found.append(info.name)
    return found


CORE_PACKAGES = _core_packages()


def _exported(module: ModuleType) -> list[str]:
    exported = list(getattr(module, "__all__", []))
    for name in exported:  # also materialises lazily exported names (aether's __getattr__)
        assert getattr(module, name) is not None, f"{module.__name__}.{name} does not resolve"
    return exported


def test_every_public_package_is_checked() -> None:
    expected = {
        "aether",
        "aether.extensions",
        "aether.extensions.llm",
        "aether.extensions.memory",
        "aether.extensions.tools",
        "aether.http",
        "aether.llm",
        "aether.memory",
        "aether.plugins",
        "aether.testing",
        "aether.tools",
    }
    assert expected <= set(CORE_PACKAGES)


@pytest.mark.parametrize("name", CORE_PACKAGES + PLUGIN_PACKAGES)
def test_package_all_is_sorted_and_exactly_the_public_names(name: str) -> None:
    module = importlib.import_module(name)
    exported = _exported(module)
    assert exported == sorted(exported), f"{name}.__all__ is not sorted"
    dunders = {attr for attr in exported if attr.startswith("__")}  # aether.__version__
    assert set(exported) - dunders == public_names(module), (
        f"{name}.__all__ differs from its public names"
    )


def _defined_here(module: ModuleType) -> set[str]:
    """Public names a module defines itself (not what it imports for its own use)."""
    return {
        attr
        for attr, value in vars(module).items()
        if not attr.startswith("_")
        and not isinstance(value, (ModuleType, TypeVar))
        and attr not in {"TYPE_CHECKING", "annotations"}
        and (
            getattr(value, "__module__", None) == module.__name__
            or (attr.isupper() and not callable(value))
        )
    }


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_public_module_exports_what_it_defines(name: str) -> None:
    module = importlib.import_module(name)
    exported = _exported(module)
    assert exported == sorted(exported), f"{name}.__all__ is not sorted"
    missing = _defined_here(module) - set(exported)
    assert not missing, f"{name} defines public names missing from __all__: {sorted(missing)}"


def test_the_check_catches_an_unexported_name() -> None:
    fake = ModuleType("fake_pkg")
    fake.__dict__.update(__all__=["b"], b=1, a=2)
    assert set(fake.__all__) != public_names(fake)


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
