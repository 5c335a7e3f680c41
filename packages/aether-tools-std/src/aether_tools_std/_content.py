"""Turning bytes into something a model can read: text decoded, binary only described.

Dumping an image or an archive into the conversation wastes the context window and can
confuse the model, so binary content is summarised (type and size) instead. Text that is not
valid in its encoding is shown with U+FFFD in place of the bad bytes, and the result says so.
"""

from __future__ import annotations

import codecs
from typing import Final

__all__ = ["decode_text", "is_text_type", "looks_binary", "size_text"]

# Bytes examined to guess whether unlabelled content is text.
SNIFF_BYTES: Final = 8192

_TEXT_SUBTYPES: Final = frozenset(
    {
        "json",
        "xml",
        "javascript",
        "ecmascript",
        "x-javascript",
        "x-www-form-urlencoded",
        "yaml",
        "x-yaml",
        "toml",
        "csv",
        "x-sh",
        "x-python",
        "sql",
        "graphql",
        "markdown",
        "ndjson",
        "x-ndjson",
    }
)

_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# Control characters other than tab, newline, form feed and carriage return (and ESC,
# which terminal output uses) rarely occur in text.
_CONTROL: Final = bytes(set(range(32)) - {8, 9, 10, 12, 13, 27})


def is_text_type(content_type: str | None) -> bool | None:
    """Whether a ``Content-Type`` denotes text; None when absent or not telling.

    ``text/*``, JSON, XML, JavaScript and the ``+json``/``+xml`` suffixes are text; other
    ``image/``, ``audio/``, ``video/``, ``font/`` and ``application/`` types are not.
    """
    if not content_type:
        return None
    media = content_type.split(";", 1)[0].strip().lower()
    kind, _, subtype = media.partition("/")
    if kind == "text":
        return True
    if subtype in _TEXT_SUBTYPES or subtype.endswith(("+json", "+xml", "+yaml")):
        return True
    if kind in {"image", "audio", "video", "font", "model", "application", "multipart"}:
        return False
    return None


def looks_binary(sample: bytes) -> bool:
    """Guess from the first bytes: a NUL or many control characters mean binary.

    Text in UTF-16/32 carries NULs, so a byte-order mark vouches for text.
    """
    sample = sample[:SNIFF_BYTES]
    if any(sample.startswith(bom) for bom, _ in _BOMS):
        return False
    if b"\x00" in sample:
        return True
    if not sample:
        return False
    controls = sum(sample.count(byte) for byte in _CONTROL)
    return controls / len(sample) > 0.1


def decode_text(data: bytes, encoding: str | None, *, complete: bool) -> tuple[str, bool]:
    """Decode ``data`` as text; return it and whether any bytes had to be replaced.

    A byte-order mark wins over ``encoding``; an unknown ``encoding`` falls back to UTF-8.

    Args:
        data: The bytes.
        encoding: The declared charset, if any (default: UTF-8).
        complete: False when ``data`` was cut short, so a character split at the end is
            dropped rather than reported as an error.
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            encoding = name
            break
    try:
        factory = codecs.getincrementaldecoder(encoding or "utf-8")
    except LookupError:
        factory = codecs.getincrementaldecoder("utf-8")
    try:
        return factory(errors="strict").decode(data, final=complete), False
    except UnicodeDecodeError:
        return factory(errors="replace").decode(data, final=complete), True


def size_text(size: int) -> str:
    """``12,345 bytes`` (``1 byte``)."""
    return "1 byte" if size == 1 else f"{size:,} bytes"
