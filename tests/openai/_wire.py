"""Test helpers: a strict check of request bodies against the official ``openai`` types,
and turning a recorded request into Aether's ``LLMRequest``.

``openai`` is a test-only dependency: its ``TypedDict`` request types are the API's own
description of what it accepts. Pydantic ignores unknown keys in TypedDicts and validates
``Iterable`` fields lazily, so this walks the types itself and rejects unknown keys, missing
required keys and wrong literals.
"""

from __future__ import annotations

import json
import types
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from openai.types.chat.completion_create_params import (
    CompletionCreateParamsNonStreaming,
    CompletionCreateParamsStreaming,
)
from typing_extensions import NotRequired, Required, get_type_hints, is_typeddict

from aether.http import Base64Data
from aether.llm.contracts import LLMRequest, Message, ToolCall, ToolSpec

_HINTS: dict[type, tuple[dict[str, Any], frozenset[str]]] = {}


def _unwrap(tp: Any) -> tuple[Any, bool]:
    """The bare type, and whether it was marked ``Required``."""
    required = False
    while get_origin(tp) in (Required, NotRequired, Annotated):
        required = required or get_origin(tp) is Required
        tp = get_args(tp)[0]
    return tp, required


def _hints(tp: type) -> tuple[dict[str, Any], frozenset[str]]:
    # openai's modules use string annotations, so ``__required_keys__`` misses the keys its
    # total=False dicts mark ``Required[...]``: read the markers ourselves.
    if tp not in _HINTS:
        hints: dict[str, Any] = {}
        required = set(getattr(tp, "__required_keys__", ()))
        for key, raw in get_type_hints(tp, include_extras=True).items():
            hints[key], is_required = _unwrap(raw)
            if is_required:
                required.add(key)
        _HINTS[tp] = (hints, frozenset(required))
    return _HINTS[tp]


def _problems(value: Any, tp: Any, path: str) -> list[str]:
    tp, _ = _unwrap(tp)
    if tp is Any or tp is object:
        return []
    if is_typeddict(tp):
        if not isinstance(value, dict):
            return [f"{path}: expected an object for {tp.__name__}, got {value!r}"]
        hints, required = _hints(tp)
        found = [f"{path}.{k}: unknown key for {tp.__name__}" for k in value if k not in hints]
        found += [
            f"{path}: missing required {k!r} for {tp.__name__}" for k in required if k not in value
        ]
        for key, item in value.items():
            if key in hints:
                found += _problems(item, hints[key], f"{path}.{key}")
        return found
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        branches = [_problems(value, arm, path) for arm in get_args(tp)]
        if any(not b for b in branches):
            return []
        closest = min(branches, key=lambda problems: len(problems))
        return [f"{path}: matches no branch of {tp}: " + "; ".join(closest)]
    if origin is Literal:
        return [] if value in get_args(tp) else [f"{path}: {value!r} not in {get_args(tp)}"]
    if origin in (list, Iterable, Sequence) or tp in (list,):
        if not isinstance(value, list):
            return [f"{path}: expected a list, got {value!r}"]
        (item_tp,) = get_args(tp) or (Any,)
        return [p for i, item in enumerate(value) for p in _problems(item, item_tp, f"{path}[{i}]")]
    if origin in (dict, Mapping) or tp is dict:
        return [] if isinstance(value, dict) else [f"{path}: expected an object"]
    if tp is type(None):
        return [] if value is None else [f"{path}: expected null"]
    if tp is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return [] if ok else [f"{path}: expected a number"]
    if tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{path}: expected an integer"]
    if isinstance(tp, type):
        return [] if isinstance(value, tp) else [f"{path}: expected {tp.__name__}"]
    raise AssertionError(f"{path}: the checker does not know the type {tp!r}")


def request_problems(body: dict[str, Any]) -> list[str]:
    """What the official types reject in ``body`` as sent (empty when the API accepts it)."""
    body = _as_sent(body)
    tp = (
        CompletionCreateParamsStreaming
        if body.get("stream")
        else CompletionCreateParamsNonStreaming
    )
    return _problems(body, tp, "body")


def _as_sent(value: Any) -> Any:
    """``value`` as the client writes it: each Base64Data the text it stands for."""
    if isinstance(value, Base64Data):
        return value.text
    if isinstance(value, dict):
        return {key: _as_sent(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_sent(item) for item in value]
    return value


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if p.get("type") == "text")
    return ""


def _message(wire: dict[str, Any]) -> Message:
    role = wire["role"]
    if role == "developer":
        role = "system"
    if role == "tool":
        return Message(
            role="tool", content=_text(wire.get("content")), tool_call_id=wire["tool_call_id"]
        )
    calls = [
        ToolCall(
            id=c["id"],
            name=c["function"]["name"],
            arguments=json.loads(c["function"]["arguments"] or "{}"),
        )
        for c in wire.get("tool_calls") or ()
    ]
    return Message(role=role, content=_text(wire.get("content")), tool_calls=calls)


def request_from_record(wire: dict[str, Any]) -> LLMRequest:
    """The ``LLMRequest`` closest to a recorded Chat Completions body."""
    choice = wire.get("tool_choice")
    if isinstance(choice, dict):
        # A named function, or {"type": "allowed_tools", "allowed_tools": {"mode": ...}}.
        named = choice.get("function") or {}
        choice = named.get("name") or choice.get("allowed_tools", {}).get("mode")
    stop = wire.get("stop")
    return LLMRequest(
        messages=[_message(m) for m in wire["messages"]],
        model=wire.get("model"),
        temperature=wire.get("temperature"),
        max_tokens=wire.get("max_completion_tokens") or wire.get("max_tokens"),
        stop=[stop] if isinstance(stop, str) else stop,
        tools=[
            ToolSpec(
                name=t["function"]["name"],
                description=t["function"].get("description") or "",
                parameters=t["function"].get("parameters") or {"type": "object", "properties": {}},
            )
            for t in wire.get("tools") or ()
        ],
        tool_choice=choice,
    )
