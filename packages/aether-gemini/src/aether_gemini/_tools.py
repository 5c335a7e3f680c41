"""``tool_choice``, ``allowed_tools`` and ``ToolSpec.strict`` as Gemini's ``functionCallingConfig``.

Gemini has no per-tool strict flag. Its ``VALIDATED`` mode holds every function call to its
declared schema by constrained decoding, so a request with a strict tool and ``tool_choice``
``auto`` (or unset) is sent in that mode; ``required`` or a tool's name is mode ``ANY``, which
constrains the model to a call of a declared function. ``allowed_tools`` becomes
``allowedFunctionNames`` (mode ``ANY`` when a call is required, ``VALIDATED`` when the model
may also answer in text); a model without ``VALIDATED`` (Gemini 2.0) is offered only the
allowed tools instead, which means the same to it.
"""

from __future__ import annotations

from typing import Any

from aether.config import warn_once
from aether.errors import BadRequestError
from aether.llm.contracts import LLMRequest, ToolSpec
from aether_gemini._log import logger
from aether_gemini._mapping import PROVIDER
from aether_gemini._models import GeminiTraits

__all__ = ["function_calling"]


def _check_allowed(request: LLMRequest) -> list[str] | None:
    allowed = request.allowed_tools
    if allowed is None:
        return None
    names = [tool.name for tool in request.tools]
    unknown = [name for name in allowed if name not in names]
    if unknown:
        raise BadRequestError(
            f"allowed_tools names {', '.join(map(repr, unknown))}, which the request does not "
            f"declare (its tools: {', '.join(map(repr, names)) or 'none'}): list only declared "
            f"tools, or add them to tools=[...].",
            provider=PROVIDER,
        )
    choice = request.tool_choice
    if choice == "required" and not allowed:
        raise BadRequestError(
            "tool_choice='required' with allowed_tools=[] asks for a call of no tool: allow "
            "at least one, or set tool_choice to 'auto' or 'none'.",
            provider=PROVIDER,
        )
    if choice not in (None, "auto", "none", "required") and choice not in allowed:
        raise BadRequestError(
            f"tool_choice names {choice!r}, which allowed_tools ({', '.join(map(repr, allowed))}) "
            f"leaves out: allow it, or choose another tool.",
            provider=PROVIDER,
        )
    return allowed


def function_calling(
    request: LLMRequest, model: str, traits: GeminiTraits
) -> tuple[dict[str, Any] | None, list[ToolSpec]]:
    """``(functionCallingConfig or None, the tools to declare)`` for ``request``.

    ``request.tool_choice`` must have passed :func:`~aether.llm.mapping.check_tool_choice`.

    Raises:
        BadRequestError: ``allowed_tools`` names an undeclared tool, leaves out the tool
            ``tool_choice`` names, or is empty while a call is required.
    """
    allowed = _check_allowed(request)
    tools = request.tools
    choice = request.tool_choice
    if choice == "none" or (allowed is not None and not allowed):
        return {"mode": "NONE"}, tools
    if choice == "required":
        return (
            {"mode": "ANY", "allowedFunctionNames": allowed} if allowed else {"mode": "ANY"}
        ), tools
    if choice not in (None, "auto"):  # one tool, by name
        return {"mode": "ANY", "allowedFunctionNames": [choice]}, tools
    strict = any(tool.strict for tool in tools)
    if traits.validated_mode and (allowed is not None or strict):
        config: dict[str, Any] = {"mode": "VALIDATED"}
        if allowed is not None:
            config["allowedFunctionNames"] = allowed
        return config, tools
    if strict:
        warn_once(
            logger,
            f"strict:{model}",
            f"The gemini model {model!r} has no VALIDATED function-calling mode, so "
            f"ToolSpec.strict cannot hold its calls to their schemas; the tools are sent as "
            f"usual. Register GeminiTraits(validated_mode=True) for it on aether_gemini.MODELS "
            f"if it has one.",
        )
    if allowed is not None:
        tools = [tool for tool in tools if tool.name in allowed]
    return ({"mode": "AUTO"} if choice == "auto" else None), tools
