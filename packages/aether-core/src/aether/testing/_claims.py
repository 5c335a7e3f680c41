"""A kit test of a capability the provider does not claim: neither passed, failed nor skipped.

A provider declares what it serves (:class:`aether.llm.ProviderCapabilities`); a provider
suite's test that needs something undeclared raises :class:`NotClaimed` before checking
anything. The kit's pytest plugin reports such a test as ``unclaimed`` and names, at the end of
the run, every capability each provider does not claim, so a gap is stated, never hidden as a
skip. Imports only the standard library: the pytest plugin loads it in every run.
"""

from __future__ import annotations

__all__ = ["NotClaimed", "UNCLAIMED"]

UNCLAIMED = "unclaimed"
"""The outcome category (and the word in pytest's summary line) of such a test."""


class NotClaimed(Exception):
    """Raised by a kit test whose capability the provider under test does not claim.

    Under pytest the kit's plugin turns it into an ``unclaimed`` outcome; called directly (or
    with the plugin disabled) it fails loudly rather than passing unchecked.

    Args:
        provider: The provider's class name.
        capability: The capability it does not claim.
    """

    def __init__(self, provider: str, capability: str) -> None:
        super().__init__(
            f"{provider} does not claim {capability} (its ProviderCapabilities say "
            f"{capability}=False), so this kit test does not apply; the kit's pytest plugin "
            f"reports it as {UNCLAIMED}."
        )
        self.provider = provider
        self.capability = capability
