"""The lifecycle every provider built on :class:`~aether.http.HTTPProviderClient` shares."""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncGenerator, Callable, Coroutine
from contextlib import aclosing
from typing import Any, TypeVar

from aether.errors import AetherError, StreamInterruptedError, UnexpectedResponseError
from aether.http._client import HTTPProviderClient, answer_arrived
from aether.http._quoting import quote_wire, scrub_exception
from aether.http._settings import shown_url

__all__ = ["HTTPProviderBase"]

_Provider = TypeVar("_Provider", bound="HTTPProviderBase")
_MAX_CAUSE_CHARS = 300
_READING = "__aether_reads_answers__"  # marks a method already wrapped


def _name(provider: HTTPProviderBase) -> str:
    return str(getattr(provider, "name", type(provider).__name__))


def _unreadable(exc: Exception) -> str:
    """What went wrong reading an answer, for the message: the exception's type and text."""
    scrub_exception(exc)  # the exchange's secrets, and any request it holds
    shown = quote_wire(exc, limit=_MAX_CAUSE_CHARS, collapse=True, marker="...")
    return f"{type(exc).__name__}: {shown}"


def _reading_answers(
    complete: Callable[..., Coroutine[Any, Any, Any]],
) -> Callable[..., Coroutine[Any, Any, Any]]:
    @functools.wraps(complete)
    async def reading(self: HTTPProviderBase, *args: Any, **kwargs: Any) -> Any:
        try:
            return await complete(self, *args, **kwargs)
        except AetherError:
            raise
        except Exception as exc:
            if not answer_arrived():
                raise  # before any answer: the request itself, or a bug; shown as it is
            raise UnexpectedResponseError(
                f"Could not read the {_name(self)} answer ({_unreadable(exc)}): it does not "
                f"have the shape of the API's. A proxy or a server that only mimics the API "
                f"may have sent it: check the base URL ({shown_url(self.base_url)}); asking "
                f"again gets the same answer, so it is not retried.",
                provider=_name(self),
            ) from exc

    setattr(reading, _READING, True)
    return reading


def _reading_events(
    stream: Callable[..., AsyncGenerator[Any, None]],
) -> Callable[..., AsyncGenerator[Any, None]]:
    @functools.wraps(stream)
    async def reading(self: HTTPProviderBase, *args: Any, **kwargs: Any) -> Any:
        sent = 0
        try:
            async with aclosing(stream(self, *args, **kwargs)) as chunks:
                async for chunk in chunks:
                    yield chunk
                    sent += 1
        except AetherError:
            raise
        except Exception as exc:
            if not answer_arrived():
                raise
            raise StreamInterruptedError(
                f"Could not read an event of the {_name(self)} stream ({_unreadable(exc)}): "
                f"it does not have the shape of the API's; the answer is incomplete. Check "
                f"the base URL ({shown_url(self.base_url)}), then retry.",
                provider=_name(self),
                chunks_received=sent,
            ) from exc

    setattr(reading, _READING, True)
    return reading


class HTTPProviderBase:
    """A repr that never shows a secret, ``aclose`` and ``async with``, written once; and
    answers that cannot be read turned into typed errors.

    A provider subclasses it and sets ``default_model``, ``base_url`` and ``_http`` in its
    constructor; it still implements ``complete`` and ``stream`` itself::

        class AcmeProvider(HTTPProviderBase):
            name = "acme"

            def __init__(self, api_key: str) -> None:
                self.default_model, self.base_url = "acme-1", "https://api.acme.test/v1"
                self._http = HTTPProviderClient(provider="acme", base_url=self.base_url, ...)

    Whatever a subclass's ``complete`` or ``stream`` raises while reading an answer that
    arrived (a ``TypeError`` on a list where the API has a string, a ``KeyError``, a
    validation error) becomes an :class:`~aether.errors.UnexpectedResponseError` (never
    retried), or for a stream a :class:`~aether.errors.StreamInterruptedError` saying how
    many chunks were yielded, with the original as ``__cause__``. A hostile or mimicking
    server thus only ever causes Aether errors. What is raised before any answer arrived
    (building the request) is left as it is: it is not the server's doing.
    """

    default_model: str
    base_url: str
    _http: HTTPProviderClient

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        complete = cls.__dict__.get("complete")
        if inspect.iscoroutinefunction(complete) and not hasattr(complete, _READING):
            cls.complete = _reading_answers(complete)  # type: ignore[attr-defined]
        stream = cls.__dict__.get("stream")
        if inspect.isasyncgenfunction(stream) and not hasattr(stream, _READING):
            cls.stream = _reading_events(stream)  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(default_model={self.default_model!r}, "
            f"base_url={self.base_url!r})"
        )

    async def aclose(self) -> None:
        """Close the connection pool this provider created (a borrowed client stays open)."""
        await self._http.aclose()

    async def __aenter__(self: _Provider) -> _Provider:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
