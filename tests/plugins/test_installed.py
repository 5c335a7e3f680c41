"""Plugins built as real wheels and installed into a fresh virtual environment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.plugins import (
    EXITS_AT_IMPORT,
    HOOK_RAISES,
    IMPORT_FAILS,
    good_provider_code,
    good_tool_code,
    write_project,
)
from tests.support.venvs import PACKAGES, Venv, build_wheel, make_venv

pytestmark = pytest.mark.slow

PROVIDERS = "aether.providers"
TOOLS = "aether.tools"

PLUGINS = {
    "aether-echo": ("2.3.4", "echo", good_provider_code("echo")),
    "aether-broken": ("0.1.0", "broken", IMPORT_FAILS),
    "aether-hookfail": ("0.1.0", "half", HOOK_RAISES),
    "aether-quitter": ("0.1.0", "quitter", EXITS_AT_IMPORT),
    "aether-dup-a": ("1.0.0", "dup", good_provider_code("dup")),
    "aether-dup-b": ("1.0.0", "dup", good_provider_code("dup")),
}
# Two tool packs claiming one tool name.
TOOL_PLUGINS = {
    "aether-shout-a": ("1.0.0", "shout", good_tool_code("shout")),
    "aether-shout-b": ("1.0.0", "shout", good_tool_code("shout")),
}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    root = tmp_path_factory.mktemp("installed")
    wheels = [build_wheel(PACKAGES / "aether-core", root / "wheels")]
    for group, plugins in ((PROVIDERS, PLUGINS), (TOOLS, TOOL_PLUGINS)):
        for dist, (version, name, code) in plugins.items():
            module = f"{dist.replace('-', '_')}.plugin"
            project = write_project(
                root / "src", dist, version, {group: {name: module}}, {module: code}
            )
            wheels.append(build_wheel(project, root / "wheels"))
    made = make_venv(root / "venv")
    made.pip_install(*wheels)
    return made


def aether(env: Venv, *args: str, **environ: str) -> tuple[int, str, str]:
    done = env.run([env.bin("aether"), *args], env=environ, check=False)
    return done.returncode, done.stdout, done.stderr


def test_plugins_lists_every_distribution_without_importing(env: Venv) -> None:
    code, out, err = aether(env, "plugins", "--json")
    assert code == 0, err
    assert "aether-core" not in err  # a wheel install of this core is recognised as ours
    listed = {item["distribution"]: item for item in json.loads(out)}
    assert set(listed) == {"aether-core", *PLUGINS, *TOOL_PLUGINS}
    assert listed["aether-echo"]["version"] == "2.3.4"
    assert listed["aether-core"]["version"] == "0.1.0"
    # Listing imported nothing, so even the broken plugins are merely "available".
    assert {item["status"] for item in listed.values()} == {"available"}


def test_llm_provider_selects_the_plugin(env: Venv) -> None:
    code, out, err = aether(env, "ask", "hi", LLM_PROVIDER="echo")
    assert (code, out) == (0, "echo: hi\n"), err


def test_broken_import_surfaces_only_when_asked(env: Venv) -> None:
    code, _, err = aether(env, "ask", "hi", LLM_PROVIDER="broken")
    assert code == 1
    assert "aether-broken" in err and "missinglib" in err and "Traceback" not in err
    code, out, _ = aether(env, "ask", "hi", LLM_PROVIDER="echo")
    assert (code, out) == (0, "echo: hi\n")


def test_hook_failure_surfaces_only_when_asked(env: Venv) -> None:
    code, _, err = aether(env, "ask", "hi", LLM_PROVIDER="half")
    assert code == 1 and "aether-hookfail" in err and "hook exploded" in err


def test_conflict_names_both_and_can_be_pinned(env: Venv) -> None:
    code, _, err = aether(env, "ask", "hi", LLM_PROVIDER="dup")
    assert code == 1 and "aether-dup-a" in err and "aether-dup-b" in err
    code, out, err = aether(
        env, "ask", "hi", LLM_PROVIDER="dup", AETHER_PLUGINS_BLOCK="aether-dup-b"
    )
    assert (code, out) == (0, "echo: hi\n"), err


def test_tool_conflict_names_both_and_can_be_pinned(env: Venv) -> None:
    script = (
        "import sys\n"
        "from aether.errors import PluginConflictError\n"
        "from aether.tools import get_tool\n"
        "try:\n"
        "    get_tool('shout')\n"
        "except PluginConflictError as exc:\n"
        "    print(exc)\n"
        "    sys.exit(3)\n"
        "print(get_tool('shout').function('hi'))\n"
    )
    done = env.run([env.python, "-c", script], check=False)
    assert done.returncode == 3, done.stderr
    assert "tool 'shout'" in done.stdout
    assert "aether-shout-a" in done.stdout and "aether-shout-b" in done.stdout
    done = env.run(
        [env.python, "-c", script], env={"AETHER_PLUGINS_BLOCK": "aether-shout-a"}, check=False
    )
    assert (done.returncode, done.stdout) == (0, "HI\n"), done.stderr


def test_load_reports_failures_with_tracebacks(env: Venv) -> None:
    code, out, _ = aether(env, "plugins", "--load", "--json")
    assert code == 1
    listed = {item["distribution"]: item for item in json.loads(out)}
    assert listed["aether-echo"]["status"] == "loaded"
    assert listed["aether-echo"]["registered"] == {"provider": ["echo"]}
    assert listed["aether-broken"]["status"] == "failed"
    assert "missinglib" in listed["aether-broken"]["traceback"]
    assert listed["aether-hookfail"]["status"] == "failed"
    # A plugin calling sys.exit() at import is one more failure, not the command's end.
    assert listed["aether-quitter"]["status"] == "failed"
    assert listed["aether-quitter"]["error"] == "SystemExit: it called sys.exit(3) while loading"
    code, out, _ = aether(env, "plugins", "--load")
    assert code == 1
    assert "aether-quitter 0.1.0: failed" in out
    assert "aether-shout-b 1.0.0: " in out  # listed after the quitter: the command went on


def test_startup_imports_no_unused_plugin(env: Venv) -> None:
    script = (
        "import sys, aether; aether.Aether(); "
        "print(sorted(m for m in sys.modules if m.startswith('aether_')))"
    )
    done = env.run([env.python, "-c", script], env={"LLM_PROVIDER": "echo"})
    assert done.stdout.strip() == "['aether_echo', 'aether_echo.plugin']"
    done = env.run([env.python, "-c", "import sys, aether; print('httpx' in sys.modules)"])
    assert done.stdout.strip() == "False"


def test_pip_install_core_from_path(env: Venv, tmp_path: Path) -> None:
    done = env.run([env.python, "-c", "import aether; print(aether.__version__)"])
    assert done.stdout.strip() == "0.1.0"
