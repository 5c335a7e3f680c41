"""How the tools refuse: a ``ToolExecutionError`` whose message starts with ``Refused:``.

Dispatch turns it into the tool result ``"Error: Refused: ..."`` (the model can tell the
user) and fires ``tool.error``, so operators see every refusal.
"""

from __future__ import annotations

from aether.errors import ToolExecutionError

__all__ = ["refused"]


def refused(message: str) -> ToolExecutionError:
    """The error to raise for a refusal; ``message`` says why, for the model."""
    return ToolExecutionError(f"Refused: {message}")
