"""Fixtures of the openai provider's tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from aether.config import forget_warnings


@pytest.fixture
def told(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> Callable[[], list[str]]:
    """What the provider told through the ``aether.openai`` logger during the test.

    The once-per-process memory is emptied first, so a note a previous test caused is told
    again here.
    """
    forget_warnings()
    caplog.set_level("WARNING", logger="aether.openai")

    def messages() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "aether.openai"]

    return messages
