"""Every exception Aether raises, in one tree.

```
AetherError
├── ConfigurationError ............ a setting is missing or invalid
│   ├── MissingAPIKeyError ........ names the environment variable to set
│   └── UnknownProviderError ...... names the installed providers and the closest ones
├── PluginError ................... a plugin could not be loaded or used
│   ├── PluginLoadError ........... its import or one of its hooks failed
│   ├── PluginConflictError ....... two distributions claim one name
│   └── PluginNotFoundError ....... nothing provides the asked-for name
├── ProviderError ................. an LLM provider call failed
│   ├── AuthenticationError ....... 401 / 403: the key is wrong or lacks access
│   ├── RateLimitError ............ 429 (and "overloaded" statuses): carries retry_after
│   ├── BadRequestError ........... other 4xx: the request itself is wrong
│   │   ├── NotFoundError ......... 404: usually an unknown model name
│   │   ├── ConflictError ......... 409: retryable
│   │   └── ContextLengthError .... the prompt does not fit the model's window
│   ├── ServerError ............... 5xx
│   ├── ProviderTimeoutError ...... the request timed out (or 408)
│   ├── ProviderConnectionError ... the server could not be reached
│   ├── StreamInterruptedError .... a stream broke after it started
│   ├── UnexpectedResponseError ... not the API's answer (a web page): check the base URL
│   ├── ResponseBlockedError ...... the provider refused to answer (safety filter, empty candidate)
│   └── FallbackError ............. no provider of a fallback chain answered: names each one tried
├── CircuitOpenError .............. the circuit breaker is refusing calls for now
├── ToolError ..................... a tool could not run (the loop turns these into content)
│   ├── ToolNotFoundError
│   ├── ToolArgumentsError
│   ├── ToolExecutionError
│   ├── MaxToolIterationsError .... the model kept asking for tools; carries the conversation
│   └── DeferredToolCallsError .... tools declared without a function: the caller runs them
├── OutputValidationError ......... the answer did not fit output_type, repairs included
└── SessionStoreError ............. a session store could not load or save
```

Every message says what happened and what to do about it. No message, ``repr`` or
attribute ever holds an API key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aether._names import close_matches, did_you_mean, listing

if TYPE_CHECKING:
    from aether.llm.contracts import Message, ToolCall

__all__ = [
    "AetherError",
    "AuthenticationError",
    "BadRequestError",
    "CircuitOpenError",
    "ConfigurationError",
    "ConflictError",
    "ContextLengthError",
    "DeferredToolCallsError",
    "FallbackError",
    "MaxToolIterationsError",
    "MissingAPIKeyError",
    "NotFoundError",
    "OutputValidationError",
    "PluginConflictError",
    "PluginError",
    "PluginLoadError",
    "PluginNotFoundError",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderTimeoutError",
    "RateLimitError",
    "ResponseBlockedError",
    "ServerError",
    "SessionStoreError",
    "StreamInterruptedError",
    "ToolArgumentsError",
    "ToolError",
    "ToolExecutionError",
    "ToolNotFoundError",
    "UnexpectedResponseError",
    "UnknownProviderError",
]


class AetherError(Exception):
    """Base class of every error Aether raises."""


# --- configuration -------------------------------------------------------------------


class ConfigurationError(AetherError):
    """A setting is missing or invalid."""


class MissingAPIKeyError(ConfigurationError):
    """A provider needs an API key and none was given."""

    def __init__(self, provider: str, env_var: str | None) -> None:
        self.provider = provider
        self.env_var = env_var
        where = f"set the {env_var} environment variable or " if env_var else ""
        super().__init__(
            f"The {provider!r} provider needs an API key: {where}pass api_key=... explicitly."
        )


class UnknownProviderError(ConfigurationError, LookupError):
    """The selected provider name is not registered nor provided by an installed plugin.

    Attributes:
        name: The name asked for.
        available: Every provider name registered or declared by an installed plugin.
        suggestions: The available names closest to ``name``, closest first.
    """

    def __init__(self, name: str, available: Sequence[str]) -> None:
        self.name = name
        self.available = tuple(available)
        self.suggestions = close_matches(name, self.available)
        # No distribution is named: core cannot know which package provides a name, and a
        # guessed one may belong to an unrelated project on the package index.
        super().__init__(
            f"Unknown LLM provider {name!r}. {did_you_mean(self.suggestions)}"
            f"Installed providers: {listing(self.available)}. Set LLM_PROVIDER (or "
            f"provider=...) to one of them; if a plugin provides {name!r}, install that "
            f"plugin (`aether plugins` lists what is installed)."
        )


# --- plugins -------------------------------------------------------------------------


class PluginError(AetherError):
    """A plugin could not be loaded or used."""


class PluginLoadError(PluginError):
    """A plugin's import or one of its hooks raised; the original error is the ``__cause__``."""

    def __init__(self, distribution: str, entry_point: str, detail: str) -> None:
        self.distribution = distribution
        self.entry_point = entry_point
        self.detail = detail
        super().__init__(
            f"Plugin {entry_point!r} from distribution {distribution!r} failed to load: {detail}. "
            f"Run `aether plugins --load` to see the traceback; reinstall or upgrade "
            f"{distribution}, or block it with AETHER_PLUGINS_BLOCK={distribution}."
        )


