"""``RedisSessionStore.list_sessions()``: the index of sessions, shared by every host.

What every listable store does is the kit's (``test_redis_conformance.py``); this is Redis's
own: several stores on one server, more sessions than a page, expiry, an index update lost
after its write, a clock stepping back, a foreign key, and ``aether logs`` reading sessions
two processes wrote.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio

from aether.errors import SessionStoreError
from aether.llm.contracts import Message
from aether.memory import ListableSessionStore
from aether_memory_redis import RedisSessionStore, session_keys
from aether_memory_redis._keys import index_key
from aether_memory_redis.testing import RedisServer
from tests.core._cli import cli_env, run_cli
from tests.memory_redis._cluster_path import ClusterPathStore

TURN = [Message(role="user", content="hi"), Message(role="assistant", content="hello")]


@pytest.fixture(params=["one node", "cluster path"])
def kind(request: pytest.FixtureRequest) -> type[RedisSessionStore]:
    """The store on one server (the index updated by each write's own script), and on the
    path a cluster client takes (a second script just after): every test below but the CLI's
    (whose store is the one ``AETHER_SESSION_STORE`` builds) runs on both."""
    return RedisSessionStore if request.param == "one node" else ClusterPathStore


@pytest.fixture
async def store(
    kind: type[RedisSessionStore], redis_server: RedisServer, prefix: str
) -> AsyncIterator[RedisSessionStore]:
    async with kind(redis_server.url, prefix=prefix) as opened:
        yield opened


async def test_the_store_is_listable_and_stores_on_one_server_see_each_others_sessions(
    kind: type[RedisSessionStore], redis_server: RedisServer, prefix: str
) -> None:
    async with (
        kind(redis_server.url, prefix=prefix) as here,
        kind(redis_server.url, prefix=prefix) as there,
        kind(redis_server.url, prefix=f"{prefix}-other") as elsewhere,
    ):
        assert isinstance(here, ListableSessionStore)
        await here.append_turn("alice", "t1", TURN)
        await there.append_turn("bob", "t1", TURN)
        await here.save("carol", TURN)
        assert await there.list_sessions() == ["carol", "bob", "alice"]
        await there.append_turn("alice", "t2", TURN)
        assert await here.list_sessions() == ["alice", "carol", "bob"]
        assert await elsewhere.list_sessions() == []  # another prefix, another index


async def test_more_sessions_than_a_page_are_all_listed_in_order(
    store: RedisSessionStore, raw: redis.asyncio.Redis, prefix: str
) -> None:
    names = [f"s{i:03d}" for i in range(300)]  # more than one page of the index
    for name in names:
        await store.save(name, TURN)
    await raw.delete(session_keys(prefix, "s150")[0])  # an entry without its session
    newest_first = [name for name in reversed(names) if name != "s150"]
    assert await store.list_sessions() == newest_first
    assert await store.list_sessions(limit=290) == newest_first[:290]


async def test_expired_sessions_are_not_listed_and_leave_the_index(
    kind: type[RedisSessionStore], redis_server: RedisServer, prefix: str, raw: redis.asyncio.Redis
) -> None:
    async with kind(redis_server.url, prefix=prefix, ttl=0.3) as store:
        await store.save("old", TURN)
        await asyncio.sleep(0.5)
        assert await store.list_sessions() == []
        await store.save("new", TURN)
        assert await store.list_sessions() == ["new"]
    # The write of "new" forgot the entry of "old", idle longer than the expiry.
    assert await raw.zrange(index_key(prefix), 0, -1) == [b"new"]


async def test_emptied_and_deleted_sessions_leave_the_index(
    store: RedisSessionStore, raw: redis.asyncio.Redis, prefix: str
) -> None:
    for name in ("kept", "emptied", "deleted"):
        await store.append_turn(name, "t1", TURN)
    await store.save("emptied", [])
    await store.delete("deleted")
    assert await raw.zrange(index_key(prefix), 0, -1) == [b"kept"]


async def test_a_retried_append_restores_an_index_entry_its_first_try_lost(
    store: RedisSessionStore, raw: redis.asyncio.Redis, prefix: str
) -> None:
    assert await store.append_turn("alice", "t1", TURN)
    await raw.delete(index_key(prefix))  # as if the first try died between the two scripts
    assert await store.list_sessions() == []
    assert not await store.append_turn("alice", "t1", TURN)  # the retry stores nothing...
    assert await store.list_sessions() == ["alice"]  # ...but the session is listed again
    assert len(await store.load("alice")) == len(TURN)


async def test_the_index_follows_the_servers_clock_in_order_of_writes(
    store: RedisSessionStore, raw: redis.asyncio.Redis, prefix: str
) -> None:
    await store.save("a", TURN)
    await store.save("b", TURN)
    scored: list[tuple[bytes, float]] = await raw.zrange(index_key(prefix), 0, -1, withscores=True)
    scores = dict(scored)
    seconds, micros = await raw.time()
    now = seconds * 1_000_000 + micros
    assert scores[b"a"] < scores[b"b"] <= now  # microseconds, from the server
    assert now - scores[b"a"] < 60_000_000


async def test_writes_stay_in_order_when_the_servers_clock_steps_back(
    store: RedisSessionStore, raw: redis.asyncio.Redis, prefix: str
) -> None:
    await store.save("early", TURN)
    # As if the clock stepped back an hour after this write: its entry is ahead of "now".
    seconds, micros = await raw.time()
    ahead = seconds * 1_000_000 + micros + 3600 * 1_000_000
    await raw.zadd(index_key(prefix), {"early": ahead})
    await store.save("later", TURN)
    assert await store.list_sessions() == ["later", "early"]
    assert await raw.zscore(index_key(prefix), "later") == ahead + 1


async def test_an_index_key_of_another_type_is_an_error_naming_it(
    store: RedisSessionStore, raw: redis.asyncio.Redis, prefix: str
) -> None:
    await raw.set(index_key(prefix), "someone else's")
    with pytest.raises(SessionStoreError, match="not the aether session index") as caught:
        await store.append_turn("alice", "t1", TURN)
    if isinstance(store, ClusterPathStore):  # the index's own script runs after the write
        assert "the session itself was written" in str(caught.value)
        assert len(await store.load("alice")) == len(TURN)  # whole, as the error says
    else:  # one script checks every key before it writes anything
        assert "written" not in str(caught.value)
        assert await store.load("alice") == []
    assert await raw.get(index_key(prefix)) == b"someone else's"  # not overwritten


def test_aether_logs_lists_what_two_processes_wrote(
    redis_server: RedisServer, prefix: str, tmp_path: Path
) -> None:
    env = cli_env(tmp_path, AETHER_SESSION_STORE=f"{redis_server.url}?prefix={prefix}")
    assert run_cli("ask", "first", "--session", "notes", env=env).returncode == 0
    assert run_cli("ask", "other", "--session", "later", env=env).returncode == 0
    listing = run_cli("logs", env=env)
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert "RedisSessionStore" in lines[0] and lines[0].endswith("most recent first:")
    assert lines[1:] == ["  later     2 messages  other", "  notes     2 messages  first"]
