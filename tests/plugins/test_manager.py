"""Discovery, lazy loading, isolation and env controls, on real installed metadata."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable

import pytest

from aether.errors import PluginConflictError, PluginError, PluginLoadError, PluginNotFoundError
from aether.extensions.llm.factory import create_provider
from aether.llm.contracts import LLMRequest, Message
from aether.tools import get_tool
from tests.plugins.conftest import Site
from tests.support.plugins import (
    EXITS_AT_IMPORT,
    HOOK_EXITS,
    HOOK_RAISES,
    IMPORT_FAILS,
    good_provider_code,
    good_tool_code,
)

PROVIDERS = "aether.providers"
TOOLS = "aether.tools"


def _pkg(dist: str) -> str:
    return dist.replace("-", "_")


def add_good(site: Site, dist: str, name: str) -> str:
    module = f"{_pkg(dist)}.plugin"
    site.add(dist, {PROVIDERS: {name: module}}, {module: good_provider_code(name)})
    return module


def test_listing_imports_nothing(site: Site, unique: Callable[[str], str]) -> None:
    dist = unique("aether-echo")
    module = add_good(site, dist, "echo")
    infos = site.manager.infos()
    assert [(i.distribution, i.version, i.status) for i in infos] == [(dist, "1.0.0", "available")]
    assert infos[0].entry_points[0].name == "echo"
    assert site.registry.available("provider") == ["echo"]
    assert module not in sys.modules


async def test_resolving_a_name_imports_only_its_plugin(
    site: Site, unique: Callable[[str], str]
) -> None:
    first = add_good(site, unique("aether-one"), "one")
    second = add_good(site, unique("aether-two"), "two")
    provider = create_provider("one", registry=site.registry)
    assert first in sys.modules
    assert second not in sys.modules
    answer = await provider.complete(LLMRequest(messages=[Message(role="user", content="hi")]))
    assert answer.text == "echo: hi"
    info = next(i for i in site.manager.infos() if i.registered)
    assert info.status == "loaded"
    assert info.registered == {"provider": ["one"]}


def test_import_failure_is_isolated_and_recorded(site: Site, unique: Callable[[str], str]) -> None:
    broken = unique("aether-broken")
    site.add(
        broken,
        {PROVIDERS: {"broken": f"{_pkg(broken)}.plugin"}},
        {f"{_pkg(broken)}.plugin": IMPORT_FAILS},
    )
    add_good(site, unique("aether-fine"), "fine")

    assert create_provider("fine", registry=site.registry) is not None
    with pytest.raises(PluginLoadError) as caught:
        create_provider("broken", registry=site.registry)
    assert caught.value.distribution == broken
    assert "missinglib" in str(caught.value)
    assert isinstance(caught.value.__cause__, ImportError)
    # Asking again gives the same clear error without re-importing.
    with pytest.raises(PluginLoadError):
        site.registry.get("provider", "broken")
    info = next(i for i in site.manager.infos() if i.distribution == broken)
    assert info.status == "failed"
    assert info.traceback is not None and "missinglib" in info.traceback


def test_sys_exit_at_import_is_isolated_and_recorded(
    site: Site, unique: Callable[[str], str]
) -> None:
    quitter = unique("aether-quitter")
    module = f"{_pkg(quitter)}.plugin"
    site.add(quitter, {PROVIDERS: {"quitter": module}}, {module: EXITS_AT_IMPORT})
    add_good(site, unique("aether-fine"), "fine")

    infos = {i.distribution: i for i in site.manager.load_all()}  # returns: the host lives
    assert infos[quitter].status == "failed"
    assert infos[quitter].error == "SystemExit: it called sys.exit(3) while loading"
    assert "sys.exit(3)" in (infos[quitter].traceback or "")
    assert all(i.status == "loaded" for name, i in infos.items() if name != quitter)
    for _ in range(2):  # the same clear error each time it is asked for, no re-import
        with pytest.raises(PluginLoadError) as caught:
            site.registry.get("provider", "quitter")
        assert caught.value.distribution == quitter
        assert "sys.exit(3)" in str(caught.value)
        assert isinstance(caught.value.__cause__, SystemExit)
    assert create_provider("fine", registry=site.registry) is not None


def test_sys_exit_in_a_hook_is_isolated_and_rolled_back(
    site: Site, unique: Callable[[str], str]
) -> None:
    dist = unique("aether-leaver")
    module = f"{_pkg(dist)}.plugin"
    site.add(dist, {PROVIDERS: {"leaver": module}}, {module: HOOK_EXITS})
    with pytest.raises(PluginLoadError, match=r"sys.exit\('bye'\)"):
        site.registry.get("provider", "leaver")
    assert "leaver" not in site.registry.list_kind("provider")


def test_any_base_exception_of_a_plugin_is_isolated(
    site: Site, unique: Callable[[str], str]
) -> None:
    dist = unique("aether-odd")
    module = f"{_pkg(dist)}.plugin"
    code = "class Odd(BaseException):\n    pass\n\nraise Odd('not an Exception')\n"
    site.add(dist, {PROVIDERS: {"odd": module}}, {module: code})
    with pytest.raises(PluginLoadError, match="Odd: not an Exception"):
        site.registry.get("provider", "odd")


@pytest.mark.parametrize(
    ("signal", "raised"),
    [(KeyboardInterrupt, "KeyboardInterrupt"), (asyncio.CancelledError, "asyncio.CancelledError")],
)
def test_interrupts_and_cancellation_still_stop_the_caller(
    site: Site, unique: Callable[[str], str], signal: type[BaseException], raised: str
) -> None:
    dist = unique("aether-interrupted")
    module = f"{_pkg(dist)}.plugin"
    code = f"import asyncio\n\nraise {raised}()\n"
    site.add(dist, {PROVIDERS: {"interrupted": module}}, {module: code})
    with pytest.raises(signal):
        site.registry.get("provider", "interrupted")
    with pytest.raises(signal):
        site.manager.load_all()
    # Not the plugin's failure: nothing is recorded against it.
    assert site.manager.infos()[0].status == "available"


def test_strict_mode_never_lets_a_plugin_exit_the_host(
    site: Site, unique: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = unique("aether-quitter")
    module = f"{_pkg(dist)}.plugin"
    site.add(dist, {PROVIDERS: {"quitter": module}}, {module: EXITS_AT_IMPORT})
    monkeypatch.setenv("AETHER_STRICT", "1")
    for _ in range(2):  # a SystemExit is raised wrapped, the first time and after
        with pytest.raises(PluginLoadError, match=r"sys.exit\(3\)") as caught:
            site.registry.get("provider", "quitter")
        assert isinstance(caught.value.__cause__, SystemExit)
    with pytest.raises(PluginLoadError):
        site.manager.load_all()


def test_hook_failure_registers_nothing(site: Site, unique: Callable[[str], str]) -> None:
    dist = unique("aether-hookfail")
    module = f"{_pkg(dist)}.plugin"
    site.add(dist, {PROVIDERS: {"half": module}}, {module: HOOK_RAISES})
    with pytest.raises(PluginLoadError, match="hook exploded"):
        site.registry.get("provider", "half")
    # What the hook registered before raising was rolled back.
    assert "half" not in site.registry.list_kind("provider")


def test_strict_mode_reraises_the_original(
    site: Site, unique: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = unique("aether-broken")
    module = f"{_pkg(dist)}.plugin"
    site.add(dist, {PROVIDERS: {"broken": module}}, {module: IMPORT_FAILS})
    monkeypatch.setenv("AETHER_STRICT", "1")
    with pytest.raises(ImportError, match="missinglib"):
        site.registry.get("provider", "broken")


def test_two_distributions_claiming_one_name(
    site: Site, unique: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = unique("aether-dup-a"), unique("aether-dup-b")
    add_good(site, a, "dup")
    add_good(site, b, "dup")
    with pytest.raises(PluginConflictError) as caught:
        site.registry.get("provider", "dup")
    message = str(caught.value)
    assert a in message and b in message and "AETHER_PLUGINS_BLOCK" in message
    # Pinning one by blocking the other resolves it.
    monkeypatch.setenv("AETHER_PLUGINS_BLOCK", b)
    assert site.registry.entry("provider", "dup").source == a


def add_tool(site: Site, dist: str, name: str) -> str:
    module = f"{_pkg(dist)}.tools"
    site.add(dist, {TOOLS: {name: module}}, {module: good_tool_code(name)})
    return module


async def test_two_distributions_claiming_one_tool_name(
    site: Site, unique: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = unique("aether-tools-a"), unique("aether-tools-b")
    module_a = add_tool(site, a, "shout")
    module_b = add_tool(site, b, "shout")
    with pytest.raises(PluginConflictError) as caught:
        get_tool("shout", registry=site.registry)
    assert (caught.value.kind, caught.value.name) == ("tool", "shout")
    message = str(caught.value)
    assert a in message and b in message and f"AETHER_PLUGINS_BLOCK={b}" in message
    assert module_a not in sys.modules and module_b not in sys.modules  # neither was imported
    monkeypatch.setenv("AETHER_PLUGINS_BLOCK", a)
    tool = get_tool("shout", registry=site.registry)
    assert site.registry.entry("tool", "shout").source == b
    assert tool.function("hi") == "HI"


def test_strict_mode_reraises_a_hook_failure(
    site: Site, unique: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = unique("aether-hookfail")
    module = f"{_pkg(dist)}.plugin"
    site.add(dist, {PROVIDERS: {"half": module}}, {module: HOOK_RAISES})
    monkeypatch.setenv("AETHER_STRICT", "1")
    # The hook's own exception, not a PluginLoadError wrapping it ...
    with pytest.raises(RuntimeError, match="hook exploded") as caught:
        site.registry.get("provider", "half")
    assert not isinstance(caught.value, PluginError)
    # ... and still nothing it registered before raising is kept.
    assert "half" not in site.registry.list_kind("provider")
    with pytest.raises(RuntimeError, match="hook exploded"):
        site.manager.load_all()


def test_only_the_core_distribution_is_builtin(
    site: Site, unique: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A third party pointing its entry point at an ``aether.*`` module is still a third
    # party: the env controls apply to it. Only the distribution named aether-core is exempt.
    sneaky = unique("aether-sneaky")
    site.add(sneaky, {PROVIDERS: {"sneaky": "aether.sneaky_plugin"}}, {})
    site.add("aether-core", {PROVIDERS: {"corefake": "aether.extensions.llm._plugin"}}, {})
    monkeypatch.setenv("AETHER_PLUGINS_BLOCK", f"{sneaky},aether-core")
    infos = {i.distribution: i for i in site.manager.infos()}
    assert (infos[sneaky].builtin, infos[sneaky].status) == (False, "blocked")
    assert (infos["aether-core"].builtin, infos["aether-core"].status) == (True, "available")
    with pytest.raises(PluginError, match="blocked"):
        site.registry.get("provider", "sneaky")
    monkeypatch.setenv("AETHER_DISABLE_PLUGIN_AUTOLOAD", "1")
    infos = {i.distribution: i for i in site.manager.infos()}
    assert infos[sneaky].status == "disabled"
    assert infos["aether-core"].status == "available"


def test_env_controls(
    site: Site, unique: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = unique("aether-echo")
    add_good(site, dist, "echo")
    monkeypatch.setenv("AETHER_PLUGINS_BLOCK", dist.upper().replace("-", "_"))  # names normalise
    assert site.manager.infos()[0].status == "blocked"
    with pytest.raises(PluginError, match="blocked"):
        site.registry.get("provider", "echo")
    assert site.registry.available("provider") == []

    monkeypatch.delenv("AETHER_PLUGINS_BLOCK")
    monkeypatch.setenv("AETHER_PLUGINS_ALLOW", "aether-something-else")
    assert site.manager.infos()[0].status == "not allowed"

    monkeypatch.delenv("AETHER_PLUGINS_ALLOW")
    monkeypatch.setenv("AETHER_DISABLE_PLUGIN_AUTOLOAD", "1")
    assert site.manager.infos()[0].status == "disabled"

    monkeypatch.delenv("AETHER_DISABLE_PLUGIN_AUTOLOAD")
    assert site.registry.entry("provider", "echo").source == dist


def test_code_registration_wins_over_plugin(site: Site, unique: Callable[[str], str]) -> None:
    module = add_good(site, unique("aether-echo"), "echo")
    sentinel = object()
    site.registry.add("provider", "echo", sentinel)
    assert site.registry.get("provider", "echo") is sentinel
    assert module not in sys.modules


def test_declared_name_not_registered_is_an_error(site: Site, unique: Callable[[str], str]) -> None:
    dist = unique("aether-liar")
    module = f"{_pkg(dist)}.plugin"
    site.add(dist, {PROVIDERS: {"promised": module}}, {module: good_provider_code("other")})
    with pytest.raises(PluginLoadError, match="registered no such name"):
        site.registry.get("provider", "promised")


def test_unknown_name(site: Site) -> None:
    with pytest.raises(PluginNotFoundError, match="No provider named 'nope'"):
        site.registry.get("provider", "nope")


def test_same_distribution_twice_on_path_loads_once(
    site: Site, unique: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    dist = unique("aether-echo")
    add_good(site, dist, "echo")
    mirror = tmp_path_factory.mktemp("lib64")
    link = mirror / "site"
    link.symlink_to(site.path)
    import importlib.metadata

    site.manager._distributions_source = lambda: importlib.metadata.distributions(
        path=[str(site.path), str(link)]
    )
    site.manager.refresh()
    assert [i.distribution for i in site.manager.infos()] == [dist]
    assert site.registry.get("provider", "echo") is not None


def test_generic_kind_and_load_all(site: Site, unique: Callable[[str], str]) -> None:
    dist = unique("aether-vectors")
    module = f"{_pkg(dist)}.plugin"
    code = """
from aether.plugins import hookimpl

class Store:
    dimension = 3

@hookimpl
def register_plugins(register):
    register("vector_store", "tiny", Store, dimension=3)
"""
    site.add(dist, {"aether.vector_stores": {"tiny": module}}, {module: code})
    infos = site.manager.load_all()
    assert infos[0].status == "loaded"
    entry = site.registry.entry("vector_store", "tiny")
    assert entry.metadata["dimension"] == 3
    assert entry.obj.dimension == 3


def test_loaded_plugin_registers_again_after_registry_reset(
    site: Site, unique: Callable[[str], str]
) -> None:
    module = add_good(site, unique("aether-echo"), "echo")
    with site.registry.isolated():
        first = site.registry.get("provider", "echo")
    assert "echo" not in site.registry.list_kind("provider")
    # The module is not imported again; what its hooks registered is registered again.
    del sys.modules[module]
    assert site.registry.get("provider", "echo") is first
    assert module not in sys.modules
