"""``http_get`` refuses what a hostile URL aims at, before any connection is made.

A canary listener on 127.0.0.1 counts connections: every refused URL must leave it at zero.
The legitimate site is reachable only because those tests allow its host explicitly.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from aether.errors import ToolExecutionError
from aether.events import TOOL_ERROR, EventBus
from aether.events import ToolError as ToolErrorEvent
from aether.llm.contracts import ToolCall
from aether.tools import dispatch_tool
from aether_tools_std import StdTools, _targets
from tests.tools_std._servers import Canary, Site

FakeDNS = Callable[[dict[str, list[str]]], list[str]]


def refused_urls(port: int) -> list[str]:
    return [
        f"http://127.0.0.1:{port}/",
        f"http://127.9.9.9:{port}/",
        f"http://localhost:{port}/",
        f"http://LOCALHOST:{port}/",
        f"http://2130706433:{port}/",
        f"http://0x7f.1:{port}/",
        f"http://0x7f000001:{port}/",
        f"http://017700000001:{port}/",
        f"http://0177.0.0.1:{port}/",
        f"http://127.1:{port}/",
        f"http://0:{port}/",
        f"http://0.0.0.0:{port}/",
        f"http://[::1]:{port}/",
        f"http://[::]:{port}/",
        f"http://[::ffff:127.0.0.1]:{port}/",
        f"http://[::ffff:7f00:1]:{port}/",
        f"http://[64:ff9b::7f00:1]:{port}/",
        f"http://[2002:7f00:1::]:{port}/",
        f"https://127.0.0.1:{port}/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://10.0.0.1/",
        "http://192.168.0.1/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
    ]


async def test_refused_urls_never_connect(canary: Canary) -> None:
    tools = StdTools()
    for url in refused_urls(canary.port):
        with pytest.raises(ToolExecutionError, match=r"^Refused: "):
            await tools.http_get(url)
    assert canary.connections == 0


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("file:///etc/passwd", "scheme 'file'"),
        ("ftp://example.com/x", "scheme 'ftp'"),
        ("gopher://127.0.0.1:70/", "scheme 'gopher'"),
        ("example.com/path", "scheme"),
        ("http://user:secret@example.com/", "user name or password"),
        ("http://example.com@127.0.0.1/", "user name or password"),
        ("http://", "no host"),
        ("http://[::1/", "not a valid URL"),
    ],
)
async def test_malformed_and_non_http_urls_are_refused(url: str, why: str) -> None:
    with pytest.raises(ToolExecutionError, match=r"^Refused: ") as caught:
        await StdTools().http_get(url)
    assert why in str(caught.value)
    assert "secret" not in str(caught.value)


async def test_a_name_with_any_private_answer_is_refused(fake_dns: FakeDNS, canary: Canary) -> None:
    fake_dns({"mixed.test": ["8.8.8.8", "127.0.0.1"], "inner.test": ["10.1.2.3"]})
    with pytest.raises(ToolExecutionError, match=r"'mixed.test' resolves to 127\.0\.0\.1"):
        await StdTools().http_get(f"http://mixed.test:{canary.port}/")
    with pytest.raises(ToolExecutionError, match="private-network"):
        await StdTools().http_get("http://inner.test/")
    assert canary.connections == 0


async def test_an_unresolvable_name_is_a_clear_error(fake_dns: FakeDNS) -> None:
    fake_dns({})
    with pytest.raises(ToolExecutionError, match=r"'nowhere\.test' could not be resolved"):
        await StdTools().http_get("http://nowhere.test/")


async def test_redirects_to_refused_addresses_are_stopped(
    fake_dns: FakeDNS, site: Site, canary: Canary
) -> None:
    fake_dns({"app.test": ["127.0.0.1"], "evil.test": ["127.0.0.1"]})
    tools = StdTools(allow_hosts=["app.test"])
    targets = [
        f"http://127.0.0.1:{canary.port}/",
        f"http://evil.test:{canary.port}/",
        f"http://2130706433:{canary.port}/",
        f"http://[::ffff:127.0.0.1]:{canary.port}/",
        "http://169.254.169.254/latest/meta-data/",
        "file:///etc/passwd",
    ]
    for target in targets:
        url = site.url(f"/redirect?to={target}", host="app.test")
        with pytest.raises(ToolExecutionError, match=r"^Refused: "):
            await tools.http_get(url)
    assert canary.connections == 0
    assert len(site.requests) == len(targets)  # each first hop did reach the allowed site


async def test_redirects_stop_at_the_hop_limit(site: Site) -> None:
    tools = StdTools(allow_hosts=["127.0.0.1"], http_max_redirects=3)
    with pytest.raises(ToolExecutionError, match="redirected more than 3 times"):
        await tools.http_get(site.url("/loop"))
    assert len(site.requests) == 4


async def test_allowed_hosts_never_include_cloud_metadata(fake_dns: FakeDNS) -> None:
    fake_dns({"meta.test": ["169.254.169.254"]})
    tools = StdTools(allow_hosts=["meta.test", "169.254.169.254"])
    for url in ("http://meta.test/", "http://169.254.169.254/"):
        with pytest.raises(ToolExecutionError, match="cloud metadata"):
            await tools.http_get(url)


async def test_connection_is_pinned_to_the_checked_address(
    monkeypatch: pytest.MonkeyPatch, site: Site
) -> None:
    """DNS rebinding: the name is resolved once; no later answer is ever used to connect."""
    real_getaddrinfo = socket.getaddrinfo
    lookups: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "rebind.test":
            lookups.append(host)
            if len(lookups) > 1:  # a second answer would point somewhere else
                raise AssertionError("rebind.test was resolved twice")
            return real_getaddrinfo("127.0.0.1", port, *args, **kwargs)
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    tools = StdTools(allow_hosts=["rebind.test"])
    result = await tools.http_get(site.url("/host", host="rebind.test"))
    assert lookups == ["rebind.test"]
    assert f"rebind.test:{site.port}" in result  # the site saw the original Host header
    assert site.requests[0].headers["host"] == f"rebind.test:{site.port}"


async def test_https_keeps_the_name_for_tls_while_connecting_to_the_address() -> None:
    target = _targets.Target(
        url=httpx.URL("https://example.com/a?b=1"),
        address=ipaddress.ip_address("93.184.216.34"),
        host="example.com",
        is_literal=False,
    )
    async with httpx.AsyncClient(trust_env=False) as client:
        request = target.build_request(client)
    assert str(request.url) == "https://93.184.216.34/a?b=1"
    assert request.headers["host"] == "example.com"
    assert request.extensions["sni_hostname"] == "example.com"
    assert request.headers["accept-encoding"] == "identity"


async def test_proxy_variables_cannot_reroute_requests(
    monkeypatch: pytest.MonkeyPatch, site: Site, canary: Canary
) -> None:
    proxy = f"http://127.0.0.1:{canary.port}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, proxy)
    result = await StdTools(allow_hosts=["127.0.0.1"]).http_get(site.url("/text"))
    assert "hello from the site" in result
    assert canary.connections == 0


async def test_a_refusal_is_a_tool_result_and_fires_tool_error(canary: Canary) -> None:
    tools = StdTools().tools()
    bus = EventBus()
    errors: list[ToolErrorEvent] = []
    bus.on(TOOL_ERROR, errors.append)
    call = ToolCall(id="c1", name="http_get", arguments={"url": f"http://localhost:{canary.port}"})
    result = await dispatch_tool(call, tools, events=bus)
    assert result.content.startswith("Error: Refused: ")
    assert "loopback" in result.content
    assert isinstance(result.error, ToolExecutionError)
    assert [event.call.id for event in errors] == ["c1"]
    assert canary.connections == 0
