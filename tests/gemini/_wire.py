"""A recorded ``generateContent`` request turned back into Aether's ``LLMRequest``.

The conformance replay sends this request through the provider and compares the body it
builds with the recorded one, on the fields the adapter maps: the role and content of every
part in order (text, ``functionCall`` name/args/id with its ``thoughtSignature``,
``functionResponse`` name/response/id), the system instruction's text, the declared function
names, ``toolConfig`` and the mapped ``generationConfig`` keys.

What the contracts cannot carry (inline or file media, thought parts, penalties, a schema
for the answer, ...) is left out of both sides and listed in ``skipped`` with a reason, so
nothing is dropped silently. Recorders used both spellings the API accepts (``function_call``
and ``functionCall``); keys are read in camelCase.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from aether.llm.contracts import LLMRequest, Message, ToolCall, ToolChoice, ToolSpec
from aether_gemini._mapping import SIGNATURE_KEY

_SYNTHETIC = "gemini-call-replay-"  # the provider's prefix for ids it never sends back
_MAPPED_GENERATION = ("temperature", "maxOutputTokens", "stopSequences")
_MODES: dict[str, ToolChoice] = {"AUTO": "auto", "NONE": "none"}


def camel(key: str) -> str:
    """``function_call`` -> ``functionCall`` (proto JSON accepts both)."""
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), key)


def _camel_keys(value: Any) -> dict[str, Any]:
    return {camel(k): v for k, v in value.items()} if isinstance(value, dict) else {}


@dataclass
class Rebuilt:
    """The request to send, what the provider must send for it, and what was left out."""

    request: LLMRequest | None
    expected: dict[str, Any] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    total_parts: int = 0
    compared_parts: int = 0


@dataclass
class _Walk:
    messages: list[Message] = field(default_factory=list)
    parts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    open_calls: list[ToolCall] = field(default_factory=list)
    made_ids: int = 0
    group: Message | None = None  # the assistant message collecting this turn's calls
    text_in_turn: bool = False  # the last part of this model turn was text

    def new_id(self) -> str:
        self.made_ids += 1
        return f"{_SYNTHETIC}{self.made_ids}"


def _call_part(walk: _Walk, raw: dict[str, Any], signature: Any) -> None:
    call = _camel_keys(raw)
    given = call.get("id")
    raw_args = call.get("args")
    args: dict[str, Any] = raw_args if isinstance(raw_args, dict) else {}
    tool_call = ToolCall(
        id=given if isinstance(given, str) and given else walk.new_id(),
        name=str(call.get("name", "")),
        arguments=args,
        # Where reading the earlier response put it: the signature travels on the call.
        provider_data={SIGNATURE_KEY: signature} if isinstance(signature, str) else {},
    )
    wire: dict[str, Any] = {"name": tool_call.name, "args": args}
    if isinstance(given, str) and given:
        wire["id"] = given
    expected: dict[str, Any] = {"functionCall": wire}
    if isinstance(signature, str):
        expected["thoughtSignature"] = signature
    if walk.group is None:
        # The calls of one model turn share one assistant message (with the text just before
        # them, if any), as a tool loop builds it; results are then ordered by those calls.
        last = walk.messages[-1] if walk.messages else None
        if last is not None and last.role == "assistant" and walk.text_in_turn:
            walk.group = last
        else:
            walk.group = Message(role="assistant")
            walk.messages.append(walk.group)
    walk.group.tool_calls.append(tool_call)
    walk.open_calls.append(tool_call)
    walk.parts.append(("model", expected))


def _response_part(walk: _Walk, raw: dict[str, Any]) -> None:
    response = _camel_keys(raw)
    name = str(response.get("name", ""))
    given = response.get("id")
    raw_body = response.get("response")
    body: dict[str, Any] = raw_body if isinstance(raw_body, dict) else {}
    match = next(
        (
            c
            for c in walk.open_calls
            if (c.id == given) or (not (isinstance(given, str) and given) and c.name == name)
        ),
        None,
    )
    if match is not None:
        walk.open_calls.remove(match)
    call_id = match.id if match is not None else (given or walk.new_id())
    walk.messages.append(
        Message(role="tool", tool_call_id=call_id, name=name, content=json.dumps(body))
    )
    wire: dict[str, Any] = {"name": name, "response": body}
    if isinstance(given, str) and given:
        wire["id"] = given
    walk.parts.append(("user", {"functionResponse": wire}))


def _part(walk: _Walk, role: str, raw: Any, where: str) -> bool:
    """Map one part; False (and a reason in ``skipped``) when the contracts cannot carry it."""
    part = _camel_keys(raw)
    extra = sorted(set(part) - {"text", "functionCall", "functionResponse", "thoughtSignature"})
    if extra or part.get("thought") is True:
        walk.skipped.append(f"{where}: part with {', '.join(extra) or 'thought'} (no contract)")
        return False
    if "functionCall" in part and role == "model":
        _call_part(walk, part["functionCall"], part.get("thoughtSignature"))
        return True
    if "functionResponse" in part and role == "user":
        _response_part(walk, part["functionResponse"])
        return True
    text = part.get("text")
    if isinstance(text, str) and text and set(part) <= {"text", "thoughtSignature"}:
        if "thoughtSignature" in part:
            walk.skipped.append(f"{where}: thoughtSignature on a text part (no contract)")
        walk.messages.append(Message(role="assistant" if role == "model" else "user", content=text))
        walk.parts.append((role, {"text": text}))
        walk.group, walk.text_in_turn = None, role == "model"
        return True
    walk.skipped.append(f"{where}: {'empty text' if text == '' else 'unmappable'} part")
    return False


def _tools(body: dict[str, Any], skipped: list[str]) -> list[ToolSpec]:
    specs: list[ToolSpec] = []
    for i, tool in enumerate(body.get("tools") or ()):
        tool = _camel_keys(tool)
        for key in sorted(set(tool) - {"functionDeclarations"}):
            skipped.append(f"tools[{i}].{key}: a built-in tool (no contract)")
        for raw in tool.get("functionDeclarations") or ():
            declared = _camel_keys(raw)
            schema = declared.get("parametersJsonSchema") or declared.get("parameters")
            specs.append(
                ToolSpec(
                    name=str(declared["name"]),
                    description=str(declared.get("description") or ""),
                    parameters=_json_schema(schema) if isinstance(schema, dict) else {},
                )
            )
    return specs


def _json_schema(schema: Any) -> Any:
    """Gemini's OpenAPI dialect (``"type": "STRING"``) back to JSON Schema's lowercase."""
    if isinstance(schema, dict):
        return {
            k: (v.lower() if k == "type" and isinstance(v, str) else _json_schema(v))
            for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [_json_schema(v) for v in schema]
    return schema


def _tool_choice(body: dict[str, Any], skipped: list[str]) -> tuple[ToolChoice | None, Any]:
    config = _camel_keys(_camel_keys(body.get("toolConfig")).get("functionCallingConfig"))
    if not config:
        return None, None
    mode = config.get("mode")
    names = config.get("allowedFunctionNames") or []
    if mode in _MODES and not names:
        return _MODES[mode], {"mode": mode}
    if mode == "ANY" and not names:
        return "required", {"mode": "ANY"}
    if mode == "ANY" and len(names) == 1:
        return names[0], {"mode": "ANY", "allowedFunctionNames": names}
    skipped.append(f"toolConfig: mode {mode} with {len(names)} allowed names (no contract)")
    return None, None


def request_from_record(body: dict[str, Any], model: str) -> Rebuilt:
    """The ``LLMRequest`` for a recorded body, and what the provider must send for it."""
    body = _camel_keys(body)
    walk = _Walk()
    expected: dict[str, Any] = {}
    system = _camel_keys(body.get("systemInstruction"))
    texts = [p.get("text") for p in system.get("parts") or () if isinstance(p, dict)]
    if texts and all(isinstance(t, str) for t in texts):
        joined = "\n\n".join(t for t in texts if t)
        if joined:
            walk.messages.append(Message(role="system", content=joined))
            expected["system"] = joined
    total = 0
    for i, content in enumerate(body.get("contents") or ()):
        role = content.get("role") or "user"
        walk.group, walk.text_in_turn = None, False
        for j, part in enumerate(content.get("parts") or ()):
            total += 1
            _part(walk, role, part, f"contents[{i}].parts[{j}]")
    tools = _tools(body, walk.skipped)
    choice, tool_config = _tool_choice(body, walk.skipped)
    generation = _camel_keys(body.get("generationConfig"))
    kept = {k: generation[k] for k in _MAPPED_GENERATION if k in generation}
    for key in sorted(set(generation) - set(kept)):
        walk.skipped.append(f"generationConfig.{key} (no contract)")
    for key in sorted(set(body) - {"contents", "systemInstruction", "tools", "toolConfig",
                                   "generationConfig"}):  # fmt: skip
        walk.skipped.append(f"{key} (no contract)")
    expected.update(parts=walk.parts, functions=[t.name for t in tools])
    if tool_config is not None:
        expected["toolConfig"] = tool_config
    expected["generation"] = kept
    rebuilt = Rebuilt(
        request=None,
        expected=expected,
        skipped=walk.skipped,
        total_parts=total,
        compared_parts=len(walk.parts),
    )
    if not any(m.role != "system" for m in walk.messages):
        rebuilt.skipped.append("request: nothing the contracts carry is left to send")
        return rebuilt
    rebuilt.request = LLMRequest(
        messages=walk.messages,
        model=model,
        temperature=kept.get("temperature"),
        max_tokens=kept.get("maxOutputTokens"),
        stop=kept.get("stopSequences"),
        tools=tools,
        tool_choice=choice,
    )
    return rebuilt


def project(sent: dict[str, Any]) -> dict[str, Any]:
    """The provider's body cut down to the fields :func:`request_from_record` compares."""
    out: dict[str, Any] = {}
    instruction = sent.get("systemInstruction")
    if instruction:
        out["system"] = "\n\n".join(p["text"] for p in instruction["parts"])
    out["parts"] = [
        (content["role"], part) for content in sent["contents"] for part in content["parts"]
    ]
    out["functions"] = [
        d["name"] for tool in sent.get("tools") or () for d in tool["functionDeclarations"]
    ]
    if "toolConfig" in sent:
        out["toolConfig"] = sent["toolConfig"]["functionCallingConfig"]
    generation = sent.get("generationConfig") or {}
    out["generation"] = {k: generation[k] for k in _MAPPED_GENERATION if k in generation}
    return out
