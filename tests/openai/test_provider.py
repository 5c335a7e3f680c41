"""OpenAIProvider: configuration, headers, each error status, client ownership, plugin."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from aether.errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ContextLengthError,
    MissingAPIKeyError,
    NotFoundError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
)
from aether.extensions.llm.factory import create_provider
from aether.extensions.llm.retrying import is_retryable
from aether.llm.contracts import LLMProvider, LLMRequest, Message
from aether_openai import OpenAIProvider

REQUEST = LLMRequest(messages=[Message(role="user", content="hi")])
OK = {
    "id": "chatcmpl-1",
    "model": "m-1",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
    ],
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "OPENAI_API_KEY",
        "OPENAI_MODEL",
        "OPENAI_BASE_URL",
        "OPENAI_ORG_ID",
        "OPENAI_PROJECT_ID",
    ):
        monkeypatch.delenv(name, raising=False)


def mock(handler: Any, **kwargs: Any) -> OpenAIProvider:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    kwargs.setdefault("api_key", "sk-secret-key")
    return OpenAIProvider(http_client=client, **kwargs)


def recorder(seen: list[httpx.Request], body: Any = OK, status: int = 200) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json=body)

    return handler


def test_public_api_needs_a_key() -> None:
    with pytest.raises(MissingAPIKeyError) as info:
        OpenAIProvider()
    assert info.value.env_var == "OPENAI_API_KEY"
    assert info.value.provider == "openai"


def test_local_server_needs_no_key() -> None:
    provider = OpenAIProvider(base_url="http://127.0.0.1:11434/v1/")
    assert provider.base_url == "http://127.0.0.1:11434/v1"


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("OPENAI_MODEL", "gpt-env")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")
    provider = OpenAIProvider()
    assert provider.default_model == "gpt-env"
    assert provider.base_url == "http://127.0.0.1:1/v1"
    assert OpenAIProvider(default_model="kw", base_url="http://x/v1").default_model == "kw"
    assert OpenAIProvider(base_url="http://x/v1", default_model=None).default_model == "gpt-env"


def test_default_model() -> None:
    assert OpenAIProvider(api_key="k").default_model == "gpt-4o-mini"


def test_repr_never_shows_the_key() -> None:
    provider = OpenAIProvider(api_key="sk-very-secret")
    assert "sk-very-secret" not in repr(provider)
    assert "gpt-4o-mini" in repr(provider)


async def test_headers_and_url() -> None:
    seen: list[httpx.Request] = []
    provider = mock(
        recorder(seen),
        organization="org-1",
        project="proj-1",
        extra_headers={"HTTP-Referer": "https://app.test"},
    )
    response = await provider.complete(REQUEST)
    assert response.text == "ok"
    request = seen[0]
    assert str(request.url) == "https://api.openai.com/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-secret-key"
    assert request.headers["openai-organization"] == "org-1"
    assert request.headers["openai-project"] == "proj-1"
    assert request.headers["http-referer"] == "https://app.test"
    body = json.loads(request.content)
    assert body["model"] == "gpt-4o-mini"


async def test_org_and_project_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_ORG_ID", "org-env")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-env")
    seen: list[httpx.Request] = []
    await mock(recorder(seen)).complete(REQUEST)
    assert seen[0].headers["openai-organization"] == "org-env"
    assert seen[0].headers["openai-project"] == "proj-env"


async def test_local_server_gets_no_authorization_and_max_tokens() -> None:
    seen: list[httpx.Request] = []
    provider = mock(recorder(seen), api_key=None, base_url="http://127.0.0.1:8000/v1")
    await provider.complete(LLMRequest(messages=REQUEST.messages, max_tokens=9, model="llama"))
    assert "authorization" not in seen[0].headers
    body = json.loads(seen[0].content)
    assert body["max_tokens"] == 9
    assert body["model"] == "llama"


async def test_public_api_uses_max_completion_tokens_unless_told() -> None:
    seen: list[httpx.Request] = []
    request = LLMRequest(messages=REQUEST.messages, max_tokens=9)
    await mock(recorder(seen)).complete(request)
    await mock(recorder(seen), max_tokens_field="max_tokens").complete(request)
    assert json.loads(seen[0].content)["max_completion_tokens"] == 9
    assert json.loads(seen[1].content)["max_tokens"] == 9


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (
            400,
            {"error": {"message": "Invalid value", "type": "invalid_request_error"}},
            BadRequestError,
        ),
        (
            400,
            {
                "error": {
                    "message": "This model's maximum context length is 128000 tokens.",
                    "code": "context_length_exceeded",
                }
            },
            ContextLengthError,
        ),
        (
            401,
            {
                "error": {
                    "message": "Incorrect API key provided: sk-secret-key",
                    "code": "invalid_api_key",
                }
            },
            AuthenticationError,
        ),
        (403, {"error": {"message": "Country not supported"}}, AuthenticationError),
        (404, {"error": {"message": "The model `x` does not exist"}}, NotFoundError),
        (408, {"error": {"message": "Request timed out"}}, ProviderTimeoutError),
        (409, {"error": {"message": "Conflict"}}, ConflictError),
        (413, {"error": {"message": "Request too large"}}, ContextLengthError),
        (422, {"error": {"message": "Unprocessable"}}, BadRequestError),
        (429, {"error": {"message": "Rate limit reached", "type": "requests"}}, RateLimitError),
        (500, {"error": {"message": "The server had an error"}}, ServerError),
        (502, "<html>Bad gateway</html>", ServerError),
        (503, {"error": {"message": "Overloaded"}}, ServerError),
    ],
)
@pytest.mark.parametrize("streaming", [False, True])
async def test_error_statuses(
    status: int, body: Any, cls: type[ProviderError], streaming: bool
) -> None:
    headers = {"x-request-id": "req_abc", "retry-after-ms": "1500", "x-should-retry": "true"}

    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    provider = mock(handler)

    async def call() -> None:
        if streaming:
            _ = [c async for c in provider.stream(REQUEST)]
        else:
            await provider.complete(REQUEST)

    with pytest.raises(ProviderError) as info:
        await call()
    error = info.value
    assert type(error) is cls
    assert error.status_code == status
    assert error.provider == "openai"
    assert error.request_id == "req_abc"
    assert error.retry_after == 1.5
    assert error.should_retry is True
    expected = (
        body if isinstance(body, str) else body["error"]["message"].replace("sk-secret-key", "***")
    )
    assert expected in str(error)
    assert "sk-secret-key" not in str(error)
    assert "sk-secret-key" not in repr(error)


async def test_error_in_a_200_body() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"error": "model 'llama9' not found"})

    with pytest.raises(ProviderError, match="llama9") as info:
        await mock(handler).complete(REQUEST)
    # Nothing names the kind of failure: a plain ProviderError, not a guessed subclass.
    assert type(info.value) is ProviderError
    assert "unexpected status" not in str(info.value)


@pytest.mark.parametrize(
    ("error", "cls", "status"),
    [
        ({"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"},
         ServerError, 503),
        ({"code": "429", "message": "Too many requests"}, RateLimitError, 429),
        ({"message": "Rate limit reached", "type": "rate_limit_error"}, RateLimitError, None),
        ({"message": "Quota exceeded", "type": "insufficient_quota",
          "code": "insufficient_quota"}, RateLimitError, None),
    ],
)  # fmt: skip
async def test_error_in_a_200_body_is_typed_by_its_code(
    error: dict[str, Any], cls: type[ProviderError], status: int | None
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"error": error})

    with pytest.raises(ProviderError) as info:
        await mock(handler).complete(REQUEST)
    assert type(info.value) is cls
    assert info.value.status_code == status
    assert error["message"] in str(info.value)
    assert is_retryable(info.value) is (error.get("type") != "insufficient_quota")


async def test_a_200_body_with_choices_is_an_answer_whatever_else_it_carries() -> None:
    body = {**OK, "error": {"message": "a warning some gateways add"}}
    response = await mock(lambda request: httpx.Response(200, json=body)).complete(REQUEST)
    assert response.text == "ok"


async def test_error_in_a_200_body_carries_the_request_id_of_its_answer() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"error": {"message": "busy", "type": "server_error"}}
        return httpx.Response(200, json=body, headers={"x-request-id": "req_200"})

    with pytest.raises(ServerError) as info:
        await mock(handler).complete(REQUEST)
    assert info.value.request_id == "req_200"


@pytest.mark.parametrize(
    ("exc", "cls"),
    [
        (httpx.ConnectError("refused"), ProviderConnectionError),
        (httpx.ReadTimeout("slow"), ProviderTimeoutError),
    ],
)
async def test_transport_errors(exc: Exception, cls: type[ProviderError]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    with pytest.raises(cls) as info:
        await mock(handler).complete(REQUEST)
    assert info.value.__cause__ is exc


async def test_no_retries_inside_the_adapter() -> None:
    seen: list[httpx.Request] = []
    with pytest.raises(ServerError):
        await mock(recorder(seen, {"error": {"message": "x"}}, status=500)).complete(REQUEST)
    assert len(seen) == 1


async def test_borrowed_client_stays_open_owned_is_closed() -> None:
    client = httpx.AsyncClient(transport=httpx.MockTransport(recorder([])))
    async with OpenAIProvider(api_key="k", http_client=client) as provider:
        await provider.complete(REQUEST)
    assert not client.is_closed
    await client.aclose()
    owned = OpenAIProvider(api_key="k")
    inner = owned._http._get_client()
    await owned.aclose()
    assert inner.is_closed


def test_satisfies_the_provider_protocol() -> None:
    assert isinstance(OpenAIProvider(api_key="k"), LLMProvider)


def test_registered_through_its_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    monkeypatch.setenv("OPENAI_MODEL", "gpt-from-env")
    provider = create_provider("openai")
    assert isinstance(provider, OpenAIProvider)
    assert provider.default_model == "gpt-from-env"
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(MissingAPIKeyError):
        create_provider("openai")
