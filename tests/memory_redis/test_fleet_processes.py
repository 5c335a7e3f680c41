"""Eight processes, one redis-server, one loopback provider: the limits hold for the fleet.

Each process runs the real OpenAI provider against an HTTP server on 127.0.0.1 in this test,
which counts what reaches it. For the breaker, the server also reads the breaker's state in
Redis as each request arrives, so every request is known as a closed-circuit call or as the
trial of one half-open period.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import pytest
import redis.asyncio

from aether_memory_redis import RedisCircuitBreaker
from aether_memory_redis.testing import RedisServer
from tests.memory_redis._fleet import until
from tests.memory_redis._fleet_child import MODEL, RPM, SUCCESSES, THRESHOLD
from tests.support.loopback import LoopbackServer, Request, send_json

CHILD = Path(__file__).with_name("_fleet_child.py")
README = Path(__file__).parents[2] / "packages" / "aether-memory-redis" / "README.md"
PROCESSES = 8
SUCCESSFUL_TRIAL = 3  # the first two trials fail, the third finds the provider healthy again

_ANSWER = {
    "id": "chatcmpl-fleet",
    "object": "chat.completion",
    "created": 0,
    "model": MODEL,
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
}
_DOWN = {"error": {"message": "the provider is down", "type": "server_error"}}


async def start_children(
    mode: str, redis_server: RedisServer, prefix: str, root: str
) -> list[asyncio.subprocess.Process]:
    children = [
        await asyncio.create_subprocess_exec(
            *(sys.executable, str(CHILD), mode, redis_server.url, prefix, f"{root}/v1"),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for _ in range(PROCESSES)
    ]
    for child in children:
        assert child.stdout is not None
        assert await asyncio.wait_for(child.stdout.readline(), 60) == b"ready\n"
    return children


async def stop(children: list[asyncio.subprocess.Process]) -> None:
    for child in children:
        if child.returncode is None:
            child.kill()
            await child.wait()


async def test_the_breaker_opens_once_for_all_and_each_half_open_period_sends_one_trial(
    redis_server: RedisServer, prefix: str, raw: redis.asyncio.Redis
) -> None:
    key = RedisCircuitBreaker(redis_server.url, prefix=prefix).key("openai", MODEL)
    seen: list[tuple[str, int, int]] = []  # (state on arrival, half-open period, status)

    async def respond(
        request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        state, period = await raw.hmget(key, "st", "gen")
        kind = state.decode() if isinstance(state, bytes) else "closed"
        trials = sum(k == "h" for k, _, _ in seen) + (kind == "h")
        healthy = trials >= SUCCESSFUL_TRIAL
        seen.append((kind, int(period or 0), 200 if healthy else 503))
        await send_json(writer, 200, _ANSWER) if healthy else await send_json(writer, 503, _DOWN)
        return True

    server = await LoopbackServer(respond).start()
    children = await start_children("breaker", redis_server, prefix, server.root)
    try:
        outputs = await asyncio.wait_for(
            asyncio.gather(*(child.communicate(b"go\n") for child in children)), 90
        )
    finally:
        await stop(children)
        await server.stop()
    assert [child.returncode for child in children] == [0] * PROCESSES
    lines = [line for out, _ in outputs for line in out.decode().splitlines()]

    first_trial = next(n for n, (kind, _, _) in enumerate(seen) if kind == "h")
    before, trials = seen[:first_trial], seen[first_trial : first_trial + SUCCESSFUL_TRIAL]
    after = seen[first_trial + SUCCESSFUL_TRIAL :]
    # Opening: the threshold's failures, plus at most the calls already on their way (one
    # per other process) when the fifth failure opened the circuit for all.
    assert THRESHOLD <= len(before) <= THRESHOLD + PROCESSES - 1, before
    assert all(kind in ("closed", "o") and status == 503 for kind, _, status in before)
    # Then nothing but one trial per half-open period, each period its own.
    assert [kind for kind, _, _ in trials] == ["h"] * SUCCESSFUL_TRIAL
    assert len({period for _, period, _ in trials}) == SUCCESSFUL_TRIAL
    assert [status for _, _, status in trials] == [503, 503, 200]
    # The third trial closed it: every process is served again, and nothing else was sent.
    assert all(kind == "closed" and status == 200 for kind, _, status in after)
    assert len(after) + 1 == PROCESSES * SUCCESSES == lines.count("ok")
    assert lines.count("failed") == len(before) + SUCCESSFUL_TRIAL - 1
    logged = [line.removeprefix("log ").split(" ", 2)[1] for line in lines if line[:4] == "log "]
    assert sorted(logged) == sorted(["opened"] + ["half-open"] * 3 + ["re-opened"] * 2 + ["closed"])


@pytest.mark.slow
async def test_sixty_requests_a_minute_hold_across_eight_processes(
    redis_server: RedisServer, prefix: str
) -> None:
    arrivals: list[float] = []

    async def respond(
        request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        arrivals.append(time.monotonic())
        await send_json(writer, 200, _ANSWER)
        return True

    server = await LoopbackServer(respond).start()
    children = await start_children("limiter", redis_server, prefix, server.root)
    try:
        for child in children:
            assert child.stdin is not None
            child.stdin.write(b"go\n")
            await child.stdin.drain()
        await until(lambda: bool(arrivals), timeout=30)
        start = arrivals[0]
        # Every process keeps asking for the whole minute (so the limit, not the callers,
        # sets the pace); a request that arrives at start + 60 s belongs to the next minute.
        await asyncio.sleep(max(0.0, start + 60.5 - time.monotonic()))
        assert [child.returncode for child in children] == [None] * PROCESSES
    finally:
        await stop(children)
        await server.stop()
    in_minute = sum(start <= t < start + 60 for t in arrivals)
    assert RPM * 0.95 <= in_minute <= RPM * 1.05, in_minute
    for child in children:  # each process had its turns: the limit is shared, not hoarded
        assert child.stdout is not None
        assert (await child.stdout.read()).count(b"sent") >= 1


_RUNNER = """
import ast, asyncio, sys
path = sys.argv[1]
code = compile(open(path).read(), path, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
result = eval(code, {"__name__": "__main__"})
if asyncio.iscoroutine(result):
    asyncio.run(result)
"""


async def test_the_readme_example_runs(
    redis_server: RedisServer, raw: redis.asyncio.Redis, tmp_path: Path
) -> None:
    # The package README's fleet example, as written, in a fresh interpreter (top-level
    # await as in a notebook), against this test's server and the fake provider.
    text = README.read_text(encoding="utf-8")
    section = text.split("## Fleet-wide limits", 1)[1]
    block = section.split("```python\n", 1)[1].split("```", 1)[0]
    (tmp_path / "block.py").write_text(block, encoding="utf-8")
    (tmp_path / "run.py").write_text(_RUNNER, encoding="utf-8")
    env = {**os.environ, "LLM_PROVIDER": "fake", "REDIS_URL": redis_server.url}
    child = await asyncio.create_subprocess_exec(
        *(sys.executable, str(tmp_path / "run.py"), str(tmp_path / "block.py")),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(child.communicate(), 60)
    try:
        assert child.returncode == 0, err.decode()
        assert out.decode() == "You said: Hello\n"
        assert await raw.exists("aether:ratelimit:fake:fake-model") == 1
    finally:
        await raw.delete("aether:ratelimit:fake:fake-model")
