"""Status and body to typed error; retry-after and request-id headers; transport errors."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest

from aether.errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ContextLengthError,
    NotFoundError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
)
from aether.http import (
    error_from_payload,
    error_from_response,
    map_transport_errors,
    parse_retry_after,
    parse_should_retry,
    request_id_from,
    set_chunks_received,
)
from aether.http._errors import map_stream_errors


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"retry-after": ""}, None),
        ({"retry-after": "  "}, None),
        ({"retry-after": "7"}, 7.0),
        ({"Retry-After": "2.5"}, 2.5),
        ({"retry-after": "0"}, 0.0),
        ({"retry-after": "-1"}, None),
        ({"retry-after": "inf"}, None),
        ({"retry-after": "nan"}, None),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "1e9"}, 1e9),
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"retry-after-ms": "junk", "retry-after": "9"}, 9.0),
        ({"retry-after-ms": "-5", "retry-after": "3"}, 3.0),
        ({"RETRY-AFTER-MS": "250"}, 0.25),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(headers) == expected


def test_parse_retry_after_http_date_in_future() -> None:
    when = datetime.now(timezone.utc) + timedelta(seconds=120)
    value = parse_retry_after(httpx.Headers({"retry-after": format_datetime(when, usegmt=True)}))
    assert value is not None
    assert 100 < value <= 121
    assert math.isfinite(value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("FALSE", False), (" false ", False), ("maybe", None), (None, None)],
)
def test_parse_should_retry(raw: str | None, expected: bool | None) -> None:
    headers = {} if raw is None else {"x-should-retry": raw}
    assert parse_should_retry(headers) is expected


def test_request_id_from() -> None:
    assert request_id_from({"x-request-id": "req_1"}) == "req_1"
    assert request_id_from({"Request-Id": "req_2"}) == "req_2"
    assert request_id_from(httpx.Headers({"X-Request-ID": "req_3"})) == "req_3"
    assert request_id_from({"content-type": "x"}) is None


def build(status: int, body: object, headers: dict[str, str] | None = None) -> ProviderError:
    raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return error_from_response(provider="acme", status_code=status, headers=headers or {}, body=raw)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, AuthenticationError),
        (404, NotFoundError),
        (408, ProviderTimeoutError),
        (409, ConflictError),
        (413, ContextLengthError),
        (422, BadRequestError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (529, RateLimitError),
        (302, ProviderError),
    ],
)
def test_status_picks_the_class(status: int, cls: type[ProviderError]) -> None:
    error = build(status, {"error": {"message": "boom"}})
    assert type(error) is cls
    assert error.status_code == status
    assert error.provider == "acme"
    assert "boom" in str(error)


@pytest.mark.parametrize(
    "body",
    [
        {"error": {"message": "Nope here", "type": "invalid_request_error", "code": None}},
        {"error": {"code": 400, "message": "Nope here", "status": "INVALID_ARGUMENT"}},
        [{"error": {"code": 400, "message": "Nope here", "status": "INVALID_ARGUMENT"}}],
        {"type": "error", "error": {"type": "invalid_request_error", "message": "Nope here"}},
        {"message": "Nope here"},
        {"error": "Nope here"},
        {"detail": "Nope here"},
    ],
)
def test_message_extracted_from_common_shapes(body: object) -> None:
    error = build(400, body)
    assert error.message.startswith("Nope here")
    assert "{" not in error.message


def test_labels_and_hint_in_message() -> None:
    error = build(
        404,
        {
            "error": {
                "message": "No model",
                "type": "invalid_request_error",
                "code": "model_not_found",
            }
        },
    )
    assert "code: model_not_found" in error.message
    assert "Check the model name" in error.message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"error": {"message": "API key not valid. Please pass a valid API key."}},
            "API key not valid. Please pass a valid API key. The request was rejected",
        ),
        ({"error": {"message": "No such model"}}, "No such model. The request was rejected"),
        (
            {"error": {"message": "Bad field.", "type": "invalid_request_error"}},
            "Bad field. (type: invalid_request_error). The request was rejected",
        ),
    ],
)
def test_the_providers_words_open_the_message_whole(body: object, expected: str) -> None:
    error = build(400, body)
    assert error.message.startswith(expected)
    assert error.provider_message == body["error"]["message"]  # type: ignore[index]


def test_a_key_the_provider_echoes_is_masked_in_its_words_too() -> None:
    body = json.dumps({"error": {"message": "Incorrect API key provided: sk-abcdef."}})
    error = error_from_response(
        provider="openai", status_code=401, headers={}, body=body, secrets=["sk-abcdef"]
    )
    assert error.provider_message == "Incorrect API key provided: ***."
    assert "sk-abcdef" not in str(error)


def test_a_rate_limit_hint_promises_no_retry() -> None:
    # The retry layer says what it did (or why not); the hint must not guess.
    error = build(429, {"error": {"message": "Slow down."}})
    assert "retry" not in error.message.removeprefix("Slow down.")


def test_non_json_body_is_truncated() -> None:
    error = build(502, "<html>" + "x" * 5000 + "</html>")
    assert isinstance(error, ServerError)
    assert "<html>" in error.message
    assert "truncated" in error.message
    assert len(error.message) < 1000


def test_empty_body() -> None:
    assert "empty" in build(500, b"").message


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, {"error": {"message": "too long", "code": "context_length_exceeded"}}),
        (400, {"error": {"message": "This model's maximum context length is 8192 tokens."}}),
        (
            400,
            {
                "type": "error",
                "error": {
                    "type": "invalid_request_error",
                    "message": "prompt is too long: 210000 tokens",
                },
            },
        ),
        (
            400,
            {
                "type": "error",
                "error": {
                    "type": "invalid_request_error",
                    "message": "input length and `max_tokens` exceed context limit: "
                    "199759 + 8192 > 200000, decrease input length or `max_tokens` and try "
                    "again",
                },
            },
        ),
        (
            400,
            [
                {
                    "error": {
                        "code": 400,
                        "status": "INVALID_ARGUMENT",
                        "message": "The input token count (2000000) exceeds the maximum number of "
                        "tokens allowed (1048576).",
                    }
                }
            ],
        ),
    ],
)
def test_context_length_detected(status: int, body: object) -> None:
    assert isinstance(build(status, body), ContextLengthError)


def test_rate_limit_context_words_stay_rate_limit() -> None:
    assert type(build(429, {"error": {"message": "maximum context length"}})) is RateLimitError


def test_headers_reach_the_error() -> None:
    error = build(
        429,
        {"error": {"message": "slow down"}},
        {"retry-after": "3", "x-should-retry": "true", "x-request-id": "req_9"},
    )
    assert error.retry_after == 3.0
    assert error.should_retry is True
    assert error.request_id == "req_9"
    assert "req_9" in str(error)


def test_explicit_retry_after_and_message_override() -> None:
    error = error_from_response(
        provider="acme",
        status_code=429,
        headers={"retry-after": "3"},
        body=b"{}",
        message="custom",
        retry_after=12.0,
    )
    assert error.retry_after == 12.0
    assert error.message.startswith("custom")


def test_insufficient_quota_is_not_retryable() -> None:
    error = build(429, {"error": {"message": "quota", "code": "insufficient_quota"}})
    assert isinstance(error, RateLimitError)
    assert error.should_retry is False


def test_request_id_from_body_when_headers_lack_it() -> None:
    error = build(500, {"type": "error", "error": {"message": "x"}, "request_id": "req_a"})
    assert error.request_id == "req_a"
    error = build(500, {"error": {"message": "x", "request_id": "req_b"}})
    assert error.request_id == "req_b"


def test_secrets_are_masked() -> None:
    error = error_from_response(
        provider="acme",
        status_code=401,
        headers={},
        body=json.dumps({"error": {"message": "Incorrect API key provided: sk-secret-123"}}),
        secrets=["sk-secret-123"],
    )
    assert "sk-secret-123" not in str(error)
    assert "***" in str(error)


def test_map_transport_errors() -> None:
    with pytest.raises(ProviderTimeoutError) as timeout, map_transport_errors("acme"):
        raise httpx.ReadTimeout("slow")
    assert isinstance(timeout.value.__cause__, httpx.ReadTimeout)
    assert timeout.value.provider == "acme"
    with (
        pytest.raises(ProviderConnectionError) as conn,
        map_transport_errors("acme", secrets=["k3y-value"]),
    ):
        raise httpx.ConnectError("refused k3y-value")
    assert isinstance(conn.value.__cause__, httpx.ConnectError)
    assert "k3y-value" not in str(conn.value)
    with pytest.raises(ValueError), map_transport_errors("acme"):  # others pass through
        raise ValueError("x")


# --- in-band errors (a stream event or a 2xx body holding an error object) -------------


@pytest.mark.parametrize(
    ("payload", "cls", "status"),
    [
        ({"error": {"code": 503, "message": "m", "status": "UNAVAILABLE"}}, ServerError, 503),
        ({"error": {"code": "429", "message": "m"}}, RateLimitError, 429),
        ({"error": {"code": 400, "message": "m", "status": "INVALID_ARGUMENT"}},
         BadRequestError, 400),
        ({"error": {"message": "m", "status": "RESOURCE_EXHAUSTED"}}, RateLimitError, None),
        ({"error": {"message": "m", "type": "server_error"}}, ServerError, None),
        ({"error": {"message": "m", "type": "overloaded_error"}}, RateLimitError, None),
        ({"error": {"message": "m", "type": "invalid_request_error",
                    "code": "context_length_exceeded"}}, ContextLengthError, None),
        ({"error": {"message": "m", "type": "not_found_error"}}, NotFoundError, None),
        ({"error": {"message": "m"}}, ServerError, None),
        ([{"error": {"code": 500, "message": "m", "status": "INTERNAL"}}], ServerError, 500),
    ],
)  # fmt: skip
def test_in_band_error_is_typed_by_its_own_code(
    payload: object, cls: type[ProviderError], status: int | None
) -> None:
    error = error_from_payload(provider="acme", payload=payload)
    assert type(error) is cls
    # The exchange itself was a 200: only a code the server put in the error is reported.
    assert error.status_code == status
    assert error.provider == "acme"
    assert error.message.startswith("m")


def test_in_band_error_from_raw_text_and_odd_shapes() -> None:
    assert "upstream died" in str(error_from_payload(provider="a", payload="upstream died"))
    assert "detail!" in str(error_from_payload(provider="a", payload='{"detail": "detail!"}'))
    odd = error_from_payload(provider="a", payload={"weird": 1})
    assert type(odd) is ServerError and '"weird": 1' in str(odd)
    assert "empty error event" in str(error_from_payload(provider="a", payload=""))


def test_in_band_error_without_a_kind_and_no_default_is_plain() -> None:
    error = error_from_payload(
        provider="a", payload={"error": "model 'x' not found"}, default_status=None
    )
    assert type(error) is ProviderError
    assert error.status_code is None
    assert "unexpected status" not in str(error)
    assert "without naming its kind" in str(error)


def test_in_band_error_keeps_retry_hints_and_masks_secrets() -> None:
    error = error_from_payload(
        provider="a",
        payload={"error": {"message": "key sk-abcdef rejected", "code": "insufficient_quota",
                           "type": "insufficient_quota"}, "request_id": "req_9"},
        retry_after=3.0,
        secrets=["sk-abcdef"],
    )  # fmt: skip
    assert type(error) is RateLimitError
    assert error.should_retry is False  # quota: waiting does not help
    assert error.retry_after == 3.0
    assert error.request_id == "req_9"
    assert "sk-abcdef" not in str(error) and "sk-abcdef" not in repr(error)


@pytest.mark.parametrize(
    "error",
    [
        {"code": 503, "message": "Overloaded.", "status": "UNAVAILABLE"},
        {"message": "Slow down", "type": "rate_limit_error", "request_id": "req_b"},
        {"message": "too long", "code": "context_length_exceeded"},
        {"code": 429},  # no message: the body is summarised
    ],
)
def test_in_band_and_status_errors_are_built_alike(error: dict[str, object]) -> None:
    # One builder for both: an in-band error reads exactly as the status it stands for,
    # except for the status itself, which the exchange (a 200) did not give.
    in_band = error_from_payload(provider="acme", payload={"error": error})
    status = in_band.status_code or {"rate_limit_error": 429}.get(str(error.get("type")), 400)
    failed = error_from_response(
        provider="acme", status_code=status, headers={}, body=json.dumps({"error": error})
    )
    assert type(in_band) is type(failed)
    assert in_band.message == failed.message
    assert (in_band.request_id, in_band.should_retry) == (failed.request_id, failed.should_retry)


def test_in_band_error_reads_the_headers_of_its_answer() -> None:
    headers = {"x-request-id": "req_h", "retry-after": "4", "x-should-retry": "false"}
    payload = {"error": {"message": "busy", "type": "server_error"}, "request_id": "req_body"}
    error = error_from_payload(provider="acme", payload=payload, headers=headers)
    assert (error.request_id, error.retry_after, error.should_retry) == ("req_h", 4.0, False)
    assert error.status_code is None
    # A delay the provider read from the body wins, as it does for a failed status.
    assert (
        error_from_payload(
            provider="acme", payload=payload, headers=headers, retry_after=9.0
        ).retry_after
        == 9.0
    )
    # Without headers, the request id the body carries.
    assert error_from_payload(provider="acme", payload=payload).request_id == "req_body"


def test_set_chunks_received_keeps_everything_else() -> None:
    cause = OSError("reset")
    try:
        try:
            raise cause
        except OSError as exc:
            raise StreamInterruptedError(
                "broke", provider="acme", status_code=200, retry_after=3.0,
                should_retry=True, request_id="req_s",
            ) from exc  # fmt: skip
    except StreamInterruptedError as exc:
        error = exc
    set_chunks_received(error, 4)
    assert error.chunks_received == 4
    assert (error.retry_after, error.should_retry, error.request_id) == (3.0, True, "req_s")
    assert (error.status_code, error.message, error.__cause__) == (200, "broke", cause)


@pytest.mark.parametrize(
    ("fail", "kind"), [(httpx.ReadError("reset"), "broke"), (httpx.ReadTimeout("t"), "timed out")]
)
def test_map_stream_errors(fail: Exception, kind: str) -> None:
    with (
        pytest.raises(StreamInterruptedError, match=f"{kind} mid-way") as info,
        map_stream_errors("acme", status_code=200, secrets=["k3y-value"]),
    ):
        raise fail
    assert (info.value.status_code, info.value.provider, info.value.__cause__) == (
        200,
        "acme",
        fail,
    )
    with pytest.raises(ValueError), map_stream_errors("acme", status_code=200):
        raise ValueError("not a transport failure")
