"""The ``instrument_client`` hook: instrumentation plugins see every client, and no plugin of
another kind is imported for it; a plugin that fails is a WARNING, never a broken client."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

import pytest

from aether.errors import PluginLoadError
from tests.plugins.conftest import Site
from tests.support.plugins import IMPORT_FAILS, good_provider_code

INSTRUMENTATIONS = "aether.instrumentations"

WATCHER = """
from aether.plugins import hookimpl

SEEN = []


@hookimpl
def instrument_client(client):
    SEEN.append(client)
"""

RAISES = """
from aether.plugins import hookimpl


@hookimpl
def instrument_client(client):
    raise RuntimeError("instrumenting exploded")
"""


class Client:
    """Stands for an ``Aether`` (the hook only hands it over)."""


def _pkg(dist: str) -> str:
    return dist.replace("-", "_")


def test_every_client_is_handed_to_the_hook(site: Site, unique: Callable[[str], str]) -> None:
    watcher = unique("aether-watch")
    provider = unique("aether-echo")
    site.add(
        watcher,
        {INSTRUMENTATIONS: {"watch": f"{_pkg(watcher)}.hook"}},
        {f"{_pkg(watcher)}.hook": WATCHER},
    )
    site.add(
        provider,
        {"aether.providers": {"echo": f"{_pkg(provider)}.plugin"}},
        {f"{_pkg(provider)}.plugin": good_provider_code("echo")},
    )
    first, second = Client(), Client()
    site.manager.instrument(first)  # type: ignore[arg-type]
    site.manager.instrument(second)  # type: ignore[arg-type]
    seen = sys.modules[f"{_pkg(watcher)}.hook"].SEEN
    assert seen == [first, second]
    assert f"{_pkg(provider)}.plugin" not in sys.modules  # only instrumentations are loaded
    [info] = [i for i in site.manager.infos() if i.distribution == watcher]
    assert info.status == "loaded"


def test_without_instrumentation_plugins_nothing_is_loaded(
    site: Site, unique: Callable[[str], str]
) -> None:
    provider = unique("aether-echo")
    site.add(
        provider,
        {"aether.providers": {"echo": f"{_pkg(provider)}.plugin"}},
        {f"{_pkg(provider)}.plugin": good_provider_code("echo")},
    )
    site.manager.instrument(Client())  # type: ignore[arg-type]
    assert f"{_pkg(provider)}.plugin" not in sys.modules


def test_a_hook_that_raises_is_a_warning(
    site: Site, unique: Callable[[str], str], caplog: pytest.LogCaptureFixture
) -> None:
    dist = unique("aether-bad")
    site.add(
        dist, {INSTRUMENTATIONS: {"bad": f"{_pkg(dist)}.hook"}}, {f"{_pkg(dist)}.hook": RAISES}
    )
    site.manager.instrument(Client())  # type: ignore[arg-type]  # no exception
    [record] = [r for r in caplog.records if r.name == "aether.plugins"]
    assert record.levelno == logging.WARNING
    assert "raised instrumenting a client" in record.getMessage()
    assert "instrumenting exploded" in record.getMessage()


def test_a_hook_that_raises_is_raised_in_strict_mode(
    site: Site, unique: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = unique("aether-bad")
    site.add(
        dist, {INSTRUMENTATIONS: {"bad": f"{_pkg(dist)}.hook"}}, {f"{_pkg(dist)}.hook": RAISES}
    )
    monkeypatch.setenv("AETHER_STRICT", "1")
    with pytest.raises(RuntimeError, match="instrumenting exploded"):
        site.manager.instrument(Client())  # type: ignore[arg-type]


def test_a_plugin_that_fails_to_load_is_one_warning(
    site: Site, unique: Callable[[str], str], caplog: pytest.LogCaptureFixture
) -> None:
    dist = unique("aether-broken")
    site.add(
        dist,
        {INSTRUMENTATIONS: {"broken": f"{_pkg(dist)}.hook"}},
        {f"{_pkg(dist)}.hook": IMPORT_FAILS},
    )
    site.manager.instrument(Client())  # type: ignore[arg-type]
    site.manager.instrument(Client())  # type: ignore[arg-type]
    with pytest.raises(PluginLoadError):  # asked for by name: raised, not logged again
        site.manager.load_name("instrumentation", "broken")
    records = [r for r in caplog.records if r.name == "aether.plugins"]
    assert [r.levelno for r in records] == [logging.WARNING]
    message = records[0].getMessage()
    assert dist in message and "missinglib" in message and "aether plugins" in message


def test_disabled_autoload_leaves_instrumentations_out(
    site: Site, unique: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    watcher = unique("aether-watch")
    site.add(
        watcher,
        {INSTRUMENTATIONS: {"watch": f"{_pkg(watcher)}.hook"}},
        {f"{_pkg(watcher)}.hook": WATCHER},
    )
    monkeypatch.setenv("AETHER_DISABLE_PLUGIN_AUTOLOAD", "1")
    site.manager.instrument(Client())  # type: ignore[arg-type]
    assert f"{_pkg(watcher)}.hook" not in sys.modules
