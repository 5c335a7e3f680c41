"""The kit's own event loop, for async kit suites when pytest-asyncio is not loaded.

Its hooks are the kit's pytest plugin's (:mod:`aether.testing.plugin` imports them). The
async tests and function-scoped async fixtures of a kit suite share one loop per test, closed
after the test's teardown. When pytest-asyncio is loaded it stays in charge and these hooks
step aside. asyncio is imported only once a kit test needs a loop: the plugin module loads in
every pytest run of an environment with aether-core.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import pytest

from aether.testing._suite import is_kit_suite

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Coroutine

__all__ = ["pytest_fixture_setup", "pytest_pyfunc_call", "pytest_runtest_teardown"]

_LOOP = pytest.StashKey["_KitLoop"]()


class _KitLoop:
    """One event loop for one test: its async fixtures, the test, then their teardown."""

    def __init__(self) -> None:
        import asyncio  # only once a kit test needs it: this module loads in every pytest run

        self._asyncio = asyncio
        self._loop: asyncio.AbstractEventLoop = asyncio.new_event_loop()

    def run(self, awaitable: Coroutine[Any, Any, Any]) -> Any:
        return self._loop.run_until_complete(awaitable)

    def close(self) -> None:
        loop, asyncio = self._loop, self._asyncio
        try:
            pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
            for task in pending:
                task.cancel()
            if pending:  # gather() of nothing would make a future on another loop
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()


def _kit_runs_async(node: pytest.Item | pytest.Collector) -> bool:
    cls = getattr(node, "cls", None)
    return (
        isinstance(node, pytest.Function)
        and isinstance(cls, type)
        and is_kit_suite(cls)
        and not node.config.pluginmanager.has_plugin("asyncio")
    )


def _loop_for(item: pytest.Item) -> _KitLoop:
    if _LOOP not in item.stash:
        item.stash[_LOOP] = _KitLoop()
    return item.stash[_LOOP]


def _is_async(function: object) -> bool:
    return inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function)


def _bind(function: Any, instance: object) -> Callable[..., Any]:
    """A fixture method bound to this test's instance, the way pytest binds it."""
    owner = getattr(function, "__self__", None)
    if instance is not None and owner is not None and isinstance(instance, type(owner)):
        return function.__func__.__get__(instance)  # type: ignore[no-any-return]
    return function  # type: ignore[no-any-return]


async def _finish(generator: Any, name: str) -> None:
    try:
        await generator.__anext__()
    except StopAsyncIteration:
        return
    await generator.aclose()
    raise RuntimeError(f"the async fixture {name!r} yielded more than once")


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> Generator[None, Any, Any]:
    original = fixturedef.func
    if not (_is_async(original) and _kit_runs_async(request.node)):
        return (yield)
    loop = _loop_for(request.node)
    function = _bind(original, request.instance)

    def run_on_the_kit_loop(**kwargs: Any) -> Any:
        if inspect.isasyncgenfunction(function):
            generator = function(**kwargs)
            value = loop.run(generator.__anext__())
            request.addfinalizer(lambda: loop.run(_finish(generator, fixturedef.argname)))
            return value
        return loop.run(function(**kwargs))

    # pytest calls fixturedef.func; for this one call it is a plain function that drives the
    # async one on the test's loop (pytest-asyncio swaps it the same way).
    fixturedef.func = run_on_the_kit_loop  # type: ignore[misc]
    try:
        return (yield)
    finally:
        fixturedef.func = original  # type: ignore[misc]


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if not (inspect.iscoroutinefunction(pyfuncitem.obj) and _kit_runs_async(pyfuncitem)):
        return None
    names = inspect.signature(pyfuncitem.obj).parameters
    arguments = {name: pyfuncitem.funcargs[name] for name in names if name in pyfuncitem.funcargs}
    _loop_for(pyfuncitem).run(pyfuncitem.obj(**arguments))
    return True


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    try:
        yield  # fixture finalizers first: they may still need the loop
    finally:
        loop = item.stash.get(_LOOP, None)
        if loop is not None:
            del item.stash[_LOOP]
            loop.close()
