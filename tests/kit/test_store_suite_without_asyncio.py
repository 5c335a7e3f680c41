"""The store suites run on the kit's own event loop when pytest-asyncio is not there.

``aether-core[testing]`` does not bring pytest-asyncio (installed, it changes how every async
test of the author's project runs, and warns under ``filterwarnings = error`` until configured),
so the kit's pytest plugin drives the async tests and async fixtures of its suites itself.
"""

from __future__ import annotations

import pytest

from aether.testing import AppendableSessionStoreConformance, SessionStoreConformance
from aether.testing._suite import kit_tests

pytest_plugins = ["pytester"]

AUTHOR = """
import asyncio

import pytest

from aether.extensions.memory import InMemorySessionStore
from aether.testing import AppendableSessionStoreConformance, SessionStoreConformance

EVENTS = []


class TestSyncFixture(SessionStoreConformance):
    @pytest.fixture
    def store(self):
        return InMemorySessionStore()


class TestAsyncFixture(AppendableSessionStoreConformance):
    @pytest.fixture
    async def store(self):
        EVENTS.append(("setup", asyncio.get_running_loop()))
        yield InMemorySessionStore()
        await asyncio.sleep(0)  # the teardown still has its loop
        EVENTS.append(("teardown", asyncio.get_running_loop()))

    async def test_fixture_and_test_share_one_loop(self, store):
        assert EVENTS[-1] == ("setup", asyncio.get_running_loop())


def test_every_fixture_was_torn_down_on_its_own_loop():
    setups = [loop for event, loop in EVENTS if event == "setup"]
    teardowns = [loop for event, loop in EVENTS if event == "teardown"]
    assert setups == teardowns and len(set(map(id, setups))) == len(setups) > 1
    assert all(loop.is_closed() for loop in setups)
"""


def test_the_store_suites_pass_without_pytest_asyncio(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_store_kit=AUTHOR)
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "-p", "no:asyncio", "--strict-markers", "-W", "error"
    )  # fmt: skip
    plain = len(kit_tests(SessionStoreConformance))
    appendable = len(kit_tests(AppendableSessionStoreConformance))
    result.assert_outcomes(passed=plain + appendable + 2)
    assert "asyncio" not in result.stdout.str().split("plugins:")[1].splitlines()[0]


def test_an_async_test_outside_the_kit_is_left_to_pytest(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_plain="""
async def test_not_a_kit_test():
    pass
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:asyncio")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*async def functions are not natively supported*"])
