"""Keys and headers are checked when a provider is built: whitespace dropped, anything no
HTTP header can carry refused by name and position, never by value, and never retried."""

from __future__ import annotations

import httpx
import pytest

from aether.errors import AuthenticationError, ConfigurationError, ProviderConnectionError
from aether.extensions.llm.retrying import is_retryable
from aether.http import HTTPProviderClient, resolve_settings
from tests.security._canary import CANARY, WIDE_CANARY, assert_clean, assert_error_clean
from tests.security._providers import WIRE_IDS, WIRES, Wire, run
from tests.security._server import Answer, key_of, scripted
from tests.support.loopback import Request

PROVIDERS = pytest.mark.parametrize("wire", WIRES, ids=WIRE_IDS)
_PREFIX = {"openai": "OPENAI", "gemini": "GEMINI", "anthropic": "ANTHROPIC", "echo": "ECHO"}


@PROVIDERS
@pytest.mark.parametrize("padding", ["\n", "\r\n", "  ", "\t\n"])
async def test_a_key_read_from_a_file_works(wire: Wire, padding: str) -> None:
    def script(request: Request, key: str) -> Answer:
        return Answer(200, httpx.Response(200, json=wire.answer()).content)

    async with scripted(script) as server:
        await run(wire.provider(server.root, f" {CANARY}{padding}"), stream=False)
        assert [key_of(request) for request in server.requests] == [CANARY]


@PROVIDERS
@pytest.mark.parametrize(
    ("key", "problem"),
    [
        (WIDE_CANARY, "contains a non-ASCII character (U+201C) at position 10"),
        (CANARY[:12] + "\n" + CANARY[12:], "contains a control character (U+000A) at position 12"),
        (
            CANARY[:20] + "\x1b" + CANARY[20:],
            "contains a control character (U+001B) at position 20",
        ),
        (CANARY[:5] + "\xe9" + CANARY[5:], "contains a non-ASCII character (U+00E9) at position 5"),
    ],
)
def test_a_key_no_header_can_carry_is_refused_by_name_never_by_value(
    wire: Wire, key: str, problem: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigurationError) as given:
        wire.provider("http://127.0.0.1:9", key)
    assert f"The API key (api_key=) {problem}" in str(given.value)
    env = f"{_PREFIX[wire.name]}_API_KEY"
    monkeypatch.setenv(env, key)
    with pytest.raises(ConfigurationError) as read:
        wire.provider("http://127.0.0.1:9", None)
    assert f"The API key ({env}) {problem}" in str(read.value)
    for error in (given.value, read.value):
        assert_error_clean(error)


def test_a_blank_key_counts_as_none() -> None:
    settings = resolve_settings(
        "acme",
        env_prefix="ACME_TEST",
        api_key=" \n",
        default_model=None,
        base_url="http://127.0.0.1:9/v1",
        fallback_model="m",
        fallback_base_url="https://api.acme.test/v1",
    )
    assert settings.api_key is None and settings.secrets == ()


@pytest.mark.parametrize(
    ("headers", "named"),
    [
        ({"authorization": f"Bearer {WIDE_CANARY}"}, "'authorization' header"),
        ({"x-api-key": f"{CANARY}\r\nx-injected: 1"}, "'x-api-key' header"),
        ({"bad name": "v"}, "header name"),
        ({"x-ok": "v", "x\u201c": "v"}, "header name"),
    ],
)
def test_a_header_no_request_can_carry_is_refused_when_the_client_is_built(
    headers: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigurationError) as info:
        HTTPProviderClient(provider="acme", base_url="http://127.0.0.1:9", headers=headers)
    assert named in str(info.value)
    assert_error_clean(info.value)


async def test_a_call_with_a_bad_extra_header_is_refused_before_anything_is_sent() -> None:
    async with (
        scripted(lambda request, key: Answer(200, b"{}")) as server,
        HTTPProviderClient(provider="acme", base_url=server.root) as http,
    ):
        with pytest.raises(ConfigurationError) as info:
            await http.post_json("x", {}, headers={"x-trace": f"{CANARY}\nx-injected: 1"})
        assert "'x-trace' header" in str(info.value)
        with pytest.raises(ConfigurationError):
            async for _ in http.stream_sse("x", {}, headers={"x-trace": WIDE_CANARY}):
                pass
        assert server.requests == []
    assert_error_clean(info.value)


async def test_credential_headers_are_masked_even_when_not_declared_secret() -> None:
    def script(request: Request, key: str) -> Answer:
        return Answer(401, f"bad key {request['headers']['x-api-key']}".encode())

    async with (
        scripted(script) as server,
        HTTPProviderClient(
            provider="acme", base_url=server.root, headers={"x-api-key": CANARY}
        ) as http,
    ):
        with pytest.raises(AuthenticationError) as info:
            await http.post_json("x", {})
    assert "bad key ***" in str(info.value)
    assert_error_clean(info.value)


async def test_a_request_the_http_library_refuses_is_typed_masked_and_not_retried() -> None:
    """A borrowed client with its own broken default header: h11 refuses to send it and quotes
    the value; the error is typed, says why, shows no key, and is not worth retrying. (httpx's
    own transport: the point is h11's error, whichever transport the run uses.)"""
    borrowed = httpx.AsyncClient(
        transport=httpx.AsyncHTTPTransport(),
        headers={"authorization": f"Bearer {CANARY}\n"},
    )
    async with (
        scripted(lambda request, key: Answer(200, b"{}")) as server,
        HTTPProviderClient(
            provider="acme", base_url=server.root, http_client=borrowed, secrets=[CANARY]
        ) as http,
    ):
        with pytest.raises(ProviderConnectionError) as info:
            await http.post_json("x", {})
        assert server.requests == []
    await borrowed.aclose()
    error = info.value
    assert "could not be sent as built" in str(error)
    assert error.should_retry is False and not is_retryable(error)
    assert_error_clean(error)
    assert_clean(repr(error.__cause__))