class PluginConflictError(PluginError):
    """Two distributions provide the same name for one kind."""

    def __init__(self, kind: str, name: str, distributions: Sequence[str]) -> None:
        self.kind = kind
        self.name = name
        self.distributions = tuple(distributions)
        first, *others = self.distributions
        keep_hint = " or ".join(
            f"AETHER_PLUGINS_BLOCK={','.join(d for d in self.distributions if d != keep)}"
            for keep in (first, *others)
        )
        super().__init__(
            f"{kind} {name!r} is provided by more than one distribution: "
            f"{', '.join(self.distributions)}. Uninstall all but one, or pin one by "
            f"blocking the others ({keep_hint})."
        )


class PluginNotFoundError(PluginError, LookupError):
    """No registered object and no installed plugin provides the name.

    Attributes:
        kind: The registry kind, e.g. ``"session_store"``.
        name: The name asked for.
        available: Every name of that kind registered or declared by an installed plugin.
        suggestions: The available names closest to ``name``, closest first.
        setting: The environment variable the name came from, when it came from one.
    """

    def __init__(
        self, kind: str, name: str, available: Sequence[str], *, setting: str | None = None
    ) -> None:
        self.kind = kind
        self.name = name
        self.available = tuple(available)
        self.suggestions = close_matches(name, self.available)
        self.setting = setting
        origin = f" (from {setting})" if setting else ""
        super().__init__(
            f"No {kind.replace('_', ' ')} named {name!r}{origin}. "
            f"{did_you_mean(self.suggestions)}Available: {listing(self.available)}. "
            f"Register it in code, or if a plugin provides it, install that plugin "
            f"(`aether plugins` lists what is installed)."
        )


# --- providers -----------------------------------------------------------------------


