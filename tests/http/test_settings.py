"""resolve_settings: keyword > environment > default, when a key is needed, what is refused."""

from __future__ import annotations

import math
import re
from typing import Any

import httpx
import pytest

from aether.errors import ConfigurationError, MissingAPIKeyError
from aether.http import ProviderSettings, resolve_settings
from aether.http._settings import check_timeout, shown_url

PUBLIC = "https://api.acme.test/v1"
KEY = "sk-acme-secret-31337"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ACME_API_KEY", "ACME_MODEL", "ACME_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def resolve(**given: str | None) -> ProviderSettings:
    keywords: dict[str, Any] = {"api_key": None, "default_model": None, "base_url": None}
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


# --- settings that cannot work: refused when the provider is built -------------------------


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("localhost:8000/v1", "lacks the scheme. Write it in full, 'http://localhost:8000/v1'"),
        ("http:/localhost/v1", "its scheme lacks the '//'"),
        ("ftp://files.acme.test/v1", "uses the 'ftp' scheme; a provider speaks HTTP"),
        ("http://", "names no host"),
        ("http://localhost:80800/v1", "port that is not a number from 0 to 65535"),
        ("http://local host/v1", "contains whitespace"),
    ],
)
def test_a_base_url_that_cannot_work_is_named_with_where_it_came_from(
    monkeypatch: pytest.MonkeyPatch, url: str, says: str
) -> None:
    with pytest.raises(ConfigurationError, match=f"^base_url={re.escape(repr(url))} ") as info:
        resolve(base_url=url)
    assert says in str(info.value)
    monkeypatch.setenv("ACME_BASE_URL", url)
    with pytest.raises(ConfigurationError, match=f"^ACME_BASE_URL={re.escape(repr(url))} "):
        resolve(api_key=KEY)


def test_a_base_url_is_checked_before_the_key_is_asked_for() -> None:
    # Without a key a bad URL on the public host would first report the missing key; the
    # URL is the mistake to fix first.
    with pytest.raises(ConfigurationError, match="lacks the scheme"):
        resolve(base_url="api.acme.test/v1")


def test_credentials_in_a_base_url_never_reach_the_message() -> None:
    with pytest.raises(ConfigurationError) as info:
        resolve(base_url="ftp://me:hunter2@files.acme.test/v1")
    assert "hunter2" not in str(info.value) and "ftp://***@files.acme.test/v1" in str(info.value)
    assert shown_url("https://api.acme.test/v1") == "https://api.acme.test/v1"


@pytest.mark.parametrize("timeout", ["30", 0, -1, math.inf, math.nan, False, [30]])
def test_a_timeout_that_cannot_work_is_refused(timeout: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"^timeout=.* is not a timeout") as info:
        resolve_settings(
            "acme",
            env_prefix="ACME",
            api_key=KEY,
            default_model=None,
            base_url=None,
            fallback_model="acme-1",
            fallback_base_url=PUBLIC,
            timeout=timeout,
        )
    assert repr(timeout) in str(info.value)


@pytest.mark.parametrize(
    "timeout", [None, 30, 0.5, httpx.Timeout(None), httpx.Timeout(10.0, connect=2.0)]
)
def test_a_timeout_that_works_is_kept_as_given(timeout: Any) -> None:
    settings = resolve_settings(
        "acme",
        env_prefix="ACME",
        api_key=KEY,
        default_model=None,
        base_url=None,
        fallback_model="acme-1",
        fallback_base_url=PUBLIC,
        timeout=timeout,
    )
    assert settings.timeout is timeout


def test_an_httpx_timeout_with_a_limit_below_zero_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="is not a timeout"):
        check_timeout(httpx.Timeout(10.0, connect=-1.0))
