"""resolve_settings: keyword > environment > default, and when a key is required."""

from __future__ import annotations

import pytest

from aether.errors import MissingAPIKeyError
from aether.http import ProviderSettings, resolve_settings

PUBLIC = "https://api.acme.test/v1"
KEY = "sk-acme-secret-31337"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ACME_API_KEY", "ACME_MODEL", "ACME_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def resolve(**given: str | None) -> ProviderSettings:
    keywords: dict[str, str | None] = {"api_key": None, "default_model": None, "base_url": None}
    keywords.update(given)
    return resolve_settings(
        "acme",
        env_prefix="ACME",
        fallback_model="acme-1",
        fallback_base_url=PUBLIC,
        **keywords,
    )


def test_defaults_apply_when_nothing_is_given() -> None:
    settings = resolve(api_key=KEY)
    assert (settings.default_model, settings.base_url) == ("acme-1", PUBLIC)
    assert settings.on_default_host
    assert settings.secrets == (KEY,)


def test_the_environment_beats_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_API_KEY", KEY)
    monkeypatch.setenv("ACME_MODEL", "acme-2")
    monkeypatch.setenv("ACME_BASE_URL", "https://api.acme.test/v2/")
    settings = resolve()
    assert settings.api_key == KEY
    assert settings.default_model == "acme-2"
    assert settings.base_url == "https://api.acme.test/v2"  # trailing slash dropped


def test_a_keyword_beats_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_API_KEY", "sk-from-env")
    monkeypatch.setenv("ACME_MODEL", "acme-2")
    monkeypatch.setenv("ACME_BASE_URL", "http://127.0.0.1:9/v1")
    settings = resolve(api_key=KEY, default_model="acme-3", base_url="http://10.0.0.2/v1")
    assert (settings.api_key, settings.default_model) == (KEY, "acme-3")
    assert settings.base_url == "http://10.0.0.2/v1"


@pytest.mark.parametrize("blank", ["", "   "])
def test_the_public_host_needs_a_key_and_says_where_to_put_it(
    monkeypatch: pytest.MonkeyPatch, blank: str
) -> None:
    monkeypatch.setenv("ACME_API_KEY", blank)  # blank counts as unset
    with pytest.raises(MissingAPIKeyError, match="ACME_API_KEY"):
        resolve()
    with pytest.raises(MissingAPIKeyError):  # another path on the same host is still public
        resolve(base_url="https://api.acme.test/v2")


def test_another_host_needs_no_key() -> None:
    settings = resolve(base_url="http://127.0.0.1:8080/v1")
    assert settings.api_key is None
    assert not settings.on_default_host
    assert settings.secrets == ()


def test_the_key_never_shows_in_the_repr() -> None:
    assert KEY not in repr(resolve(api_key=KEY))
