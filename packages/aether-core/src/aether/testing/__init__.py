"""The plugin author's test kit: conformance suites a third-party plugin subclasses."""

from __future__ import annotations

from aether.testing.stores import AppendableSessionStoreConformance, SessionStoreConformance

__all__ = ["AppendableSessionStoreConformance", "SessionStoreConformance"]
