"""Aether's conversation as the Messages API's ``system`` and ``messages`` (no I/O here).

Three differences from Chat Completions shape this module:

* the system prompt is the top-level ``system`` field, not a message (only models whose
  :class:`~aether_anthropic.ClaudeTraits` say ``system_messages`` take one mid-conversation);
* turns alternate strictly between ``user`` and ``assistant``, so consecutive turns of one
  role are merged, and tool results travel as ``tool_result`` blocks in a *user* turn;
* a tool-use turn goes back with the signed thinking that preceded each call
  (:data:`~aether_anthropic._response.THINKING_KEY`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aether.errors import BadRequestError
from aether.llm.contracts import Message, ToolCall
from aether.llm.parts import TextPart
from aether_anthropic._content import text_blocks, user_blocks
from aether_anthropic._models import PROVIDER, ClaudeTraits
from aether_anthropic._response import THINKING_KEY

__all__ = ["Conversation", "build_messages"]


@dataclass
class Conversation:
    """The ``system`` prompt and the ``messages`` of a request body.

    Attributes:
        system: The prompt's text blocks, one list per system message.
        turns: The ``messages``.
    """

    system: list[list[dict[str, Any]]] = field(default_factory=list)
    turns: list[dict[str, Any]] = field(default_factory=list)

    @property
    def system_blocks(self) -> list[dict[str, Any]]:
        """Every text block of the prompt, in order (the same objects, to mark one)."""
        return [block for blocks in self.system for block in blocks]

    def system_field(self) -> str | list[dict[str, Any]] | None:
        """``system`` as sent: one string (the messages a blank line apart), or its blocks once
        one of them marks a cache breakpoint."""
        blocks = self.system_blocks
        if not blocks:
            return None
        if any("cache_control" in block for block in blocks):
            return blocks
        return "\n\n".join("".join(block["text"] for block in group) for group in self.system)


def _tool_use(call: ToolCall) -> dict[str, Any]:
    # Malformed arguments kept under RAW_ARGUMENTS_KEY are still an object, which is all the
    # API asks of ``input``; the model then sees what it sent.
    return {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}


def _thinking_of(call: ToolCall) -> list[dict[str, Any]]:
    blocks = call.provider_data.get(THINKING_KEY)
    if not isinstance(blocks, list):
        return []
    return [block for block in blocks if isinstance(block, dict)]


def _assistant_blocks(message: Message) -> list[dict[str, Any]]:
    calls = message.tool_calls
    blocks: list[dict[str, Any]] = []
    if calls:
        # The model's own order was thinking, text, call: the turn must start with thinking.
        blocks.extend(_thinking_of(calls[0]))
    blocks.extend(text_blocks(message.content, where="an assistant message"))
    for position, call in enumerate(calls):
        if position:
            blocks.extend(_thinking_of(call))
        blocks.append(_tool_use(call))
    return blocks


def _tool_result(message: Message, model: str, traits: ClaudeTraits) -> dict[str, Any]:
    if not message.tool_call_id:
        raise BadRequestError(
            "A 'tool' message needs tool_call_id: set it to the id of the ToolCall it answers.",
            provider=PROVIDER,
        )
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": message.tool_call_id}
    content = message.content
    plain = isinstance(content, str) or all(
        isinstance(part, TextPart) and not part.cache for part in content
    )
    if plain:
        if message.text:
            block["content"] = message.text
    else:
        # Images, documents or a cache mark: the result's content goes as blocks.
        blocks = user_blocks(content, model=model, traits=traits)
        if blocks:
            block["content"] = blocks
    return block


def _tool_results_first(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # The API wants a user turn's tool_result blocks before any text in it.
    return sorted(blocks, key=lambda block: block["type"] != "tool_result")


def build_messages(
    messages: Sequence[Message], *, model: str, traits: ClaudeTraits
) -> Conversation:
    """The ``system`` prompt and ``messages`` of a conversation, for ``model`` (its ``traits``).

    System messages before the first turn make the ``system`` prompt; later ones are sent in
    place where the model takes that (``traits.system_messages``), else join the prompt.
    Consecutive turns of one role are merged (all tool results of an assistant turn go back in
    one user turn); empty messages are dropped, since the API rejects empty content.

    Raises:
        BadRequestError: A tool message has no ``tool_call_id``.
        ConfigurationError: A part the API or the model does not take where it is.
    """
    out = Conversation()
    for message in messages:
        role = message.role
        if role == "system" and (not out.turns or not traits.system_messages):
            blocks = text_blocks(message.content, where="a system message")
            if blocks:
                out.system.append(blocks)
            continue
        if role == "system":
            blocks = text_blocks(message.content, where="a system message")
        elif role == "assistant":
            blocks = _assistant_blocks(message)
        elif role == "tool":
            role, blocks = "user", [_tool_result(message, model, traits)]
        else:
            blocks = user_blocks(message.content, model=model, traits=traits)
        if not blocks:
            continue
        if out.turns and out.turns[-1]["role"] == role:
            out.turns[-1]["content"].extend(blocks)
        else:
            out.turns.append({"role": role, "content": blocks})
    for turn in out.turns:
        if turn["role"] == "user" and len(turn["content"]) > 1:
            turn["content"] = _tool_results_first(turn["content"])
    if out.turns and out.turns[-1]["role"] == "assistant":
        _strip_prefill(out.turns)
    return out


def _strip_prefill(turns: list[dict[str, Any]]) -> None:
    """A final assistant turn (a prefill) may not end in whitespace: the API rejects it."""
    last = turns[-1]["content"][-1]
    if last["type"] != "text":
        return
    last["text"] = last["text"].rstrip()
    if not last["text"]:
        turns[-1]["content"].pop()
        if not turns[-1]["content"]:
            turns.pop()
