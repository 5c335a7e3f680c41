"""From what a call was given to the :class:`~aether.llm.contracts.LLMRequest` it sends.

:class:`~aether.client.Aether` keeps the common call to itself: a text prompt with nothing
to merge, check or shape is one ``LLMRequest`` built inline in ``Aether._request``, since
every call pays for each frame on that path (it calls in here only for
:func:`resolve_call_tools`, to find it has none). Everything else a call may carry comes
here: a conversation or content parts as the prompt, tools (resolved by name, narrowed by
``allowed_tools``), call settings merged over the client's, and an answer type that shapes
the request through its :class:`~aether.llm._output_plan.OutputPlan`.

The tool machinery (:mod:`aether.tools`) is imported only by a call that names tools, so a
program that never uses them never loads it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from aether import config
from aether.llm._output_plan import OutputPlan
from aether.llm.capabilities import check_supported
from aether.llm.contracts import LLMRequest, Message
from aether.llm.parts import TextPart
from aether.llm.settings import CallSettings, check_settings, merge_settings

# Annotations only: the client imports this module and defines ``Prompt`` and ``ToolsArg``,
# and the tools are imported only by a call that names some.
if TYPE_CHECKING:
    from aether._call import CallOptions
    from aether.client import Prompt, ToolsArg
    from aether.extensions.llm.builder import ProviderConfig
    from aether.llm._output_target import OutputTarget
    from aether.llm.contracts import LLMProvider
    from aether.llm.output import Output
    from aether.registry import Registry
    from aether.tools import Tool

__all__ = [
    "allowed_tool_names",
    "build_request",
    "call_settings",
    "prompt_messages",
    "resolve_call_tools",
]


def build_request(
    prompt: Prompt,
    call: CallOptions,
    tools: Sequence[Tool],
    output: Output[Any] | None,
    *,
    model: str | None,
    provider: LLMProvider,
    client_config: ProviderConfig,
    output_target: Callable[[], OutputTarget],
) -> tuple[LLMRequest, float | None, OutputPlan | None]:
    """The request ``call`` stands for, its ``timeout`` setting and its output plan.

    Args:
        prompt: What the call was asked.
        call: The call's keywords.
        tools: The call's tools, resolved (:func:`resolve_call_tools`).
        output: The answer type asked for; None: text.
        model: The model, resolved already, so events and logs name the one used.
        provider: The provider stack that will serve the request, which must support it.
        client_config: The client's configuration: its settings and output repairs.
        output_target: The output mode ``provider`` serves, asked for only by a typed call.

    Raises:
        ValueError, TypeError: The prompt, a setting or ``allowed_tools`` is wrong.
        UnsupportedFeatureError: ``provider`` cannot serve the request.
    """
    messages = prompt_messages(prompt)
    chosen = call_settings(call, client_config.settings)
    specs = [tool.spec for tool in tools]
    allowed = allowed_tool_names(call.allowed_tools, tools)
    plan = None
    declaration = None
    if output is None:
        shaped: dict[str, Any] = {
            "messages": messages,
            "tools": specs,
            "tool_choice": call.tool_choice,
            "allowed_tools": allowed,
        }
    else:
        retries = client_config.output_retries
        target = output_target()
        declaration = target.declaration
        plan = OutputPlan.for_call(output, target=target, model=model, tools=specs, retries=retries)
        shaped = plan.request_fields(messages, specs, call.tool_choice, allowed)
    # Every call setting but the client-side timeout is a request field of the same name.
    fields: dict[str, Any] = {k: v for k, v in chosen.items() if v is not None and k != "timeout"}
    request = LLMRequest(
        model=model, default_temperature=config.default_temperature(), **fields, **shaped
    )
    # Refused here, before anything is sent, when the provider cannot serve it.
    check_supported(provider, request, declaration=declaration)
    return request, chosen.get("timeout"), plan


def call_settings(call: CallOptions, client_settings: CallSettings | None) -> CallSettings:
    """The call's settings, checked: its keywords > its ``settings`` > the client's."""
    given: dict[str, Any] = {}
    if call.temperature is not None:
        given["temperature"] = call.temperature
    if call.max_tokens is not None:
        given["max_tokens"] = call.max_tokens
    if call.stop is not None:
        given["stop"] = call.stop
    if call.settings or given or client_settings:
        return check_settings(merge_settings(client_settings, call.settings, given))
    return CallSettings()  # nothing to merge or check


def prompt_messages(prompt: Prompt) -> list[Message]:
    """The conversation a prompt stands for (the caller's list is never mutated).

    A string, or a list of strings and content parts, is one user turn; a list of
    :class:`Message` objects is a whole conversation.
    """
    if isinstance(prompt, str):
        return [Message(role="user", content=prompt)]
    items = list(prompt)
    if not items:
        raise ValueError("The prompt is an empty conversation; give at least one message.")
    if all(isinstance(item, Message) for item in items):
        return items  # type: ignore[return-value]
    if any(isinstance(item, Message) for item in items):
        raise TypeError(
            "A prompt is a string, a list of Message objects (a conversation), or a list of "
            "strings and content parts (one user turn), not a mix of messages and parts."
        )
    parts = [TextPart(text=item) if isinstance(item, str) else item for item in items]
    return [Message(role="user", content=parts)]  # type: ignore[arg-type]


def allowed_tool_names(allowed: Sequence[str] | None, tools: Sequence[Tool]) -> list[str] | None:
    """``allowed``, checked against ``tools``; None: every tool is allowed."""
    if allowed is None:
        return None
    from aether.tools.registry import check_allowed_tools

    return check_allowed_tools(allowed, tools)


def resolve_call_tools(tools: ToolsArg, registry: Registry | None) -> list[Tool]:
    """The ``Tool`` objects a call's ``tools=`` names (none: an empty list, nothing imported)."""
    if not tools:
        return []
    from aether.tools import resolve_tools

    # Handed over as given: ``list("add")`` would turn one name into three tool names.
    return resolve_tools(tools, registry=registry)
