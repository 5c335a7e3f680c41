"""The lifecycle every provider built on :class:`~aether.http.HTTPProviderClient` shares."""

from __future__ import annotations

from typing import TypeVar

from aether.http._client import HTTPProviderClient

__all__ = ["HTTPProviderBase"]

_Provider = TypeVar("_Provider", bound="HTTPProviderBase")


class HTTPProviderBase:
    """A repr that never shows a secret, ``aclose`` and ``async with``, written once.

    A provider subclasses it and sets ``default_model``, ``base_url`` and ``_http`` in its
    constructor; it still implements ``complete`` and ``stream`` itself::

        class AcmeProvider(HTTPProviderBase):
            def __init__(self, api_key: str) -> None:
                self.default_model, self.base_url = "acme-1", "https://api.acme.test/v1"
                self._http = HTTPProviderClient(provider="acme", base_url=self.base_url, ...)
    """

    default_model: str
    base_url: str
    _http: HTTPProviderClient

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(default_model={self.default_model!r}, "
            f"base_url={self.base_url!r})"
        )

    async def aclose(self) -> None:
        """Close the connection pool this provider created (a borrowed client stays open)."""
        await self._http.aclose()

    async def __aenter__(self: _Provider) -> _Provider:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
