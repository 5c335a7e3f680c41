"""Packages import their rooms on first use: a short script pays only for what it touches."""

from __future__ import annotations

import subprocess
import sys

import pytest

import aether
import aether.llm
from aether._lazy import lazy_exports


def _fresh(code: str) -> None:
    """Run ``code`` in a fresh interpreter; its asserts fail the test with their message."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_import_aether_loads_no_room() -> None:
    _fresh(
        "import sys, aether\n"
        "heavy = [m for m in ('aether.client', 'aether.llm', 'aether.tools', 'pydantic', "
        "'httpx', 'asyncio') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )


def test_a_provider_plugin_importing_contracts_loads_no_client_or_tool_loop() -> None:
    _fresh(
        "import sys\n"
        "import aether.llm.contracts, aether.tools.json_schema\n"
        "loaded = [m for m in ('aether.client', 'aether.tools.loop', 'docstring_parser', "
        "'aether.llm._output_plan') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )


def test_the_version_flag_does_not_load_the_client_or_asyncio() -> None:
    _fresh(
        "import sys, contextlib, io\n"
        "from aether.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    assert main(['--version']) == 0\n"
        "assert out.getvalue().startswith('aether-core '), out.getvalue()\n"
        "loaded = [m for m in ('aether.client', 'asyncio', 'pydantic') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )


def test_lazy_names_are_the_objects_of_their_home_modules() -> None:
    from aether.client import Aether
    from aether.llm.ask import ask
    from aether.tools.registry import register_tool

    assert aether.Aether is Aether
    assert aether.register_tool is register_tool
    # The function, not the ``aether.llm.ask`` module that shares its name.
    assert aether.ask is ask and aether.llm.ask is ask and callable(aether.llm.ask)


def test_an_unknown_name_is_an_attribute_error_naming_the_package() -> None:
    with pytest.raises(AttributeError, match=r"module 'aether\.llm' has no attribute 'Nope'"):
        aether.llm.Nope  # noqa: B018


def test_lazy_exports_caches_and_lists_names() -> None:
    namespace: dict[str, object] = {}
    getattr_, dir_ = lazy_exports("pkg", {"dumps": "json"}, namespace)
    import json

    assert getattr_("dumps") is json.dumps
    assert namespace["dumps"] is json.dumps  # later lookups are plain attribute reads
    assert dir_() == ["dumps"]
