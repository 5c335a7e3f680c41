"""Provider errors: what survives pickling, the retry attributes, the wrong-endpoint one, and
where the errors of the layers live."""

from __future__ import annotations

import pickle

import pytest

from aether.errors import (
    AetherError,
    ConfigurationError,
    FallbackError,
    ProviderError,
    RateLimitError,
    ResponseBlockedError,
    ServerError,
    StreamInterruptedError,
    UnexpectedResponseError,
)


def _no_fallback_answered() -> FallbackError:
    failures = [
        ("openai", "gpt-x", ServerError("down", provider="openai", status_code=503)),
        ("anthropic", None, RateLimitError("slow down", status_code=429)),
    ]
    error = FallbackError(failures, skipped=["gemini (model g-1)"], untried=1)
    error.__cause__ = failures[-1][2]
    return error


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
        _no_fallback_answered(),
    ],
    ids=lambda error: type(error).__name__,
)
def test_every_attribute_survives_pickling(error: ProviderError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    # A subclass's own attributes included (errors compare by identity: their texts here).
    assert {k: _shown(v) for k, v in vars(copy).items()} == {
        k: _shown(v) for k, v in vars(error).items()
    }
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


def _shown(value: object) -> object:
    """``value`` with each error in it (a FallbackError's failures) replaced by its text."""
    if isinstance(value, BaseException):
        return (type(value), str(value))
    if isinstance(value, tuple):
        return tuple(_shown(item) for item in value)
    return value


def test_the_fallback_error_names_each_provider_tried_and_lives_with_the_others() -> None:
    import aether.errors
    import aether.extensions.llm
    import aether.extensions.llm.fallback

    error = _no_fallback_answered()
    assert isinstance(error, ProviderError)
    assert str(error) == (
        "No provider of the fallback chain answered. "
        "1. openai (model gpt-x): ServerError: [openai HTTP 503] down; "
        "2. anthropic (model default): RateLimitError: [HTTP 429] slow down. "
        "The last error does not fall over (FallbackPolicy), so 1 more provider was not tried. "
        "Skipped, as their context window is not larger than the one that refused "
        "(ProviderConfig(max_context_tokens=...)): gemini (model g-1). "
        "Check each provider's status and configuration; each error is on .failures, "
        "the last one is the __cause__."
    )
    assert "FallbackError" in aether.errors.__all__
    assert "FallbackError" in (aether.errors.__doc__ or "")  # the tree names it
    # Like the breaker's and the retry layer's errors, it is not exported by its layer.
    assert "FallbackError" not in aether.extensions.llm.fallback.__all__
    assert "FallbackError" not in aether.extensions.llm.__all__


def test_a_fallback_errors_text_quotes_each_error_on_one_short_line() -> None:
    long = ServerError("line one\nline two " + "x" * 400, status_code=500)
    error = FallbackError([("a", "m", long), ("b", "n", ValueError())])
    first, second = str(error).split("; 2. ")
    said = "[HTTP 500] line one line two " + "x" * 400  # the error on one line
    assert first.endswith(f"1. a (model m): ServerError: {said[:297]}...")  # 300 characters
    assert second.startswith("b (model n): ValueError.")
