"""``shout``: the example's tool. It refuses by raising ``ToolError``, which the model reads."""

from __future__ import annotations

from aether.errors import ToolError

__all__ = ["shout"]

_MAX_CHARS = 2_000


def shout(text: str, times: int = 1) -> str:
    """Repeat ``text`` in capitals.

    Args:
        text: What to shout.
        times: How many times, 1 to 5.
    """
    if not 1 <= times <= 5:
        raise ToolError(f"Refused: times must be between 1 and 5, not {times}.")
    if len(text) > _MAX_CHARS:
        raise ToolError(f"Refused: text is {len(text)} characters; the limit is {_MAX_CHARS}.")
    return " ".join([text.upper()] * times)
