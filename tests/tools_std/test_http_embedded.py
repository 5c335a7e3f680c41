"""``http_get`` end to end: IPv4 hidden in IPv6 or in odd spellings is refused before any
request leaves, and a connection that reached an unchecked address is never used.

``transport_calls`` wraps httpx's transport, the layer that opens connections: a refused URL
must leave it untouched. Every name is answered by a fake resolver, so nothing reaches DNS.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from aether.errors import ToolExecutionError
from aether.llm.contracts import ToolCall
from aether.tools import dispatch_tool
from aether_tools_std import StdTools, _targets
from tests.tools_std._servers import Canary, Site

FakeDNS = Callable[[dict[str, list[str]]], list[str]]


@pytest.fixture
def transport_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The URLs httpx's transport was asked to send, recorded before it connects."""
    calls: list[str] = []
    send = httpx.AsyncHTTPTransport.handle_async_request

    async def recording(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> Any:
        calls.append(str(request.url))
        return await send(self, request)

    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", recording)
    return calls


@pytest.mark.parametrize(
    ("host", "carried", "form"),
    [
        ("[::ffff:127.0.0.1]", "127.0.0.1", "an IPv4-mapped"),
        ("[::ffff:0:7f00:1]", "127.0.0.1", "an IPv4-translated"),
        ("[::ffff:0:127.0.0.1]", "127.0.0.1", "an IPv4-translated"),
        ("[::127.0.0.1]", "127.0.0.1", "an IPv4-compatible"),
        ("[64:ff9b::7f00:1]", "127.0.0.1", "a NAT64"),
        ("[64:ff9b::169.254.169.254]", "169.254.169.254", "a NAT64"),
        ("[64:ff9b:1::a00:1]", "10.0.0.1", "a local-use NAT64"),
        ("[2002:7f00:1::]", "127.0.0.1", "a 6to4"),
        ("[2002:c0a8:101::1]", "192.168.1.1", "a 6to4"),
        ("[2001:0:4136:e378:8000:63bf:80ff:fffe]", "127.0.0.1", "a Teredo"),
        ("[2a00:1450:4001:81c:0:5efe:a00:1]", "10.0.0.1", "an ISATAP"),
    ],
)
async def test_ipv6_literals_carrying_private_ipv4_are_refused_unsent(
    host: str, carried: str, form: str, canary: Canary, transport_calls: list[str]
) -> None:
    url = f"http://{host}:{canary.port}/"
    with pytest.raises(ToolExecutionError) as caught:
        await StdTools().http_get(url)
    message = str(caught.value)
    assert message.startswith(f"Refused: {url} points to ")
    assert f"carried as {carried} inside {form} IPv6 address" in message
    assert "fetches only public internet addresses" in message
    assert transport_calls == []
    assert canary.connections == 0


@pytest.mark.parametrize(
    "host", ["[::1:0:0:1]", "[100::1]", "[2001:db8::1]", "[fec0::1]", "[ff02::1]", "[4000::1]"]
)
async def test_reserved_ipv6_literals_are_refused_unsent(
    host: str, transport_calls: list[str]
) -> None:
    with pytest.raises(ToolExecutionError, match=r"^Refused: .* points to a"):
        await StdTools().http_get(f"http://{host}/")
    assert transport_calls == []


async def test_every_resolved_address_is_judged_by_what_it_carries(
    fake_dns: FakeDNS, transport_calls: list[str]
) -> None:
    fake_dns(
        {
            "mixed.test": ["2001:4860:4860::8888", "64:ff9b::a00:1"],
            "translated.test": ["::ffff:0:a9fe:a9fe"],
        }
    )
    with pytest.raises(ToolExecutionError) as caught:
        await StdTools().http_get("http://mixed.test/")
    assert "'mixed.test' resolves to 64:ff9b::a00:1" in str(caught.value)
    assert "carried as 10.0.0.1 inside a NAT64" in str(caught.value)
    # Metadata stays refused even for an allowed name, whatever form carries it.
    with pytest.raises(ToolExecutionError, match="cloud metadata service address carried as"):
        await StdTools(allow_hosts=["translated.test"]).http_get("http://translated.test/")
    assert transport_calls == []


async def test_redirects_to_embedded_forms_are_refused(
    fake_dns: FakeDNS, site: Site, canary: Canary, transport_calls: list[str]
) -> None:
    fake_dns({"app.test": ["127.0.0.1"], "six.test": ["::ffff:0:7f00:1"]})
    tools = StdTools(allow_hosts=["app.test"])
    targets = [
        f"http://[::ffff:0:7f00:1]:{canary.port}/",
        f"http://[64:ff9b::7f00:1]:{canary.port}/",
        f"http://[2002:7f00:1::1]:{canary.port}/",
        f"http://six.test:{canary.port}/",
    ]
    for target in targets:
        with pytest.raises(ToolExecutionError, match=r"^Refused: .*carried as 127\.0\.0\.1"):
            await tools.http_get(site.url(f"/redirect?to={target}", host="app.test"))
    # Only each first hop, to the allowed site, was ever sent.
    assert len(transport_calls) == len(targets)
    assert all(call.startswith("http://127.0.0.1:") for call in transport_calls)
    assert canary.connections == 0


@pytest.mark.parametrize(
    ("host", "shown"),
    [
        ("2130706433", "a loopback address (127.0.0.1)"),
        ("0x7f000001", "a loopback address (127.0.0.1)"),
        ("0x7f.1", "a loopback address (127.0.0.1)"),
        ("127.1", "a loopback address (127.0.0.1)"),
        ("017700000001", "a loopback address (127.0.0.1)"),
        ("0", "an unspecified ('this network') address (0.0.0.0)"),
        ("167772161", "a private-network address (10.0.0.1)"),
        ("0xa9fea9fe", "a cloud metadata service address (169.254.169.254)"),
        ("192.168.257", "a private-network address (192.168.1.1)"),
        # httpx itself rejects dotted quads with leading zeros: refused as invalid.
        ("0177.0.0.1", "is not a valid URL"),
        ("127.000.000.001", "is not a valid URL"),
    ],
)
async def test_odd_ipv4_spellings_are_decoded_and_refused_unsent(
    host: str, shown: str, fake_dns: FakeDNS, transport_calls: list[str]
) -> None:
    looked_up = fake_dns({})
    with pytest.raises(ToolExecutionError, match=r"^Refused: ") as caught:
        await StdTools().http_get(f"http://{host}/")
    assert shown in str(caught.value)
    assert looked_up == []  # decoded as a number, never handed to a resolver
    assert transport_calls == []


async def test_a_connection_to_an_unchecked_address_is_discarded(
    fake_dns: FakeDNS, monkeypatch: pytest.MonkeyPatch, site: Site
) -> None:
    """Were the pin ever lost, the peer check still keeps the response from the model."""
    fake_dns({"public.test": ["93.184.216.34"]})

    def unpinned(self: _targets.Target, client: httpx.AsyncClient) -> httpx.Request:
        return client.build_request("GET", site.url("/text"))  # not the checked address

    monkeypatch.setattr(_targets.Target, "build_request", unpinned)
    call = ToolCall(id="p1", name="http_get", arguments={"url": "http://public.test/"})
    result = await dispatch_tool(call, StdTools().tools())
    assert result.content == (
        "Error: Refused: http://public.test/ was checked at 93.184.216.34 but the connection "
        "went to 127.0.0.1; the response was discarded."
    )
    assert len(site.requests) == 1  # the stray connection happened; its answer was not used


async def test_an_allowed_ipv4_mapped_literal_is_fetched(site: Site) -> None:
    """The peer check knows ``::ffff:127.0.0.1`` and 127.0.0.1 are one peer."""
    tools = StdTools(allow_hosts=["::ffff:127.0.0.1"])
    result = await tools.http_get(site.url("/text", host="[::ffff:127.0.0.1]"))
    assert result.endswith("hello from the site")


def test_a_response_whose_peer_is_unknown_is_refused() -> None:
    target = _targets.Target(
        url=httpx.URL("http://example.com/"),
        address=ipaddress.ip_address("93.184.216.34"),
        host="example.com",
        is_literal=False,
    )
    with pytest.raises(ToolExecutionError, match="connection went to an unknown address"):
        target.check_peer(httpx.Response(200))
