"""The Redis column of the sessions benchmark: appends per second and load time by history.

    python bench/bench_sessions_redis.py [--samples 51] [--url redis://host:6379/0]

Same measurements and budget as ``bench_sessions.py`` (append at 10, 1,000 and 10,000
messages of history, whole and bounded loads, the whole-history rewrite for contrast; an
append at 10,000 messages must cost within 1.5x of one at 10), against a real ``redis-server``
started on 127.0.0.1 for the run, twice: without persistence, and with ``appendonly yes`` +
``appendfsync always`` (every acknowledged turn survives a crash of the server). With
``--url``, an existing server is measured instead (its keys go under a throwaway prefix that
is deleted afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.memory_redis

from tests.memory_redis._server import RedisServer

from aether_memory_redis import RedisSessionStore
from bench_sessions import _measure, _report


async def _bench(name: str, url: str, samples: int) -> bool:
    prefix = f"bench:{uuid.uuid4().hex}"
    async with RedisSessionStore(url, prefix=prefix) as store:
        results = await _measure(store, samples)
        for size in (10, 1_000, 10_000):
            await store.delete(f"history-{size}")
    return _report(name, results)


async def main(samples: int, url: str | None) -> int:
    if url is not None:
        return 0 if await _bench("RedisSessionStore (given server)", url, samples) else 1
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        for persistent in (False, True):
            server = RedisServer(Path(folder) / str(persistent), persistent=persistent)
            server.start()
            try:
                mode = "appendonly, appendfsync always" if persistent else "no persistence"
                ok &= await _bench(f"RedisSessionStore ({mode})", server.url, samples)
            finally:
                server.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=51, help="appends timed per size")
    parser.add_argument("--url", default=None, help="measure this server instead of starting one")
    arguments = parser.parse_args()
    sys.exit(asyncio.run(main(arguments.samples, arguments.url)))
