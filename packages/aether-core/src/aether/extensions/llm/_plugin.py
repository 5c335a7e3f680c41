"""Core's built-in providers, registered through the same hook as any plugin's."""

from __future__ import annotations

from aether.plugins.hookspecs import Register, hookimpl

__all__ = ["register_providers"]


@hookimpl
def register_providers(register: Register) -> None:
    from aether.extensions.llm.fake import FakeProvider

    register("fake", FakeProvider)
