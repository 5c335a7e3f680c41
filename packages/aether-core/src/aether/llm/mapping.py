"""What every provider's wire mapping shares: request checks and usage counts.

The bundled providers (and third-party ones) map :class:`~aether.llm.contracts.LLMRequest` to
their API's JSON and the answer back. The rules that do not depend on the wire format live here
once, so every provider applies them the same way:

    from aether.llm import Usage, check_tool_choice, token_count

    def build_payload(request: LLMRequest) -> dict[str, Any]:
        check_tool_choice(request, provider="acme")  # before anything is sent
        ...

    def usage_from_wire(usage: dict[str, Any]) -> Usage:
        return {"input_tokens": token_count(usage.get("prompt")), ...}
"""

from __future__ import annotations

from typing import TypedDict

from aether.errors import BadRequestError
from aether.llm.contracts import LLMRequest

__all__ = ["Usage", "check_tool_choice", "token_count"]

# Choices that mean something with or without tools: with none, both mean "answer in text",
# which is what a request without tools gets anyway.
_FINE_WITHOUT_TOOLS = frozenset({"auto", "none"})


def check_tool_choice(request: LLMRequest, *, provider: str) -> None:
    """Raise when ``request.tool_choice`` cannot be honoured with ``request.tools``.

    Providers call it while building the payload, so the mistake is reported before any
    network call and the same way by every provider; left to the APIs, one rejects it with a
    400 of its own wording and another quietly sends a choice that can never be met.

    ``None``, ``"auto"`` and ``"none"`` are always fine (without tools there is nothing to
    choose from, and no tools is what they then mean). ``"required"`` needs at least one tool;
    any other string names a tool, which must be one of ``request.tools``.

    Args:
        request: The call being mapped.
        provider: The provider's registered name, for the error.

    Raises:
        BadRequestError: ``tool_choice`` asks for a tool the request does not offer.
    """
    choice = request.tool_choice
    if choice is None or choice in _FINE_WITHOUT_TOOLS:
        return
    if not request.tools:
        raise BadRequestError(
            f"tool_choice={choice!r} needs tools, but the request has none: pass tools=[...], "
            f"or set tool_choice to 'auto', 'none' or None.",
            provider=provider,
        )
    if choice == "required":
        return
    names = [tool.name for tool in request.tools]
    if choice not in names:
        listed = ", ".join(repr(name) for name in names)
        raise BadRequestError(
            f"tool_choice names {choice!r}, which is not among the request's tools ({listed}): "
            f"name one of them, add that tool to tools=[...], or use 'auto', 'required' or "
            f"'none'.",
            provider=provider,
        )


class Usage(TypedDict, total=False):
    """Token counts of one answer, keyed like the usage fields of ``LLMResponse``.

    Ready to pass as keywords: ``LLMResponse(**usage, ...)``. A key is left out when the
    provider does not report that count, and the field's default (0) applies.
    """

    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int


def token_count(value: object) -> int:
    """``value`` when it is an int, else 0 (a missing, null or malformed count).

    ``bool`` is an ``int`` subclass, but ``true`` in a usage object is no count, so it is 0.
    """
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
