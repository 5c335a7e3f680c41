"""Fixtures: a real ``redis-server`` on 127.0.0.1 for this test session, and a fresh prefix."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.memory_redis._server import RedisServer, redis_server_binary


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One server for the whole run; tests keep apart through their own key prefix."""
    try:
        redis_server_binary()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def prefix() -> str:
    """A key prefix no other test uses, so each test starts with an empty store."""
    return f"test:{uuid.uuid4().hex}"
