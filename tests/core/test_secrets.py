"""Secrets passed as free-form options or metadata never show in a repr or str."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from aether import Aether, ProviderConfig
from aether.config import is_secret_name, redacted
from aether.errors import ConfigurationError
from aether.extensions.llm.builder import find_layer
from aether.llm.contracts import LLMRequest, LLMResponse
from aether.registry import Registry, default_registry

SECRET = "sk-live-0123456789-do-not-print"


@pytest.mark.parametrize(
    "name",
    [
        "api_key",
        "API_KEY",
        "apiKey",
        "apikey",
        "X-Api-Key",
        "key",
        "access_token",
        "Authorization",
        "client_secret",
        "password",
        "private_key",
        "aws.secret",
    ],
)
def test_secret_looking_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name", ["max_tokens", "base_url", "timeout", "keyword", "monkey", "organization"]
)
def test_ordinary_names_stay_visible(name: str) -> None:
    assert not is_secret_name(name)


def test_redacted_masks_nested_entries_and_keeps_the_rest() -> None:
    shown = redacted(
        {
            "api_key": SECRET,
            "headers": {"Authorization": f"Bearer {SECRET}", "Accept": "json"},
            "fallbacks": [{"token": SECRET}],
            "max_tokens": 5,
        }
    )
    assert SECRET not in repr(shown)
    assert shown["max_tokens"] == 5 and shown["headers"]["Accept"] == "json"
    assert set(shown) == {"api_key", "headers", "fallbacks", "max_tokens"}


def test_provider_config_repr_hides_keys_in_options() -> None:
    config = ProviderConfig(
        provider="fake",
        api_key=SecretStr(SECRET),
        options={"api_key": SECRET, "headers": {"X-Api-Key": SECRET}, "canned_response": "hi"},
    )
    for shown in (repr(config), str(config), f"{config}"):
        assert SECRET not in shown
        assert "canned_response" in shown and "'hi'" in shown  # the rest stays debuggable
    assert config.options["api_key"] == SECRET  # only the display is masked


async def test_key_in_options_still_reaches_the_provider() -> None:
    class KeyHolder:
        def __init__(self, api_key: str | None = None) -> None:
            self.api_key = api_key

        def __repr__(self) -> str:
            return "KeyHolder()"

        async def complete(self, request: LLMRequest) -> LLMResponse:
            return LLMResponse(text="ok")

    with default_registry.isolated():
        default_registry.add("provider", "keyholder", KeyHolder)
        client = Aether(config=ProviderConfig(provider="keyholder", options={"api_key": SECRET}))
        holder = find_layer(client.provider, KeyHolder)
        assert holder is not None and holder.api_key == SECRET
        assert await client.ask("x") == "ok"
        assert SECRET not in repr(client) and SECRET not in repr(client.config)


def test_registry_entry_repr_hides_secret_metadata() -> None:
    registry = Registry()
    entry = registry.add("vector_store", "pinecone", object, metadata={"api_key": SECRET, "dim": 3})
    assert SECRET not in repr(entry) and "'dim': 3" in repr(entry)
    assert entry.metadata["api_key"] == SECRET


def test_key_given_twice_is_a_clear_error_without_the_key() -> None:
    config = ProviderConfig(provider="fake", api_key=SecretStr(SECRET), options={"api_key": SECRET})
    with pytest.raises(ConfigurationError, match="given twice") as caught:
        Aether(config=config)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize("option", ["model", "name", "registry"])
def test_option_colliding_with_a_field_names_the_field(option: str) -> None:
    with pytest.raises(ConfigurationError, match=f"may not contain '{option}'"):
        Aether(config=ProviderConfig(provider="fake", options={option: "x"}))