class ProviderError(AetherError):
    """An LLM provider call failed.

    ``str(error)`` reads ``[provider HTTP status] message (request id: ...)``, then, when the
    retry layer retried or refused to, what it did (``retry_summary``).

    Attributes:
        provider: The provider's registered name (``"openai"``), when known.
        status_code: The HTTP status, when the failure was an HTTP response.
        retry_after: Seconds the server asked us to wait, when it said so.
        should_retry: The server's explicit retry verdict (``x-should-retry``), when given.
        request_id: The provider's request id, for support tickets.
        provider_message: The provider's own words, verbatim, when its answer held any;
            ``message`` quotes them first, then Aether's hint.
        attempts: How many attempts the call made before this error surfaced (1 when it
            was not retried).
        statuses: The HTTP status of each attempt's failure, in order (None where there was
            none: a timeout, a refused connection).
        waited_seconds: Seconds spent waiting between attempts, in all.
        retry_summary: What the retry layer did, in words; None when it did nothing.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        status_code: int | None = None,
        retry_after: float | None = None,
        should_retry: bool | None = None,
        request_id: str | None = None,
        provider_message: str | None = None,
    ) -> None:
        self.message = message
        self.provider = provider
        self.status_code = status_code
        self.retry_after = retry_after
        self.should_retry = should_retry
        self.request_id = request_id
        self.provider_message = provider_message
        # One attempt until the retry layer says otherwise (see ``retry_summary``).
        self.attempts = 1
        self.statuses: tuple[int | None, ...] = (status_code,)
        self.waited_seconds = 0.0
        self.retry_summary: str | None = None
        super().__init__(self._render())

    def __str__(self) -> str:
        # Rendered on demand: the retry layer adds its summary after the error was raised.
        return self._render()

    def _render(self) -> str:
        parts = []
        if self.provider:
            parts.append(self.provider)
        if self.status_code is not None:
            parts.append(f"HTTP {self.status_code}")
        head = f"[{' '.join(parts)}] " if parts else ""
        tail = f" (request id: {self.request_id})" if self.request_id else ""
        summary = f" {self.retry_summary}" if self.retry_summary else ""
        return f"{head}{self.message}{tail}{summary}"

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only attributes survive pickling (multiprocessing, task queues), a
        # subclass's own ones (reason, chunks_received, ...) too: the instance dict is the
        # state pickle restores.
        return (
            _rebuild_provider_error,
            (
                type(self),
                self.message,
                {
                    "provider": self.provider,
                    "status_code": self.status_code,
                    "retry_after": self.retry_after,
                    "should_retry": self.should_retry,
                    "request_id": self.request_id,
                    "provider_message": self.provider_message,
                },
            ),
            dict(self.__dict__),
        )


def _rebuild_provider_error(
    cls: type[ProviderError], message: str, kwargs: dict[str, Any]
) -> ProviderError:
    error = cls.__new__(cls)
    ProviderError.__init__(error, message, **kwargs)
    return error


class AuthenticationError(ProviderError):
    """401/403: the API key is missing, wrong, or lacks access to the model."""


class RateLimitError(ProviderError):
    """429 or an "overloaded" status: slow down; ``retry_after`` says how long, when known."""


class BadRequestError(ProviderError):
    """A 4xx other than auth and rate limits: the request itself is wrong. Not retried."""


class NotFoundError(BadRequestError):
    """404: usually a model name the provider does not know."""


class ConflictError(BadRequestError):
    """409: a conflicting concurrent operation on the server; safe to retry."""


class ContextLengthError(BadRequestError):
    """The prompt plus ``max_tokens`` does not fit the model's context window."""


class ServerError(ProviderError):
    """5xx: the provider failed; usually transient."""


class ProviderTimeoutError(ProviderError):
    """The request did not finish in time (or the server answered 408)."""


class ProviderConnectionError(ProviderError):
    """The provider could not be reached (DNS, refused connection, TLS, reset)."""


class StreamInterruptedError(ProviderError):
    """A stream broke after it started; what was already yielded is not repeated.

    Attributes:
        chunks_received: How many chunks the caller had already been given.
    """

    def __init__(self, message: str, *, chunks_received: int = 0, **kwargs: Any) -> None:
        self.chunks_received = chunks_received
        super().__init__(message, **kwargs)


class UnexpectedResponseError(ProviderError, ConfigurationError):
    """The server answered, but not as the provider's API does: almost always a wrong base URL.

    A web page (``text/html``), another service's JSON, or no event stream where one was
    asked for: nothing is wrong with the request, and asking again gets the same answer, so
    it is never retried. It is a :class:`ConfigurationError` too, as the fix is in the
    configuration: point the base URL at the API.
    """


class ResponseBlockedError(ProviderError):
    """The provider returned no answer on purpose (a safety block, an empty candidate).

    Attributes:
        reason: The provider's reason, e.g. ``"SAFETY"``, ``"PROHIBITED_CONTENT"`` or
            ``"refusal"``.
        refusal: The model's own words when it refused, if it gave any. Kept out of the
            message, as any model text is: it can quote the prompt, and messages reach logs.
    """

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        refusal: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.reason = reason
        self.refusal = refusal
        super().__init__(message, **kwargs)


# --- resilience ----------------------------------------------------------------------

_SHOWN_CHARS = 300  # of each error's text in a FallbackError: enough to say why, not a page


