"""Request bodies as JSON bytes, base64 data copied in rather than escaped.

Images, audio and documents travel in JSON as base64 text. ``json.dumps`` escapes a string one
character at a time, which for a megabyte of base64 (text that never needs escaping) costs more
than the encoding itself, and the text is then encoded to UTF-8 once more. A provider puts a
:class:`Base64Data` where its API takes such text; :func:`dumps` writes the rest of the body
with ``json.dumps`` and copies the encoded bytes in as they are.
"""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

__all__ = ["Base64Data", "dumps"]


class Base64Data:
    """``prefix`` then the base64 of ``data``: text in a JSON request body, written cheaply.

        {"image_url": {"url": Base64Data(png, prefix="data:image/png;base64,")}}

    :meth:`HTTPProviderClient.post_json <aether.http.HTTPProviderClient.post_json>` and
    ``stream_sse`` write it as that text, encoding ``data`` once and never escaping it. It
    compares equal to the text (:attr:`text`), so a body holding one compares like the body
    that is sent.

    Args:
        data: The bytes.
        prefix: Text before the base64, such as a data URL's ``data:<media type>;base64,``.
    """

    __slots__ = ("data", "prefix")

    def __init__(self, data: bytes, prefix: str = "") -> None:
        self.data = data
        self.prefix = prefix

    @property
    def text(self) -> str:
        """The text this stands for, built on each read (for comparisons and display)."""
        return self.prefix + base64.b64encode(self.data).decode("ascii")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Base64Data):
            return self.prefix == other.prefix and self.data == other.data
        if isinstance(other, str):
            return self.text == other
        return NotImplemented

    def __repr__(self) -> str:  # never the data: it may be a megabyte, or private
        return f"Base64Data(prefix={self.prefix!r}, size={len(self.data)})"


# Stands for each Base64Data while the rest is written: random, so no text a caller sends can
# be taken for it, and with a NUL, which JSON escapes, so it is found only where it was put.
_MARK = f"\x00base64:{secrets.token_hex(8)}\x00"
_MARK_IN_JSON = json.dumps(_MARK)[1:-1].encode("ascii")


def dumps(payload: Any) -> bytes:
    """``payload`` as compact UTF-8 JSON; each :class:`Base64Data` in it written as its text.

    Raises:
        TypeError: Something in ``payload`` is not JSON, as from ``json.dumps``.
    """
    try:
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    except TypeError:
        pass  # a Base64Data, or something that is not JSON: the second pass tells which
    else:
        return text.encode("utf-8")  # the common body, with no data in it: one pass
    found: list[Base64Data] = []

    def mark(value: object) -> str:
        if isinstance(value, Base64Data):
            found.append(value)
            return _MARK
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    marked = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=mark)
    pieces = marked.encode("utf-8").split(_MARK_IN_JSON)
    body = [pieces[0]]
    for data, after in zip(found, pieces[1:], strict=True):
        prefix = json.dumps(data.prefix, ensure_ascii=False)[1:-1].encode("utf-8")
        body += (prefix, base64.b64encode(data.data), after)
    return b"".join(body)
