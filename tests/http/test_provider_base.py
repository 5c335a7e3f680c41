"""HTTPProviderBase: the repr, aclose and ``async with`` that providers no longer write."""

from __future__ import annotations

import httpx

from aether.http import HTTPProviderBase, HTTPProviderClient


class Acme(HTTPProviderBase):
    def __init__(self, api_key: str, http_client: httpx.AsyncClient | None = None) -> None:
        self.default_model, self.base_url = "acme-1", "https://api.acme.test/v1"
        self._http = HTTPProviderClient(
            provider="acme",
            base_url=self.base_url,
            headers={"authorization": f"Bearer {api_key}"},
            http_client=http_client,
            secrets=[api_key],
        )


async def test_repr_names_the_model_and_url_never_the_key() -> None:
    assert repr(Acme("sk-very-secret")) == (
        "Acme(default_model='acme-1', base_url='https://api.acme.test/v1')"
    )


async def test_async_with_closes_what_it_created_and_leaves_a_borrowed_client_open() -> None:
    async with Acme("k") as owned:
        created = owned._http._get_client()
        assert isinstance(owned, Acme)
    assert created.is_closed
    borrowed = httpx.AsyncClient()
    async with Acme("k", http_client=borrowed):
        pass
    assert not borrowed.is_closed
    await borrowed.aclose()
