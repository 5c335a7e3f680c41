"""What core logs, through the ``aether`` logger hierarchy, and that it stays quiet unconfigured."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import textwrap

import pytest

from aether import Aether
from aether.errors import CircuitOpenError, ServerError
from aether.extensions.llm.circuit_breaker import CircuitBreakerConfig, CircuitBreakerProvider
from aether.extensions.llm.fake import FakeProvider
from aether.extensions.llm.retrying import set_testing
from aether.llm.contracts import LLMResponse

SECRET_PROMPT = "my private question"
KEY = "sk-log-canary-91c2f0e7d3"


async def test_one_debug_line_per_request_with_metadata_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="aether")
    answer = LLMResponse(
        text="a private answer", model="m-1", input_tokens=7, output_tokens=5, finish_reason="stop"
    )
    async with Aether(FakeProvider(answer, api_key=KEY)) as client:
        await client.ask(SECRET_PROMPT)
        async for _ in client.stream_text(SECRET_PROMPT):
            pass
    lines = [r for r in caplog.records if r.name == "aether.requests"]
    assert [r.levelno for r in lines] == [logging.DEBUG, logging.DEBUG]
    whole, streamed = (r.getMessage() for r in lines)
    assert whole.startswith("fake complete (model m-1): ")
    assert "7 input + 5 output tokens, finish stop" in whole
    assert streamed.startswith("A stream (model m-1): ")
    for record in caplog.records:
        text = record.getMessage()
        assert SECRET_PROMPT not in text and "a private answer" not in text
        assert KEY[:12] not in text


async def test_a_failed_request_is_one_debug_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="aether.requests")
    async with Aether(FakeProvider(responses=[ServerError("down", status_code=500)])) as client:
        with pytest.raises(ServerError):
            await client.ask("hi")
    [line] = [r.getMessage() for r in caplog.records if r.name == "aether.requests"]
    assert line.startswith("fake complete (model fake-model) failed after ")
    assert line.endswith("with ServerError.")


async def test_no_debug_line_when_the_level_is_off(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="aether")
    async with Aether(FakeProvider("x")) as client:
        await client.ask("hi")
    assert [r for r in caplog.records if r.name == "aether.requests"] == []


async def test_each_breaker_state_change_is_one_info_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="aether.circuit_breaker")
    breaker = CircuitBreakerConfig(failure_threshold=1, reset_timeout=0.01, success_threshold=1)
    fake = FakeProvider(responses=[ServerError("down", status_code=500), "back"])
    async with Aether(CircuitBreakerProvider(fake, breaker, name="fake")) as client:
        with pytest.raises(ServerError):
            await client.ask("hi")
        with pytest.raises(CircuitOpenError):
            await client.ask("hi")
        await asyncio.sleep(0.02)
        assert await client.ask("hi") == "back"
    lines = [(r.levelno, r.getMessage().split(" ")[1].rstrip(":")) for r in caplog.records]
    assert lines == [
        (logging.INFO, "opened"),
        (logging.INFO, "half-open"),
        (logging.INFO, "closed"),
    ]


def test_an_unconfigured_process_prints_nothing() -> None:
    """Retries, a breaker opening and every request: all below what logging shows unset."""
    code = textwrap.dedent(
        """
        import asyncio
        from aether import Aether
        from aether.errors import CircuitOpenError, ServerError
        from aether.extensions.llm.fake import FakeProvider
        from aether.extensions.llm.retrying import set_testing

        async def main():
            set_testing(True)
            errors = [ServerError("down", status_code=500)] * 20
            async with Aether(FakeProvider(responses=errors), with_retry=True,
                              with_circuit_breaker=True) as client:
                for _ in range(8):
                    try:
                        await client.ask("hi")
                    except (ServerError, CircuitOpenError):
                        pass
        asyncio.run(main())
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AETHER_")}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert (done.stdout, done.stderr) == ("", "")


def test_retry_waits_stay_info(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="aether")
    fake = FakeProvider(responses=[ServerError("down", status_code=500), "ok"])
    with set_testing(True):
        assert asyncio.run(Aether(fake, with_retry=True).ask("hi")) == "ok"
    [line] = [r for r in caplog.records if r.name == "aether.retry"]
    assert line.levelno == logging.INFO
