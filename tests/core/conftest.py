"""Ctrl-C as a terminal delivers it, wherever the suite runs.

A process started in the background by a non-interactive shell (``cmd &`` in a script, a CI
runner's job) inherits SIGINT as *ignored*, and Python then leaves it ignored: a real SIGINT
raises nothing in the tests that press Ctrl-C, and the ``aether`` processes the CLI tests start
inherit the same deafness. Installing Python's own handler for the session puts the tests in
the state of an interactive process; their children get the default disposition back, since a
handler, unlike "ignored", does not survive ``exec``.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="session")
def _ctrl_c_as_in_a_terminal() -> Iterator[None]:
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
