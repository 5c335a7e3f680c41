"""``CallOptions``: the keywords of one model call, gathered once and passed on as one value.

``Aether.ask``, ``complete``, ``stream``, ``stream_text`` and ``stream_output``, the same
methods of :class:`~aether.memory.session.Session`, and :func:`aether.ask` spell their keywords
out in their signatures, so editors and type checkers show each one; each builds one
``CallOptions`` on entry, and everything beneath takes that. A new keyword goes into the public
signatures and into this type, not into every call that passes the keywords on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

# Annotations only: the client imports this module, and the client is what defines ToolsArg.
if TYPE_CHECKING:
    from aether.client import ToolsArg
    from aether.llm.contracts import ToolChoice
    from aether.llm.output import Output
    from aether.llm.settings import CallSettings

__all__ = ["CallOptions"]


class CallOptions(NamedTuple):
    """What one call asks for besides its prompt; None: not given (see :meth:`Aether.ask
    <aether.Aether.ask>` for each).

    A ``NamedTuple``: immutable like a frozen dataclass, and built on every call for about a
    third of one's cost.
    """

    tools: ToolsArg = None
    model: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    stop: str | Sequence[str] | None = None
    tool_choice: ToolChoice | None = None
    allowed_tools: Sequence[str] | None = None
    max_tool_iterations: int | None = None
    tool_timeout: float | None = None
    settings: CallSettings | None = None
    output_type: type[Any] | Output[Any] | None = None
    cache: bool | None = None
    """The response cache for this call: None its rules, False skip it, True use it anyway."""

    @property
    def plain(self) -> bool:
        """Whether nothing but ``model``, ``cache`` and the tool loop's limits is given.

        Such a call sends its messages as they are: no setting to merge or check, no tool
        to declare, no answer type to ask for.
        """
        return (
            not self.tools
            and not self.settings
            and self.temperature is None
            and self.max_tokens is None
            and self.stop is None
            and self.tool_choice is None
            and self.allowed_tools is None
            and self.output_type is None
        )
