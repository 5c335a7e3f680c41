"""``http_get`` against a real local server (its host explicitly allowed): what the model reads."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from aether.errors import ToolExecutionError
from aether_tools_std import StdTools
from tests.tools_std._servers import Canary, Site

FakeDNS = Callable[[dict[str, list[str]]], list[str]]


@pytest.fixture
def tools() -> StdTools:
    return StdTools(allow_hosts=["127.0.0.1"], http_max_bytes=1000)


async def test_text_is_returned_with_status_and_type(tools: StdTools, site: Site) -> None:
    result = await tools.http_get(site.url("/text"))
    assert result.splitlines() == [
        f"URL: {site.url('/text')}",
        "Status: 200 OK",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "hello from the site",
    ]


async def test_a_huge_body_is_cut_at_the_cap(tools: StdTools, site: Site) -> None:
    result = await tools.http_get(site.url("/huge"))
    body = result.split("\n\n", 1)[1]
    assert body.startswith("a" * 1000 + "\n[Truncated: showing the first 1,000 bytes of 5,000,000")
    assert "a" * 1001 not in result


async def test_a_slow_drip_is_cut_off_at_the_deadline(site: Site) -> None:
    tools = StdTools(allow_hosts=["127.0.0.1"], http_timeout=0.5)
    result = await tools.http_get(site.url("/drip"))
    assert result.endswith(
        "\n\nx\n[Cut off: the server was still sending when the 0.5s deadline passed; "
        "showing the 1 byte received.]"
    )


async def test_a_server_that_never_answers_is_an_error_at_the_deadline() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # reads the request, never answers, until the client leaves
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(ToolExecutionError, match=r"did not answer within the 0\.3s deadline"):
            await StdTools(allow_hosts=["127.0.0.1"], http_timeout=0.3).http_get(
                f"http://127.0.0.1:{port}/"
            )
    finally:
        server.close()
        await server.wait_closed()


async def test_binary_content_is_described_not_dumped(tools: StdTools, site: Site) -> None:
    labelled = await tools.http_get(site.url("/png"))
    assert labelled.endswith("\n\n[Binary content (image/png, 1,032 bytes) not shown.]")
    unlabelled = await tools.http_get(site.url("/unlabelled-binary"))
    assert unlabelled.endswith("\n\n[Binary content (unlabelled, 100 bytes) not shown.]")
    assert "PNG" not in labelled and "binary" not in unlabelled.split("\n\n", 1)[1]


async def test_declared_charsets_and_bad_bytes(tools: StdTools, site: Site) -> None:
    assert (await tools.http_get(site.url("/latin1"))).endswith("\n\ncafé")
    bad = await tools.http_get(site.url("/bad-utf8"))
    assert "ok \ufffd\ufffd done" in bad
    assert "[Note: some bytes were not valid utf-8" in bad


async def test_a_compressed_body_is_inflated_only_up_to_the_cap(
    tools: StdTools, site: Site
) -> None:
    result = await tools.http_get(site.url("/gzip-bomb"))
    body = result.split("\n\n", 1)[1]
    assert (
        body == " " * 1000 + "\n[Truncated: showing the first 1,000 bytes; the rest was not read.]"
    )


async def test_redirects_within_allowed_hosts_are_followed_and_reported(
    tools: StdTools, site: Site
) -> None:
    result = await tools.http_get(site.url("/redirect?to=/text"))
    assert result.splitlines()[:2] == [
        f"URL: {site.url('/text')}",
        f"Redirected from: {site.url('/redirect?to=/text')}",
    ]
    assert result.endswith("hello from the site")
    assert [r.path for r in site.requests] == ["/redirect?to=/text", "/text"]


async def test_allowing_a_name_does_not_allow_other_private_hosts(
    fake_dns: FakeDNS, site: Site, canary: Canary
) -> None:
    fake_dns({"wiki.test": ["127.0.0.1"]})
    tools = StdTools(allow_hosts=["wiki.test"])
    assert "hello from the site" in await tools.http_get(site.url("/text", host="wiki.test"))
    with pytest.raises(ToolExecutionError, match=r"^Refused: "):
        await tools.http_get(f"http://127.0.0.1:{canary.port}/")
    assert canary.connections == 0


async def test_an_unreachable_port_is_a_clear_error(tools: StdTools) -> None:
    closed = Canary()
    await closed.start()
    port = closed.port
    await closed.close()
    with pytest.raises(ToolExecutionError, match=r"Could not fetch http://127\.0\.0\.1:\d+/: "):
        await tools.http_get(f"http://127.0.0.1:{port}/")