class FallbackError(ProviderError):
    """No provider of a fallback chain answered: every one tried failed, or the last one
    failed with an error that does not fall over.

    Raised by ``ProviderConfig(fallbacks=...)``'s chain only when a fallback was tried: when
    the first provider's error does not fall over, that error is raised as it is. The last
    provider's error is the ``__cause__``.

    Attributes:
        failures: ``(provider name, model, error)`` of each provider tried, in order.
        skipped: The providers passed over for a context window no larger than needed.
    """

    def __init__(
        self,
        failures: Sequence[tuple[str, str | None, BaseException]],
        *,
        skipped: Sequence[str] = (),
        untried: int = 0,
    ) -> None:
        self.failures = tuple(failures)
        self.skipped = tuple(skipped)
        lines = [
            f"{number}. {name} (model {model or 'default'}): {_why(error)}"
            for number, (name, model, error) in enumerate(self.failures, 1)
        ]
        said = [f"No provider of the fallback chain answered. {'; '.join(lines)}."]
        if untried:
            said.append(
                f"The last error does not fall over (FallbackPolicy), so {untried} more "
                f"provider{'s were' if untried != 1 else ' was'} not tried."
            )
        if self.skipped:
            said.append(
                f"Skipped, as their context window is not larger than the one that refused "
                f"(ProviderConfig(max_context_tokens=...)): {', '.join(self.skipped)}."
            )
        said.append(
            "Check each provider's status and configuration; each error is on .failures, "
            "the last one is the __cause__."
        )
        super().__init__(" ".join(said))


def _why(error: BaseException) -> str:
    """``ServerError: [openai HTTP 503] busy``, on one line and cut to a few hundred chars."""
    text = " ".join(str(error).split())
    if len(text) > _SHOWN_CHARS:
        text = text[: _SHOWN_CHARS - 3] + "..."
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class CircuitOpenError(AetherError):
    """The circuit breaker is open: recent calls failed, so calls are refused for now.

    Attributes:
        provider: The provider's name, when known.
        retry_in: Seconds from when the error was raised until a trial call is let through
            (0 when trial calls are already in flight: retry shortly).
        failures: The consecutive failures that opened the circuit.
        half_open: True when the circuit is half-open and all its trial permits are taken.
    """

    def __init__(
        self, *, provider: str | None, retry_in: float, failures: int, half_open: bool = False
    ) -> None:
        self.provider = provider
        self.retry_in = max(0.0, retry_in)
        self.failures = failures
        self.half_open = half_open
        who = f" for {provider!r}" if provider else ""
        if half_open:
            message = (
                f"Circuit half-open{who} after {failures} consecutive failures: its trial "
                f"calls are in flight, so other calls are refused until one succeeds. "
                f"Retry shortly, or raise CircuitBreakerConfig.half_open_max_calls."
            )
        else:
            message = (
                f"Circuit open{who} after {failures} consecutive failures; calls are refused "
                f"for another {self.retry_in:.1f}s, then a trial call is let through. "
                f"Check the provider's status, or raise CircuitBreakerConfig.failure_threshold."
            )
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructor: rebuild from the attributes so pickling round-trips.
        return (
            _rebuild_circuit_open_error,
            (self.provider, self.retry_in, self.failures, self.half_open),
        )


def _rebuild_circuit_open_error(
    provider: str | None, retry_in: float, failures: int, half_open: bool
) -> CircuitOpenError:
    return CircuitOpenError(
        provider=provider, retry_in=retry_in, failures=failures, half_open=half_open
    )


# --- tools ---------------------------------------------------------------------------


class ToolError(AetherError):
    """A tool could not be run. Inside the tool loop these become tool-result content."""


class ToolNotFoundError(ToolError, LookupError):
    """No tool of that name is registered or provided by an installed tool pack."""


class ToolArgumentsError(ToolError, ValueError):
    """The arguments do not match the tool's signature."""


class ToolExecutionError(ToolError):
    """The tool raised; the original exception is the ``__cause__``."""


class MaxToolIterationsError(ToolError):
    """The model still asked for tools after ``max_tool_iterations`` rounds.

    Attributes:
        messages: The whole conversation so far, tool turns included, so the caller can
            inspect it or continue it with a higher cap.
        iterations: The cap that was hit.
    """

    def __init__(self, iterations: int, messages: list[Message]) -> None:
        self.iterations = iterations
        self.messages = messages
        super().__init__(
            f"The model still asked for tools after {iterations} tool "
            f"round{'s' if iterations != 1 else ''} (the max_tool_iterations cap); those last "
            f"calls were not run. Raise max_tool_iterations (or AETHER_MAX_TOOL_ITERATIONS), "
            f"or check that the tools return what the model needs; the conversation so far "
            f"is on .messages."
        )


