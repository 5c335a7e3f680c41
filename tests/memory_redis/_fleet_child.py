"""One process of the fleet tests: the OpenAI provider against a loopback server, guarded by
the shared breaker or the shared limiter.

``python _fleet_child.py breaker REDIS_URL PREFIX BASE_URL`` prints ``ready``, waits for a
line on stdin (so every process starts together), then calls until it has had
``SUCCESSES`` answers, waiting a little after each refusal. Each breaker log line it emits is
printed as ``log MESSAGE``, and each outcome as ``ok``, ``failed`` or ``refused``.

``python _fleet_child.py limiter REDIS_URL PREFIX BASE_URL`` calls back to back, each call
waiting for its turn under a fleet-wide 60 requests a minute, until it is stopped.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time

from aether.errors import CircuitOpenError, ServerError
from aether.extensions.llm.circuit_breaker import CircuitBreakerConfig
from aether.llm.contracts import LLMProvider, LLMRequest, Message
from aether_memory_redis import RateLimit, RedisCircuitBreaker, RedisRateLimiter
from aether_openai import OpenAIProvider

MODEL = "gpt-4o-mini"
THRESHOLD = 5
RESET_TIMEOUT = 1.0
SUCCESSES = 5
RPM = 60
SAFETY = 120.0  # seconds: a child never outlives a broken test by much

REQUEST = LLMRequest(messages=[Message(role="user", content="hi")], max_tokens=5)


class _Echo(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        print(f"log {record.getMessage()}", flush=True)


async def _breaker(provider: LLMProvider, url: str, prefix: str) -> None:
    config = CircuitBreakerConfig(failure_threshold=THRESHOLD, reset_timeout=RESET_TIMEOUT)
    layer = RedisCircuitBreaker(url, config=config, prefix=prefix)(provider)
    logging.getLogger("aether.circuit_breaker").addHandler(_Echo())
    logging.getLogger("aether.circuit_breaker").setLevel(logging.INFO)
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    successes = 0
    deadline = time.monotonic() + SAFETY
    while successes < SUCCESSES and time.monotonic() < deadline:
        try:
            await layer.complete(REQUEST)
        except CircuitOpenError as exc:
            print("refused", flush=True)
            await asyncio.sleep(min(max(exc.retry_in, 0.01), 0.05))
        except ServerError:
            print("failed", flush=True)
        else:
            successes += 1
            print("ok", flush=True)
    await layer.aclose()


async def _limiter(provider: LLMProvider, url: str, prefix: str) -> None:
    limit = RateLimit(requests_per_minute=RPM, max_wait=SAFETY)
    layer = RedisRateLimiter(url, limit=limit, prefix=prefix)(provider)
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    deadline = time.monotonic() + SAFETY
    while time.monotonic() < deadline:
        await layer.complete(REQUEST)
        print("sent", flush=True)
    await layer.aclose()


async def _main(mode: str, url: str, prefix: str, base_url: str) -> None:
    provider = OpenAIProvider(api_key="sk-fleet-test", base_url=base_url, default_model=MODEL)
    run = _breaker if mode == "breaker" else _limiter
    await run(provider, url, prefix)


if __name__ == "__main__":
    asyncio.run(_main(*sys.argv[1:5]))
