"""Provider errors: what survives pickling, the retry attributes, and the wrong-endpoint one."""

from __future__ import annotations

import pickle

import pytest

from aether.errors import (
    AetherError,
    ConfigurationError,
    ProviderError,
    RateLimitError,
    ResponseBlockedError,
    ServerError,
    StreamInterruptedError,
    UnexpectedResponseError,
)


def _retried() -> ServerError:
    error = ServerError("down", provider="p", status_code=503, provider_message="down")
    error.attempts, error.statuses, error.waited_seconds = 3, (503, None, 503), 1.5
    error.retry_summary = "Tried 3 times."
    return error


@pytest.mark.parametrize(
    "error",
    [
        RateLimitError("slow down", provider="p", status_code=429, retry_after=2.0),
        StreamInterruptedError("cut", chunks_received=3, provider="p", request_id="req_1"),
        ResponseBlockedError("blocked", reason="refusal", refusal="No.", should_retry=False),
        _retried(),
        UnexpectedResponseError("a web page", provider="p", status_code=200),
    ],
    ids=lambda error: type(error).__name__,
)
def test_every_attribute_survives_pickling(error: ProviderError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert vars(copy) == vars(error)  # a subclass's own attributes included
    assert str(copy) == str(error)


def test_one_attempt_is_the_default_and_a_summary_is_said_after_the_message() -> None:
    error = ServerError("down", provider="p", status_code=503, request_id="req_1")
    assert (error.attempts, error.statuses, error.waited_seconds) == (1, (503,), 0.0)
    assert (error.retry_summary, error.provider_message) == (None, None)
    error.retry_summary = "Tried 3 times."
    assert str(error) == "[p HTTP 503] down (request id: req_1) Tried 3 times."


def test_an_unexpected_response_is_a_provider_error_and_a_configuration_error() -> None:
    error = UnexpectedResponseError("a web page", provider="p", status_code=200)
    assert isinstance(error, ProviderError) and isinstance(error, ConfigurationError)
    assert isinstance(error, AetherError)
    assert str(error) == "[p HTTP 200] a web page"


def test_the_deferred_calls_error_lives_with_the_others_and_where_it_was_imported() -> None:
    import aether.errors
    import aether.tools
    import aether.tools.loop

    error = aether.errors.DeferredToolCallsError
    assert "DeferredToolCallsError" in aether.errors.__all__
    assert issubclass(error, aether.errors.ToolError)
    assert aether.tools.DeferredToolCallsError is error
    assert aether.tools.loop.DeferredToolCallsError is error
    assert "DeferredToolCallsError" in (aether.errors.__doc__ or "")  # the tree names it
