"""An :class:`LLMRequest` as the JSON body of ``POST /v1/messages`` (no I/O here).

The body is assembled from the conversation (:mod:`._messages`), the tools, the reasoning
settings (:mod:`._thinking`), sampling (:mod:`._sampling`), cache breakpoints (:mod:`._cache`)
and the structured output asked for (:mod:`._output`), each checked against the model's
:class:`~aether_anthropic.ClaudeTraits` before anything is sent. ``provider_options`` is
deep-merged into the body last: it reaches what Aether does not model (``metadata``,
``top_k``, ``service_tier``...).

Anthropic has no way to let the model call only some of the declared tools, so
``allowed_tools`` sends only those tools (in declaration order); ``[]`` sends them all with
``tool_choice: none``, so a conversation holding earlier calls stays valid.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aether.errors import BadRequestError
from aether.llm.contracts import LLMRequest, ToolChoice, ToolSpec
from aether.llm.mapping import check_tool_choice
from aether.llm.settings import deep_merge
from aether_anthropic._cache import place_breakpoints
from aether_anthropic._messages import build_messages
from aether_anthropic._models import PROVIDER, claude_traits
from aether_anthropic._output import output_format
from aether_anthropic._sampling import check_thinking_tools, sampling_fields
from aether_anthropic._schema import grammar_schema
from aether_anthropic._thinking import call_thinks, plan_thinking

__all__ = ["build_payload", "offered_tools", "tool_choice_to_wire", "tool_to_wire"]

_CHOICES = {"auto": {"type": "auto"}, "required": {"type": "any"}, "none": {"type": "none"}}


def tool_to_wire(spec: ToolSpec) -> dict[str, Any]:
    """A :class:`ToolSpec` as a client tool definition (``strict`` when the spec asks).

    A strict tool's inputs are held to its schema by the grammar of structured output, so its
    schema is rewritten to the subset that grammar takes (:mod:`._schema`).

    Raises:
        ConfigurationError: A strict tool's schema the grammar cannot express.
    """
    tool: dict[str, Any] = {"name": spec.name, "input_schema": spec.parameters}
    if spec.description:
        tool["description"] = spec.description
    if spec.strict:
        tool["input_schema"] = grammar_schema(
            spec.parameters,
            subject=f"the strict tool {spec.name!r}'s parameters",
            fix="send the tool with strict=False",
        )
        tool["strict"] = True
    return tool


def tool_choice_to_wire(
    choice: ToolChoice | None, tools: Sequence[ToolSpec]
) -> dict[str, Any] | None:
    """``auto``/``required``/``none`` or one tool's name as ``tool_choice``; None: omit it.

    ``choice`` has passed :func:`~aether.llm.check_tool_choice` (``build_payload`` runs it).
    """
    if choice is None or not tools:
        # Without tools only "auto"/"none" pass the check, and the API's default (no
        # tool_choice) already means that.
        return None
    if choice in _CHOICES:
        return dict(_CHOICES[choice])
    return {"type": "tool", "name": choice}


def offered_tools(request: LLMRequest) -> tuple[list[ToolSpec], ToolChoice | None]:
    """The tools to send and the choice to send with them, ``allowed_tools`` applied.

    Raises:
        BadRequestError: ``allowed_tools`` names a tool the request does not declare, or
            ``tool_choice`` asks for a tool it does not allow.
    """
    allowed = request.allowed_tools
    choice = request.tool_choice
    if allowed is None:
        return list(request.tools), choice
    declared = [tool.name for tool in request.tools]
    unknown = [name for name in allowed if name not in declared]
    if unknown:
        raise BadRequestError(
            f"allowed_tools names {', '.join(map(repr, unknown))}, not among the request's "
            f"tools ({', '.join(map(repr, declared)) or 'none'}): allow only declared tools.",
            provider=PROVIDER,
        )
    forced = choice not in (None, "auto", "none")
    if forced and choice != "required" and choice not in allowed:
        raise BadRequestError(
            f"tool_choice names {choice!r}, which allowed_tools={allowed!r} does not allow: "
            f"allow it, or choose another tool.",
            provider=PROVIDER,
        )
    if not allowed:
        if forced:
            raise BadRequestError(
                f"allowed_tools=[] allows no tool, but tool_choice={choice!r} asks for one: "
                f"allow a tool, or set tool_choice to 'none'.",
                provider=PROVIDER,
            )
        return list(request.tools), "none"
    return [tool for tool in request.tools if tool.name in allowed], choice


def build_payload(
    request: LLMRequest,
    *,
    model: str,
    max_tokens: int,
    stream: bool,
    interleaved_thinking: bool = False,
    structured_outputs_beta: bool = False,
) -> dict[str, Any]:
    """The JSON body of ``POST /v1/messages``.

    Args:
        request: The call.
        model: The model to ask (the request's, else the provider's default).
        max_tokens: Used when the request sets none; the API requires a value.
        stream: Ask for server-sent events.
        interleaved_thinking: The interleaved-thinking beta is on (a thinking budget may then
            exceed ``max_tokens``).
        structured_outputs_beta: The structured-outputs beta is on: ``request.output`` goes
            as a top-level ``output_format``, not ``output_config.format``.

    Raises:
        BadRequestError: The conversation has no user or assistant content, a tool message
            has no ``tool_call_id``, or ``tool_choice`` / ``allowed_tools`` cannot be honoured
            with the request's tools.
        ConfigurationError: A part, setting or combination the API or the model does not
            take (see the modules named above).
    """
    check_tool_choice(request, provider=PROVIDER)
    traits = claude_traits(model)
    conversation = build_messages(request.messages, model=model, traits=traits)
    if not conversation.turns:
        raise BadRequestError(
            "The conversation has no user or assistant content; Anthropic needs at least one "
            "non-system message.",
            provider=PROVIDER,
        )
    thinking = plan_thinking(
        request,
        model=model,
        traits=traits,
        default_max_tokens=max_tokens,
        interleaved=interleaved_thinking,
    )
    thinking_on = call_thinks(request, thinking)
    check_thinking_tools(request, model=model, thinking=thinking_on)
    specs, choice = offered_tools(request)
    tools = [tool_to_wire(spec) for spec in specs]
    place_breakpoints(conversation, tools, request.cache)
    payload: dict[str, Any] = {
        "model": model,
        "max_tokens": thinking.max_tokens,
        "messages": conversation.turns,
    }
    system = conversation.system_field()
    if system is not None:
        payload["system"] = system
    payload.update(sampling_fields(request, model=model, traits=traits, thinking=thinking_on))
    if request.stop:
        payload["stop_sequences"] = list(request.stop)
    if thinking.wire is not None:
        payload["thinking"] = thinking.wire
    config: dict[str, Any] = {}
    if thinking.effort is not None:
        config["effort"] = thinking.effort
    if request.output is not None:
        wire = output_format(request.output, model=model, traits=traits, conversation=conversation)
        if structured_outputs_beta:
            payload["output_format"] = wire
        else:
            config["format"] = wire
    if config:
        payload["output_config"] = config
    if tools:
        payload["tools"] = tools
    wire_choice = tool_choice_to_wire(choice, specs)
    if wire_choice is not None:
        payload["tool_choice"] = wire_choice
    if stream:
        payload["stream"] = True
    return deep_merge(payload, request.provider_options)
