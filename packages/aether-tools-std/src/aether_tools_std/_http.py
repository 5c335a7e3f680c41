"""``http_get``: fetch a public web page for the model, with every guard a hostile URL needs.

Each hop (the first URL and every redirect) is checked and pinned by
:func:`~aether_tools_std._targets.check_url`; redirects are followed here, one at a time, up
to a hop limit. Proxy and ``.netrc`` settings from the environment are ignored
(``trust_env=False``), so they cannot route a refused URL elsewhere. The whole call, DNS
included, runs under one deadline; a server still sending when it passes is cut off and the
model gets what arrived, marked as cut.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import httpx

from aether.errors import ToolExecutionError
from aether_tools_std._body import BodyBuffer, UnsupportedEncoding, read_capped
from aether_tools_std._content import decode_text, is_text_type, looks_binary, size_text
from aether_tools_std._refusal import refused
from aether_tools_std._targets import check_url

__all__ = ["fetch"]


@dataclass(slots=True)
class _Head:
    url: str
    status: int
    reason: str
    content_type: str | None
    content_length: int | None
    charset: str | None
    encoding: str | None


@dataclass(slots=True)
class _Progress:
    """How far the fetch got, readable after the deadline cancelled it."""

    visited: list[str] = field(default_factory=list)
    head: _Head | None = None
    body: BodyBuffer = field(default_factory=BodyBuffer)
    skipped_body: bool = False


async def fetch(
    url: str, *, timeout: float, max_bytes: int, allow: frozenset[str], max_redirects: int
) -> str:
    """Fetch ``url`` and describe the response for the model.

    Args:
        url: The URL the model asked for.
        timeout: Seconds for everything: resolution, connections, redirects and body.
        max_bytes: Body bytes kept; the result says when the body was longer.
        allow: Normalised private host names and addresses the operator allowed.
        max_redirects: Redirects followed before giving up.

    Raises:
        ToolExecutionError: The URL (or a redirect) was refused, the server could not be
            reached, or nothing arrived before the deadline.
    """
    progress = _Progress()
    try:
        return await asyncio.wait_for(
            _fetch(url, progress, timeout, max_bytes, allow, max_redirects), timeout
        )
    except (asyncio.TimeoutError, httpx.TimeoutException) as exc:
        if progress.head is not None:  # the server answered; show what arrived, marked as cut
            return _render(progress, max_bytes, deadline=timeout)
        raise ToolExecutionError(
            f"{url} did not answer within the {timeout:g}s deadline; the server is slow or "
            f"unreachable. Try again later or use another source."
        ) from exc


async def _fetch(
    url: str,
    progress: _Progress,
    timeout: float,
    max_bytes: int,
    allow: frozenset[str],
    max_redirects: int,
) -> str:
    current = url
    for _ in range(max_redirects + 1):
        target = await check_url(current, allow=allow)
        progress.visited.append(str(target.url))
        # A client per hop: a pooled connection made for one host name must not be reused
        # for another that happens to share its address (its certificate was not checked).
        async with httpx.AsyncClient(
            trust_env=False, follow_redirects=False, timeout=timeout
        ) as client:
            try:
                response = await client.send(target.build_request(client), stream=True)
            except httpx.TimeoutException:
                raise
            except httpx.HTTPError as exc:
                raise ToolExecutionError(
                    f"Could not fetch {target.url}: {type(exc).__name__}: {exc or 'no detail'}."
                ) from exc
            try:
                target.check_peer(response)
                location = response.headers.get("location")
                if response.is_redirect and location is not None:
                    current = _redirect_target(target.url, location)
                    continue
                progress.head = _head(target.url, response)
                await _read_body(response, progress, max_bytes)
            except httpx.TimeoutException:
                raise
            except httpx.HTTPError as exc:
                raise ToolExecutionError(
                    f"Reading {target.url} failed: {type(exc).__name__}: {exc or 'no detail'}."
                ) from exc
            finally:
                await response.aclose()
        return _render(progress, max_bytes)
    raise refused(f"{url} redirected more than {max_redirects} times (last: {current}); giving up.")


def _redirect_target(base: httpx.URL, location: str) -> str:
    try:
        return str(base.join(location))
    except (httpx.InvalidURL, ValueError) as exc:
        raise refused(f"{base} redirected to an invalid URL {location!r}.") from exc


def _head(url: httpx.URL, response: httpx.Response) -> _Head:
    length = response.headers.get("content-length")
    return _Head(
        url=str(url),
        status=response.status_code,
        reason=response.reason_phrase,
        content_type=response.headers.get("content-type"),
        content_length=int(length) if length is not None and length.isdigit() else None,
        charset=response.charset_encoding,
        encoding=response.headers.get("content-encoding"),
    )


async def _read_body(response: httpx.Response, progress: _Progress, max_bytes: int) -> None:
    assert progress.head is not None
    if is_text_type(progress.head.content_type) is False:
        progress.skipped_body = True  # described from the headers; no need to download it
        return
    try:
        await read_capped(response, max_bytes, progress.body)
    except UnsupportedEncoding as exc:
        raise ToolExecutionError(
            f"{progress.head.url} answered with content compressed as {exc}, which http_get "
            f"does not decode."
        ) from exc


def _render(progress: _Progress, max_bytes: int, *, deadline: float | None = None) -> str:
    head = progress.head
    assert head is not None
    lines = [f"URL: {head.url}"]
    if len(progress.visited) > 1:
        lines.append(f"Redirected from: {' -> '.join(progress.visited[:-1])}")
    lines.append(f"Status: {head.status} {head.reason}".rstrip())
    lines.append(f"Content-Type: {head.content_type or '(not given)'}")
    body = bytes(progress.body.data)
    kind = head.content_type.split(";", 1)[0].strip() if head.content_type else "unlabelled"
    if progress.skipped_body or looks_binary(body):
        if head.content_length is not None and head.encoding in {None, "", "identity"}:
            size = size_text(head.content_length)
        elif progress.body.complete:
            size = size_text(len(body))
        else:
            size = f"at least {size_text(len(body))}" if body else "size not given"
        lines += ["", f"[Binary content ({kind}, {size}) not shown.]"]
        return "\n".join(lines)
    text, replaced = decode_text(body, head.charset, complete=progress.body.complete)
    lines += ["", text]
    if replaced:
        lines.append(
            f"[Note: some bytes were not valid {head.charset or 'UTF-8'} and are shown as \ufffd.]"
        )
    if progress.body.truncated:
        # Content-Length counts compressed bytes when the server compressed the body.
        known = head.content_length is not None and head.encoding in {None, "", "identity"}
        of = f" of {size_text(head.content_length)}" if known and head.content_length else ""
        lines.append(
            f"[Truncated: showing the first {size_text(max_bytes)}{of}; the rest was not read.]"
        )
    elif deadline is not None:
        lines.append(
            f"[Cut off: the server was still sending when the {deadline:g}s deadline passed; "
            f"showing the {size_text(len(body))} received.]"
        )
    return "\n".join(lines)
