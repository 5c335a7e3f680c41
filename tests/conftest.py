"""Run the suite over another HTTP transport: ``--http-transport=aiohttp`` (or the env variable).

    AETHER_HTTP_TRANSPORT=aiohttp pytest tests/openai tests/gemini tests/http
    pytest --http-transport=aiohttp tests/openai tests/gemini tests/http

Providers that create their own client follow ``AETHER_HTTP_TRANSPORT`` by themselves. Tests
that build an ``httpx.AsyncClient`` without a transport (the end-to-end tests against servers
on 127.0.0.1) get the aiohttp transport too, through the same hook httpx-aiohttp's own client
class overrides. Clients given an explicit transport (``httpx.MockTransport`` replays) keep it.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest

_ENV = "AETHER_HTTP_TRANSPORT"
_saved: dict[str, Any] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--http-transport",
        choices=("httpx", "aiohttp"),
        default=None,
        help=f"HTTP transport for every client the tests create (default: ${_ENV} or httpx).",
    )


def _chosen(config: pytest.Config) -> str:
    option: str | None = config.getoption("--http-transport")
    return (option or os.environ.get(_ENV) or "httpx").strip().lower()


def pytest_configure(config: pytest.Config) -> None:
    option: str | None = config.getoption("--http-transport")
    if option is not None:
        _saved["env"] = os.environ.get(_ENV)
        os.environ[_ENV] = option
    if _chosen(config) == "aiohttp":
        from httpx_aiohttp import HttpxAiohttpClient

        _saved["init_transport"] = httpx.AsyncClient._init_transport
        httpx.AsyncClient._init_transport = HttpxAiohttpClient._init_transport  # type: ignore[method-assign,assignment]


def pytest_unconfigure(config: pytest.Config) -> None:
    if "init_transport" in _saved:
        httpx.AsyncClient._init_transport = _saved.pop("init_transport")  # type: ignore[method-assign]
    if "env" in _saved:
        previous = _saved.pop("env")
        if previous is None:
            os.environ.pop(_ENV, None)
        else:
            os.environ[_ENV] = previous


def pytest_report_header(config: pytest.Config) -> str:
    return f"http transport: {_chosen(config)}"
