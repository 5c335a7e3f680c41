"""A fake clock and sleep for the resilience tests: time moves only when a wait is asked for."""

from __future__ import annotations

import pytest


class FakeClock:
    """A monotonic clock whose ``sleep`` records the wait and advances time instantly."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        self.now += delay

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
