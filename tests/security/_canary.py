"""A canary API key, the forms a server may echo it in, and the check that none of it shows.

The check is strict on purpose: no run of :data:`RUN` characters of the key may appear in
any text an error, an event or a log record can show, whatever form the rest is in.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote

import httpx

CANARY = "sk-canary-Zq7XvB3mN9pL2wK8rT5yH4jD6fG1sA0c"
"""An ASCII key, as a header carries it."""
WIDE_CANARY = "sk-canary-\u201cZq7XvB3mN9pL2wK8rT5yH4jD6fG1sA0c\u201d"
"""A key with smart quotes: refused by configuration, so only given as a secret to mask."""
RUN = 8


def runs(secret: str = CANARY) -> set[str]:
    """Every :data:`RUN`-character substring of ``secret``."""
    return {secret[i : i + RUN] for i in range(len(secret) - RUN + 1)}


_RUNS = runs(CANARY) | runs(WIDE_CANARY)


def leaked(text: str) -> set[str]:
    """The runs of either canary found in ``text``."""
    return {run for run in _RUNS if run in text}


def assert_clean(*texts: str) -> None:
    for text in texts:
        found = leaked(text)
        assert not found, f"{len(found)} runs of the canary key in: {text[:2000]!r}"


def echoes(key: str = CANARY) -> dict[str, str]:
    """The key as servers send it back: whole, escaped, cut, split, mojibake."""
    half = len(key) // 2
    return {
        "raw": f"Incorrect API key provided: {key}. You can find your key at the dashboard.",
        "json-escaped": json.dumps({"quoted": key})[1:-1],
        "repr-escaped": f"Illegal header value {(f'Bearer {key}' + chr(10)).encode()!r}",
        "percent": f"GET /v1?key={quote(key, safe='')}",
        "split": f"key starts {key[:half]} and ends {key[half:]}",
        "straddling": "x" * 480 + key + " and more after it",
        "cut": f"your key {key[: half + 6]}",
        "mojibake": f"key {key.encode().decode('latin-1')} seen",
        "mojibake-1252": f"key {key.encode().decode('cp1252', 'replace')} seen",
    }


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException] = [error]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        todo.extend(link for link in (node.__cause__, node.__context__) if link is not None)


def error_texts(error: BaseException) -> list[str]:
    """What ``error`` shows: str, repr, the whole formatted chain, every chained exception's
    attributes, and the headers of any request one of them holds."""
    texts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    for node in _chain(error):
        texts += [str(node), repr(node), repr(vars(node)), repr(node.args)]
        request = vars(node).get("_request")
        if isinstance(request, httpx.Request):
            texts.append(repr(request.headers.raw))
        info = getattr(node, "request_info", None)
        if info is not None:
            texts.append(repr(dict(info.headers)))
    return texts


def assert_error_clean(error: BaseException) -> None:
    assert_clean(*error_texts(error))
    for node in _chain(error):
        request = vars(node).get("_request")
        if isinstance(request, httpx.Request):
            assert "authorization" not in request.headers, "a chained request kept its headers"


def payload_texts(values: Iterable[Any]) -> list[str]:
    """repr of each value, and the texts of any error it holds."""
    texts: list[str] = []
    for value in values:
        texts.append(repr(value))
        error = getattr(value, "error", None)
        if isinstance(error, BaseException):
            texts += error_texts(error)
    return texts
