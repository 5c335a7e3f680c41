"""The plugin author's test kit: conformance suites a third-party plugin subclasses.

* :class:`ProviderConformance` (with :class:`WireFormat`): an LLM provider over HTTP.
* :class:`ProviderContractConformance`: any other LLM provider (a local model, an SDK).
* :class:`ToolPackConformance`: a distribution of tools.
* :class:`SessionStoreConformance` / :class:`AppendableSessionStoreConformance` /
  :class:`ListableSessionStoreConformance`: a store;
  :class:`SessionGuaranteesConformance` (with :func:`check_concurrent_asks`): the session
  guarantees on that store.
* :class:`CacheBackendConformance`: a response-cache backend.
* :class:`PackagingConformance` and :func:`check_plugin_packaging`: the distribution itself.

Install with ``pip install aether-core[testing]``. Core's pytest plugin
(:mod:`aether.testing.plugin`) loads in every pytest run where aether-core is installed, so
this package must import even without httpx: the HTTP provider suite then explains what to
install.

Both provider suites check what the provider claims (:class:`aether.llm.ProviderCapabilities`
on the provider); a test of something it does not claim ends ``unclaimed``, and the run's
summary names each capability not claimed.
"""

from __future__ import annotations

import typing

from aether.testing.caches import CacheBackendConformance
from aether.testing.contract import ProviderContractConformance
from aether.testing.packaging import PackagingConformance, PackagingReport, check_plugin_packaging
from aether.testing.stores import (
    AppendableSessionStoreConformance,
    ListableSessionStoreConformance,
    SessionGuaranteesConformance,
    SessionStoreConformance,
    check_concurrent_asks,
)
from aether.testing.tools import ToolPackConformance

_NEEDS_HTTP = frozenset(
    {
        "CannedReply",
        "CannedTransport",
        "CannedUsage",
        "ProviderConformance",
        "WireFormat",
        "sse_event",
    }
)

try:
    from aether.testing._transport import CannedReply, CannedTransport
    from aether.testing.providers import CannedUsage, ProviderConformance, WireFormat, sse_event
except ImportError as _missing:  # httpx is optional: aether-core[testing] brings it
    _MISSING_HTTP = _missing

    def __getattr__(name: str) -> typing.Any:
        if name in _NEEDS_HTTP:
            raise ImportError(
                f"aether.testing.{name} needs httpx ({_MISSING_HTTP}); install "
                f"aether-core[testing]."
            ) from _MISSING_HTTP
        raise AttributeError(f"module 'aether.testing' has no attribute {name!r}")


__all__ = [
    "AppendableSessionStoreConformance",
    "CacheBackendConformance",
    "CannedReply",
    "CannedTransport",
    "CannedUsage",
    "ListableSessionStoreConformance",
    "PackagingConformance",
    "PackagingReport",
    "ProviderConformance",
    "ProviderContractConformance",
    "SessionGuaranteesConformance",
    "SessionStoreConformance",
    "ToolPackConformance",
    "WireFormat",
    "check_concurrent_asks",
    "check_plugin_packaging",
    "sse_event",
]