class DeferredToolCallsError(ToolError):
    """The model called tools the loop cannot run: they were declared without a function.

    Not a failure: the caller runs them. Answer each call in :attr:`calls` with a ``tool``
    message and send the conversation back, with the same tools::

        try:
            answer = await client.ask(prompt, tools=tools)
        except DeferredToolCallsError as deferred:
            results = [
                Message(role="tool", tool_call_id=call.id, name=call.name,
                        content=run_it_myself(call.name, call.arguments))
                for call in deferred.calls
            ]
            answer = await client.ask([*deferred.messages, *results], tools=tools)

    The other calls of that round (tools with a function) have run already: their results
    are in :attr:`messages`.

    Attributes:
        calls: The calls to run, in the model's order.
        messages: The whole conversation so far: the request's messages, every tool round,
            the assistant turn holding :attr:`calls` and the results of its other calls.
    """

    def __init__(self, calls: list[ToolCall], messages: list[Message]) -> None:
        self.calls = calls
        self.messages = messages
        names = ", ".join(sorted({call.name for call in calls}))
        super().__init__(
            f"The model called {names}, declared without a function, so the tool loop "
            f"cannot run {'it' if len(calls) == 1 else 'them'}: run each call in .calls, "
            f"append a tool message answering it (tool_call_id=call.id) to .messages, and "
            f"call again with those messages and the same tools."
        )


# --- structured output ---------------------------------------------------------------


class OutputValidationError(AetherError):
    """The model's answer did not fit ``output_type``, and neither did its repairs.

    Every attempt was a billed call: the first answer, then one per repair (the errors sent
    back to the model as a follow-up turn), up to ``output_retries``. The model's text is kept
    on the error, never in its message: like any model text it may quote the prompt.

    Attributes:
        text: The last answer's text as the model gave it (in tool mode, the call's arguments
            as JSON).
        errors: What was wrong with it: pydantic's error list (``type``, ``loc``, ``msg``,
            ``input``).
        attempts: How many answers were read: 1 + the repairs made.
        output_name: The name of the expected type (``Invoice``).
        truncated: The last answer was cut at ``max_tokens`` (so it was not repaired: asking
            again would cut it again).
    """

    def __init__(
        self,
        *,
        text: str,
        errors: Sequence[Mapping[str, Any]],
        attempts: int,
        output_name: str,
        truncated: bool = False,
    ) -> None:
        self.text = text
        self.errors = [dict(error) for error in errors]
        self.attempts = attempts
        self.output_name = output_name
        self.truncated = truncated
        shown = "; ".join(
            f"{'.'.join(map(str, error.get('loc', ()))) or '(root)'}: {error.get('msg', '')}"
            for error in self.errors[:3]
        )
        more = f" (and {len(self.errors) - 3} more)" if len(self.errors) > 3 else ""
        tries = f"{attempts} answers" if attempts != 1 else "1 answer"
        fix = (
            "The answer was cut at max_tokens: raise max_tokens."
            if truncated
            else "Raise output_retries, make the type easier to fill (fewer constraints, "
            "clearer field descriptions), or try another output mode."
        )
        super().__init__(
            f"The model's answer did not fit {output_name} after {tries}: {shown}{more}. The "
            f"text is on .text, every error on .errors. {fix}"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructor: rebuild from the attributes so pickling round-trips.
        return (
            _rebuild_output_validation_error,
            (self.text, self.errors, self.attempts, self.output_name, self.truncated),
        )


def _rebuild_output_validation_error(
    text: str, errors: list[dict[str, Any]], attempts: int, output_name: str, truncated: bool
) -> OutputValidationError:
    return OutputValidationError(
        text=text, errors=errors, attempts=attempts, output_name=output_name, truncated=truncated
    )


# --- sessions ------------------------------------------------------------------------


class SessionStoreError(AetherError):
    """A session store could not load or save a conversation."""
