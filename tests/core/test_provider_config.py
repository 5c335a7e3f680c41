"""``ProviderConfig(base_url=..., timeout=...)``: first-class, checked, passed to the provider."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import SecretStr

from aether import Aether
from aether.errors import ConfigurationError
from aether.extensions.llm.builder import ProviderConfig, build_provider, find_layer
from aether_openai import OpenAIProvider
from tests.openai._server import CannedServer


@pytest.fixture(autouse=True)
def _no_openai_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def server() -> AsyncIterator[CannedServer]:
    canned = await CannedServer().start()
    yield canned
    await canned.stop()


async def test_base_url_reaches_the_provider_and_its_server(server: CannedServer) -> None:
    # A timeout that reaches the server is in tests/http/test_wrong_endpoint.py.
    config = ProviderConfig(provider="openai", model="text", base_url=server.base_url, timeout=7)
    async with Aether(config=config) as client:
        assert await client.ask("hi") == "Hello there"
        built = find_layer(client.provider, OpenAIProvider)
        assert built is not None and built.base_url == server.base_url
    assert [r["path"] for r in server.requests] == ["/v1/chat/completions"]


async def test_options_still_carry_them(server: CannedServer) -> None:
    options = {"base_url": server.base_url, "timeout": 7.0}
    async with Aether(config=ProviderConfig(provider="openai", options=options)) as client:
        assert await client.ask("hi", model="text") == "Hello there"
    assert len(server.requests) == 1


@pytest.mark.parametrize("field", ["base_url", "timeout"])
def test_a_setting_given_twice_is_refused(field: str) -> None:
    value: Any = "http://127.0.0.1:9/v1" if field == "base_url" else 5.0
    config = ProviderConfig(provider="openai", options={field: value}, **{field: value})
    with pytest.raises(ConfigurationError, match=f"The {field} is given twice"):
        build_provider(config)


def test_a_provider_that_takes_no_base_url_says_so() -> None:
    config = ProviderConfig(provider="fake", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(ConfigurationError) as info:
        build_provider(config)
    assert "'fake'" in str(info.value) and "does not accept base_url" in str(info.value)
    assert "ProviderConfig's base_url, timeout or options" in str(info.value)


def test_a_bad_base_url_names_the_keyword_and_fails_at_build() -> None:
    config = ProviderConfig(provider="openai", api_key=SecretStr("k"), base_url="localhost:8000")
    with pytest.raises(ConfigurationError, match=r"^base_url='localhost:8000' is not a URL"):
        Aether(config=config)


def test_a_password_in_the_base_url_stays_out_of_the_repr() -> None:
    config = ProviderConfig(base_url="https://me:hunter2@gateway.local/v1")
    assert "hunter2" not in repr(config) and "hunter2" not in str(config)
    assert "https://***@gateway.local/v1" in repr(config)
