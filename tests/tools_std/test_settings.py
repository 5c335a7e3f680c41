"""The spec's variables: defaults, environment, and constructor arguments winning over both."""

from __future__ import annotations

from pathlib import Path

import pytest

from aether import config
from aether.errors import ConfigurationError, ToolExecutionError
from aether_tools_std import StdTools, _settings
from tests.tools_std._servers import Canary, Site


def test_defaults() -> None:
    assert _settings.http_timeout(None) == 10.0
    assert _settings.http_max_bytes(None) == 100_000
    assert _settings.file_max_bytes(None) == 200_000
    assert _settings.allow_hosts(None) == frozenset()
    assert _settings.file_root(None) == str(Path.cwd())


def test_environment_then_explicit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AETHER_HTTP_TOOL_TIMEOUT", "2.5")
    monkeypatch.setenv("AETHER_HTTP_TOOL_MAX_BYTES", "123")
    monkeypatch.setenv("AETHER_FILE_TOOL_MAX_BYTES", "456")
    monkeypatch.setenv("AETHER_HTTP_TOOL_ALLOW_HOSTS", " Wiki.Internal. , 10.0.0.5,")
    monkeypatch.setenv("AETHER_FILE_TOOL_ROOT", "/srv/docs")
    assert _settings.http_timeout(None) == 2.5
    assert _settings.http_max_bytes(None) == 123
    assert _settings.file_max_bytes(None) == 456
    assert _settings.allow_hosts(None) == {"wiki.internal", "10.0.0.5"}
    assert _settings.file_root(None) == "/srv/docs"
    assert _settings.http_timeout(1.0) == 1.0
    assert _settings.http_max_bytes(7) == 7
    assert _settings.file_max_bytes(8) == 8
    assert _settings.allow_hosts(frozenset()) == frozenset()
    assert _settings.file_root("/other") == "/other"


@pytest.mark.parametrize(
    ("name", "value", "read", "default"),
    [
        ("AETHER_HTTP_TOOL_TIMEOUT", "soon", _settings.http_timeout, 10.0),
        ("AETHER_HTTP_TOOL_TIMEOUT", "0", _settings.http_timeout, 10.0),
        ("AETHER_HTTP_TOOL_TIMEOUT", "nan", _settings.http_timeout, 10.0),
        ("AETHER_HTTP_TOOL_MAX_BYTES", "lots", _settings.http_max_bytes, 100_000),
        ("AETHER_HTTP_TOOL_MAX_BYTES", "0", _settings.http_max_bytes, 100_000),
        ("AETHER_FILE_TOOL_MAX_BYTES", "-1", _settings.file_max_bytes, 200_000),
    ],
)
def test_invalid_environment_values_are_reported_and_use_the_default(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    name: str,
    value: str,
    read: object,
    default: object,
) -> None:
    monkeypatch.setattr(config, "_reported", set())  # as in a fresh process
    monkeypatch.setenv(name, value)
    assert callable(read)
    assert read(None) == default
    [message] = [r.getMessage() for r in caplog.records if r.name == "aether.config"]
    assert message.startswith(f"Environment variable {name}={value!r} is not")
    assert f"using the default {default!r} instead" in message


def test_invalid_allow_host_entries_are_reported_and_ignored(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(config, "_reported", set())  # as in a fresh process
    monkeypatch.setenv(
        "AETHER_HTTP_TOOL_ALLOW_HOSTS", "http://bad.example/,good.internal,wiki:8080"
    )
    assert _settings.allow_hosts(None) == {"good.internal"}
    assert _settings.allow_hosts(None) == {"good.internal"}
    [message] = [r.getMessage() for r in caplog.records if r.name == "aether.config"]
    assert "('http://bad.example/', 'wiki:8080' are not bare host names:" in message
    assert message.endswith(
        "using the other entries instead. Fix or unset AETHER_HTTP_TOOL_ALLOW_HOSTS."
    )
    monkeypatch.setenv("AETHER_STRICT", "1")
    monkeypatch.setenv("AETHER_HTTP_TOOL_ALLOW_HOSTS", "http://bad.example/,good.internal")
    with pytest.raises(ConfigurationError, match=r"not a bare host name.*refused"):
        _settings.allow_hosts(None)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"http_timeout": 0},
        {"http_timeout": -1.0},
        {"http_max_bytes": 0},
        {"file_max_bytes": -5},
        {"http_max_redirects": -1},
        {"allow_hosts": "wiki.internal"},
        {"allow_hosts": ["wiki.internal:8080"]},
        {"allow_hosts": [""]},
    ],
)
def test_bad_constructor_arguments_are_configuration_errors(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        StdTools(**kwargs)  # type: ignore[arg-type]


async def test_http_env_limits_apply_and_the_constructor_wins(
    monkeypatch: pytest.MonkeyPatch, site: Site
) -> None:
    monkeypatch.setenv("AETHER_HTTP_TOOL_ALLOW_HOSTS", "127.0.0.1")
    monkeypatch.setenv("AETHER_HTTP_TOOL_MAX_BYTES", "5")
    from_env = await StdTools().http_get(site.url("/text"))
    assert from_env.split("\n\n", 1)[1].startswith("hello\n[Truncated: showing the first 5 bytes")
    explicit = await StdTools(http_max_bytes=8).http_get(site.url("/text"))
    assert explicit.split("\n\n", 1)[1].startswith("hello fr\n[Truncated")


async def test_http_env_timeout_applies(monkeypatch: pytest.MonkeyPatch, site: Site) -> None:
    monkeypatch.setenv("AETHER_HTTP_TOOL_ALLOW_HOSTS", "127.0.0.1")
    monkeypatch.setenv("AETHER_HTTP_TOOL_TIMEOUT", "0.3")
    result = await StdTools().http_get(site.url("/drip"))
    assert "when the 0.3s deadline passed" in result
    result = await StdTools(http_timeout=0.2).http_get(site.url("/drip"))
    assert "when the 0.2s deadline passed" in result


async def test_an_empty_allow_list_overrides_the_environment(
    monkeypatch: pytest.MonkeyPatch, canary: Canary
) -> None:
    monkeypatch.setenv("AETHER_HTTP_TOOL_ALLOW_HOSTS", "127.0.0.1")
    with pytest.raises(ToolExecutionError, match=r"^Refused: "):
        await StdTools(allow_hosts=[]).http_get(f"http://127.0.0.1:{canary.port}/")
    assert canary.connections == 0


def test_file_env_settings_apply_and_the_constructor_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env_root = tmp_path / "env_root"
    env_root.mkdir()
    (env_root / "f.txt").write_text("0123456789")
    kw_root = tmp_path / "kw_root"
    kw_root.mkdir()
    (kw_root / "f.txt").write_text("abcdefghij")
    monkeypatch.setenv("AETHER_FILE_TOOL_ROOT", str(env_root))
    monkeypatch.setenv("AETHER_FILE_TOOL_MAX_BYTES", "4")
    assert StdTools().read_file("f.txt").startswith("0123\n[Truncated: showing the first 4 bytes")
    assert StdTools(root=kw_root, file_max_bytes=6).read_file("f.txt").startswith("abcdef\n[")
