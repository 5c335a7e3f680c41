"""Wire data as message text, every secret masked in every form it can take there.

A server may send the API key back: in its error message ("Incorrect API key provided:
..."), in a header, in a web page quoting the request. An HTTP library may name the header
it refused in its exception's text (h11 shows the value as a bytes repr), and its exception
keeps the request, headers and all. :func:`quote_wire` is the one way Aether puts anything
read from the wire into a message, and :func:`scrub_exception` the one way an exception
that may hold a secret leaves Aether.

A secret is recognised in each of these forms (and in each form of the secret with its
surrounding whitespace stripped): as it is; escaped as JSON (``\\u201c``, either hex case,
``\\/``), as a Python ``repr`` of the text or of its UTF-8 bytes, or ``unicode_escape``d;
percent-encoded (either hex case, ``+`` for spaces) or HTML-escaped; and as mojibake, its
UTF-8 bytes read as Latin-1 or Windows-1252, its UTF-16 bytes read as Latin-1, or its
Latin-1/Windows-1252 bytes read as UTF-8; and each of these lower- or upper-cased. In each
form, the whole secret and any run of :data:`FRAGMENT_CHARS` or more of its characters are
masked (a server that cut the key, or a key split across two stream events), and so is any
piece of :data:`EDGE_CHARS` or more at either end of the quoted text (where a cut may have
fallen). Masking happens before
truncation, over enough of the text past the cut to see a secret straddling it. A secret
shorter than :data:`MIN_SECRET_CHARS` is not masked: it would blank ordinary words.

Besides the secrets a call names, those of the last exchange the current task (more exactly,
the current :mod:`contextvars` context) made through an :class:`~aether.http.HTTPProviderClient`
are masked: a provider's own mapping code, which turns an answer into an error after the
exchange, quotes with ``quote_wire(value)`` and the key is masked without being handed to it.
The HTTP libraries' own log records (httpcore's DEBUG trace prints response headers, httpx's
INFO line the reason phrase) are masked the same way, by a filter on their loggers
(:func:`mask_wire_logs`).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import html
import json
import logging
import re
import sys
import traceback
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = [
    "EDGE_CHARS",
    "FRAGMENT_CHARS",
    "MASK",
    "MIN_SECRET_CHARS",
    "MaskedError",
    "quote_wire",
    "scrub_exception",
    "secret_forms",
]

MASK = "***"
"""What a masked secret, or a piece of one, reads as."""
MIN_SECRET_CHARS = 4
"""Shorter secrets are not masked."""
FRAGMENT_CHARS = 8
"""Any run of this many characters of a secret, in any of its forms, is masked."""
EDGE_CHARS = 4
"""A piece of a secret this long at either end of a quoted text is masked."""

# Any FRAGMENT_CHARS-long run of a form holds one of its aligned blocks of half that length,
# so the text is searched for the blocks (str.find, at C speed) and only their hits are
# extended.
_BLOCK = FRAGMENT_CHARS // 2
_SCAN_CHARS = 4096
_KEPT_CHARS = 65536  # of a text an exception holds, once scrubbed
_CUT = "... (cut when masked)"
_EXCHANGE_SECRETS: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "aether_http_exchange_secrets", default=()
)
_JSON_HEX = re.compile(r"\\u([0-9a-f]{4})")
_PERCENT_HEX = re.compile(r"%[0-9A-F]{2}")


def _cp1252(data: bytes) -> str:
    """``data`` read as Windows-1252 the way browsers do (its 5 holes read as Latin-1)."""
    return "".join(bytes([byte]).decode("cp1252", "ignore") or chr(byte) for byte in data)


def _readings(secret: str) -> set[str]:
    """The texts the bytes of ``secret`` come back as when a server or a client misreads them."""
    utf8 = secret.encode("utf-8", "surrogatepass")
    found = {secret, utf8.decode("latin-1"), _cp1252(utf8)}
    for encoding in ("utf-16-le", "utf-16-be"):
        found.add(secret.encode(encoding, "surrogatepass").decode("latin-1"))
    for encoding in ("latin-1", "cp1252"):
        with contextlib.suppress(UnicodeEncodeError):  # not every secret has these bytes
            found.add(secret.encode(encoding).decode("utf-8", "replace"))
    # Header names, media types and some servers' messages are case-folded.
    found |= {text.lower() for text in found} | {text.upper() for text in found}
    return found


def _escapes(text: str) -> set[str]:
    """``text`` as JSON, a repr, a URL or HTML would escape it."""
    as_json = json.dumps(text)[1:-1]
    found = {
        text,
        as_json,
        _JSON_HEX.sub(lambda m: "\\u" + m.group(1).upper(), as_json),
        json.dumps(text, ensure_ascii=False)[1:-1],
    }
    found |= {form.replace("/", "\\/") for form in found}
    found.add(repr(text)[1:-1])
    found.add(repr(text.encode("utf-8", "surrogatepass"))[2:-1])
    found.add(text.encode("unicode_escape").decode("ascii"))
    for encoded in (quote(text, safe=""), quote(text), quote_plus(text, safe="")):
        found.add(encoded)
        found.add(_PERCENT_HEX.sub(lambda m: m.group(0).lower(), encoded))
    found.add(html.escape(text))
    return found


def secret_forms(secret: str) -> frozenset[str]:
    """Every form ``secret`` is recognised in (see the module's documentation)."""
    forms: set[str] = set()
    for base in {secret, secret.strip()}:
        for reading in _readings(base):
            forms |= _escapes(reading)
    return frozenset(form for form in forms if len(form) >= MIN_SECRET_CHARS)


class _Masker:
    """Finds and masks the forms of a fixed set of secrets."""

    __slots__ = ("_blocks", "_heads", "_short", "_tails", "longest")

    def __init__(self, forms: Iterable[str]) -> None:
        ordered = sorted(set(forms), key=len, reverse=True)
        self._short = tuple(form for form in ordered if len(form) < FRAGMENT_CHARS)
        self.longest = len(ordered[0]) if ordered else 0
        # The pieces an edge rule looks for; longer ones are runs, found as such.
        sizes = range(EDGE_CHARS, FRAGMENT_CHARS)
        self._heads = frozenset(form[:size] for form in ordered for size in sizes)
        self._tails = frozenset(form[-size:] for form in ordered for size in sizes)
        blocks: dict[str, list[tuple[str, int]]] = {}
        for form in ordered:
            if len(form) >= FRAGMENT_CHARS:
                for at in range(0, len(form) - _BLOCK + 1, _BLOCK):
                    blocks.setdefault(form[at : at + _BLOCK], []).append((form, at))
        self._blocks = blocks

    def _spans(self, text: str) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        for hit, places in self._block_hits(text):
            for form, at in places:
                start, end = _run(text, hit, form, at)
                if end - start >= FRAGMENT_CHARS:
                    spans.append((start, end))
        for form in self._short:
            hit = text.find(form)
            while hit != -1:
                spans.append((hit, hit + len(form)))
                hit = text.find(form, hit + 1)
        size = len(text)
        for length in range(min(FRAGMENT_CHARS - 1, size), EDGE_CHARS - 1, -1):
            if text[size - length :] in self._heads:
                spans.append((size - length, size))
                break
        for length in range(min(FRAGMENT_CHARS - 1, size), EDGE_CHARS - 1, -1):
            if text[:length] in self._tails:
                spans.append((0, length))
                break
        return spans

    def _block_hits(self, text: str) -> Iterator[tuple[int, list[tuple[str, int]]]]:
        """Where ``text`` holds a block, with the forms and offsets it stands for."""
        blocks = self._blocks
        if len(text) <= _SCAN_CHARS:  # a lookup per position beats a search per block
            for hit in range(len(text) - _BLOCK + 1):
                places = blocks.get(text[hit : hit + _BLOCK])
                if places is not None:
                    yield hit, places
            return
        for block, places in blocks.items():
            hit = text.find(block)
            while hit != -1:
                yield hit, places
                hit = text.find(block, hit + 1)

    def mask(self, text: str) -> str:
        """``text`` with every form, run and edge piece of a secret replaced by :data:`MASK`."""
        spans = self._spans(text)
        if not spans:
            return text
        spans.sort()
        merged = [list(spans[0])]
        for start, end in spans[1:]:
            if start <= merged[-1][1]:  # overlapping or touching: one mask
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        out: list[str] = []
        shown = 0
        for start, end in merged:
            out += (text[shown:start], MASK)
            shown = end
        out.append(text[shown:])
        return "".join(out)

    def holds(self, text: str) -> bool:
        """Whether ``text`` holds anything :meth:`mask` would mask."""
        return bool(self._spans(text))


def _run(text: str, hit: int, form: str, at: int) -> tuple[int, int]:
    """The span of ``text`` around ``hit`` that matches ``form`` around ``at``."""
    before = 0
    start = min(hit, at)
    while before < start and text[hit - before - 1] == form[at - before - 1]:
        before += 1
    after = _BLOCK
    end = min(len(text) - hit, len(form) - at)
    while after < end and text[hit + after] == form[at + after]:
        after += 1
    return hit - before, hit + after


@functools.lru_cache(maxsize=64)
def _masker_of(secrets: tuple[str, ...]) -> _Masker | None:
    forms: set[str] = set()
    for secret in secrets:
        if len(secret.strip()) >= MIN_SECRET_CHARS:
            forms |= secret_forms(secret)
    return _Masker(forms) if forms else None


def _masker(secrets: Iterable[str]) -> _Masker | None:
    given = [secret for secret in secrets if secret]
    return _masker_of(tuple(dict.fromkeys([*given, *_EXCHANGE_SECRETS.get()])))


def exchange_secrets(secrets: tuple[str, ...]) -> None:
    """Mask ``secrets`` in every quote made in the current context from now on.

    Set by :class:`~aether.http.HTTPProviderClient` as each exchange starts (its own
    secrets, those of its headers included), so what a provider quotes of that exchange's
    answer afterwards is masked too.
    """
    if _EXCHANGE_SECRETS.get() is not secrets:
        _EXCHANGE_SECRETS.set(secrets)


def _text_of(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    try:
        if isinstance(value, BaseException):
            return str(value) or type(value).__name__
        return json.dumps(value, ensure_ascii=False, default=str)
    except Exception:  # a hostile value: too deep to print, or a __str__ that raises
        return f"<{type(value).__name__} that cannot be shown>"


def quote_wire(
    value: object,
    secrets: Iterable[str] = (),
    *,
    limit: int | None = None,
    collapse: bool = False,
    marker: str = "",
) -> str:
    """``value``, read from the wire, as text fit for a message: secrets masked, then cut.

    The one way Aether quotes a body, a header, an event or an exception's text in a
    message, so that no configured secret shows in any form (see the module's documentation).

        quote_wire(response_body, secrets=(api_key,), limit=200, collapse=True)

    Args:
        value: Text; bytes (read as UTF-8); an exception (its text, else its type's name);
            anything else as JSON (``str`` for what JSON cannot hold).
        secrets: What to mask besides the secrets of the current context's last exchange
            (see the module's documentation): the API key, any credential a header carries.
        limit: Most characters shown; None: all of them.
        collapse: Runs of whitespace (newlines included) shown as one space.
        marker: Appended when the text was cut, e.g. ``"... (truncated)"``.
    """
    text = _text_of(value)
    if collapse:
        text = " ".join(text.split())
    masker = _masker(secrets)
    if limit is None or len(text) <= limit:
        return masker.mask(text) if masker is not None else text
    if masker is None:
        return text[:limit] + marker
    return _cut(text, limit, masker) + marker


def _cut(text: str, limit: int, masker: _Masker) -> str:
    """At most ``limit`` characters of the start of ``text``, masked before and after the cut.

    Masked over enough past the cut to see a secret that straddles it; the new end is
    masked again, as a piece of a secret the text itself held may end there.
    """
    window = masker.mask(text[: limit + masker.longest])
    return window if len(window) <= limit else masker.mask(window[:limit])


def _kept(text: str, masker: _Masker) -> str:
    return _cut(text, _KEPT_CHARS, masker) + _CUT


# The loggers of the HTTP libraries whose records quote what a server sent. A filter only
# sees the records of the logger it is on, not of its children, hence each one by name.
_WIRE_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "aiohttp.client",
    "aiohttp.internal",
)


class _WireLogMasking(logging.Filter):
    """Masks the secrets of the current exchange in the records of an HTTP library."""

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = _EXCHANGE_SECRETS.get()
        if secrets:
            try:
                text = record.getMessage()
            except Exception:  # a broken record is logging's to report, as it would be
                return True
            record.msg, record.args = quote_wire(text, secrets), None
        return True


_WIRE_LOG_MASKING = _WireLogMasking()


def mask_wire_logs() -> None:
    """Mask the current exchange's secrets in what the HTTP libraries log; idempotent.

    Costs nothing while those loggers are off (the default): a disabled level is refused
    before any filter runs.
    """
    for name in _WIRE_LOGGERS:
        logger = logging.getLogger(name)
        if _WIRE_LOG_MASKING not in logger.filters:
            logger.addFilter(_WIRE_LOG_MASKING)


class MaskedError(Exception):
    """Stands in, in a chain of exceptions, for one whose text held a secret in a way that
    could not be masked in place: its type's name and its text, masked."""


def _bare_request(request: Any, masker: _Masker | None) -> Any:
    """An ``httpx.Request`` with the method and URL of ``request``, and no headers nor body."""
    httpx = sys.modules["httpx"]
    url = request.url.copy_with(userinfo=b"")
    if masker is not None and masker.holds(str(url)):
        url = httpx.URL(masker.mask(str(url)))
    return httpx.Request(request.method, url)


def _masked(value: Any, masker: _Masker | None) -> Any:
    """``value`` with what it holds of a secret masked, when it is text or a request.

    Text past :data:`_KEPT_CHARS` (a ``JSONDecodeError`` holds the whole body) is cut, so
    scrubbing costs the same whatever a server sent.
    """
    if masker is not None:
        if isinstance(value, str):
            return masker.mask(value) if len(value) <= _KEPT_CHARS else _kept(value, masker)
        if isinstance(value, bytes):
            text = value.decode("latin-1")
            shown = masker.mask(text) if len(text) <= _KEPT_CHARS else _kept(text, masker)
            return shown.encode("latin-1", "replace")
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return [masker.mask(item) for item in value]  # __notes__
    httpx = sys.modules.get("httpx")
    if httpx is not None:
        if isinstance(value, httpx.Request):
            return _bare_request(value, masker)
        if isinstance(value, httpx.Response) and getattr(value, "_request", None) is not None:
            value._request = _bare_request(value._request, masker)
            return value
    aiohttp = sys.modules.get("aiohttp")
    if aiohttp is not None and isinstance(value, aiohttp.RequestInfo):
        from multidict import CIMultiDict, CIMultiDictProxy  # aiohttp's own dependency

        return value._replace(headers=CIMultiDictProxy(CIMultiDict()))
    return value


def _scrub(error: BaseException, masker: _Masker | None) -> None:
    """Mask ``error``'s texts in place and drop the request headers it holds."""
    if masker is not None:
        error.args = tuple(_masked(arg, masker) for arg in error.args)
        if isinstance(error, (UnicodeEncodeError, UnicodeDecodeError, UnicodeTranslateError)):
            error.object = _masked(error.object, masker)
    for name, value in list(vars(error).items()):
        cleaned = _masked(value, masker)
        if cleaned is not value:
            setattr(error, name, cleaned)


def _shown(error: BaseException) -> str:
    """All that printing ``error`` alone shows: its repr and its traceback's last lines."""
    try:
        return repr(error) + "".join(traceback.format_exception_only(error))
    except Exception:
        return repr(type(error))


def scrub_exception(error: BaseException, secrets: Iterable[str] = ()) -> None:
    """Mask ``secrets`` in ``error`` and in every exception chained to it; drop their requests.

    In place, so ``raise AetherError(...) from error`` keeps the very exception (its type
    and attributes, for callers that inspect ``__cause__``). Each one's arguments and text
    attributes are masked (:func:`quote_wire`'s forms); an ``httpx.Request`` it holds is
    replaced by one with the same method and URL but no headers nor body, and aiohttp's
    ``request_info`` loses its headers, so the ``Authorization`` header does not leave
    Aether on a ``__cause__`` or ``__context__``. A chained exception whose text still holds
    a secret after that is replaced in the chain by a :class:`MaskedError`.
    """
    masker = _masker(secrets)
    _scrub(error, masker)
    seen = {id(error)}
    todo = [error]
    while todo:
        node = todo.pop()
        for link in ("__cause__", "__context__"):
            child: BaseException | None = getattr(node, link)
            if child is None or id(child) in seen:
                continue
            seen.add(id(child))
            _scrub(child, masker)
            if masker is not None and masker.holds(_shown(child)):
                stand_in = MaskedError(f"{type(child).__name__}: {quote_wire(child, secrets)}")
                stand_in.__cause__ = child.__cause__
                stand_in.__context__ = child.__context__
                stand_in.__suppress_context__ = child.__suppress_context__
                stand_in.__traceback__ = child.__traceback__
                suppress = node.__suppress_context__  # setting __cause__ would change it
                setattr(node, link, stand_in)
                node.__suppress_context__ = suppress
                child = stand_in
            todo.append(child)
