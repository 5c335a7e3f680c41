"""One call's typed answer: the mode, the request, reading the answers, repairing them.

:class:`~aether.llm._output_target.OutputTarget` is what a provider stack serves (found
once per client); :meth:`OutputPlan.for_call` picks the mode for a call,
:meth:`OutputPlan.request_fields` shapes its request and :meth:`OutputPlan.settled` makes both
final once the whole request is known; :meth:`OutputPlan.read` reads each answer,
:meth:`OutputPlan.repair` writes the turn asking for a fix, and :func:`check_refusal` tells a
refusal from a wrong answer. :mod:`aether.llm._output_calls` runs the calls.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

import pydantic_core
from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from aether.errors import ConfigurationError, ResponseBlockedError
from aether.llm._output_stream import PartialReader
from aether.llm._output_target import OutputTarget
from aether.llm.contracts import (
    RAW_ARGUMENTS_KEY,
    LLMRequest,
    LLMResponse,
    Message,
    OutputSpec,
    ToolCall,
    ToolChoice,
    ToolSpec,
)
from aether.llm.output import Output, OutputMode, TypeShape
from aether.llm.output_schema import strict_json_schema
from aether.llm.parts import TextPart

__all__ = ["OutputPlan", "OutputTarget", "Reading", "check_refusal"]

_TOOL_NAME: Final = "final_result"


def _arguments_text(call: ToolCall) -> str:
    raw = call.arguments.get(RAW_ARGUMENTS_KEY)
    if isinstance(raw, str) and len(call.arguments) == 1:
        return raw  # not a JSON object: the model's text, for the errors to point at
    return pydantic_core.to_json(call.arguments).decode()


def _error(kind: str, message: str) -> ValidationError:
    details: list[InitErrorDetails] = [
        {"type": PydanticCustomError(kind, message), "loc": (), "input": None}
    ]
    return ValidationError.from_exception_data("answer", details)


@dataclass(frozen=True, slots=True)
class Reading:
    """One answer, read: its text and either the value or what was wrong with it.

    Attributes:
        text: The answer as the model gave it (in tool mode, the call's arguments as JSON).
        value: The validated value, when ``error`` is None.
        error: Why the answer is not a value of the type.
        call: In tool mode, the output tool's call the answer came in.
    """

    text: str
    value: Any = None
    error: ValidationError | None = None
    call: ToolCall | None = None


# --- the plan of one call ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutputPlan:
    """How one call asks for a typed answer, and how it reads and repairs the answers.

    Attributes:
        output: What is asked for.
        mode: How.
        retries: How many repairs are allowed.
        tool_name: The output tool's name in tool mode, else None.
        target: The provider stack asked, whose finer checks :meth:`settled` consults.
    """

    output: Output[Any]
    mode: OutputMode
    retries: int
    tool_name: str | None = None
    target: OutputTarget | None = None

    @classmethod
    def for_call(
        cls,
        output: Output[Any],
        *,
        target: OutputTarget,
        model: str | None,
        tools: Sequence[ToolSpec],
        retries: int,
    ) -> OutputPlan:
        """The plan of one call: the mode, the repairs, the output tool's name.

        Args:
            output: What to ask for.
            target: The provider stack asked (see :meth:`OutputTarget.of`).
            model: The model asked; None: the provider's default.
            tools: The tools the call offers (the output tool takes a name none of them has).
            retries: The repairs allowed when ``output.retries`` is None.

        Raises:
            ConfigurationError: The mode asked for is one the provider (or model) lacks.
        """
        mode = target.mode_for(output, model, with_tools=bool(tools))
        tool_name = None
        if mode == "tool":
            taken = {tool.name for tool in tools}
            tool_name = _TOOL_NAME
            number = 1
            while tool_name in taken:
                number += 1
                tool_name = f"{_TOOL_NAME}_{number}"
        chosen = retries if output.retries is None else output.retries
        return cls(output, mode, chosen, tool_name, target)

    # --- the request --------------------------------------------------------------------

    def request_fields(
        self,
        messages: list[Message],
        tools: list[ToolSpec],
        tool_choice: ToolChoice | None,
        allowed_tools: list[str] | None,
    ) -> dict[str, Any]:
        """The request's fields that ask for the answer in this plan's mode.

        ``messages``, ``tools``, ``tool_choice``, ``allowed_tools`` and ``output``, from what
        the caller asked (the lists given are not changed): the schema as ``output`` in
        native mode, instructions in prompted mode, the output tool (forced) in tool mode.
        Where the provider has a say on forcing a tool (``supports_forced_tool_choice``: it
        depends on the whole request, e.g. extended thinking) the tool fields stay as asked
        and :meth:`settled` adds the output tool once the request is known.

        Raises:
            ConfigurationError: ``Output(mode="tool")`` with ``tool_choice="none"``: no way
                to answer.
        """
        output = self.output
        fields: dict[str, Any] = {
            "messages": messages,
            "tools": tools,
            "tool_choice": tool_choice,
            "allowed_tools": allowed_tools,
            "output": None,
        }
        if self.mode == "native":
            strict = _can_be_strict(output.shape) if output.strict is None else output.strict
            fields["output"] = _output_spec(output.shape, output.name, output.description, strict)
        elif self.mode == "prompted":
            fields["messages"] = self._instructed(messages)
        elif tool_choice == "none":
            if output.mode == "tool":
                raise ConfigurationError(
                    "tool_choice='none' leaves the model no way to give the typed answer in "
                    "tool mode (it is a tool call); drop tool_choice, or use "
                    "Output(..., mode='native' or 'prompted')."
                )
        elif self.target is None or self.target.forced_for is None:
            # Nothing later can change the mode (settled_mode keeps tool mode where forcing is
            # always allowed): the request is built once, with the output tool in it.
            fields.update(self._output_tool_fields(tools, tool_choice, allowed_tools))
        return fields

    def settled(self, request: LLMRequest) -> tuple[OutputPlan, LLMRequest]:
        """The plan and the request to send, once the whole request is known.

        ``request`` is the one built from :meth:`request_fields`, checked against the
        provider's finer checks (:meth:`OutputTarget.settled_mode`). A native or prompted plan
        stays as it is. A tool plan chosen automatically becomes a native or prompted one
        where the output tool cannot be forced; else the output tool is added and forced
        (``tool_choice`` ``"required"`` beside the caller's tools, else the tool's name; a
        forced choice of the caller's is kept).

        Raises:
            ConfigurationError: The mode asked for cannot serve this request (nothing was
                sent).
        """
        mode = self.mode
        if self.target is not None:
            mode = self.target.settled_mode(self.output, mode, request)
        if mode != self.mode:
            plan = replace(self, mode=mode, tool_name=None)
            fields = plan.request_fields(
                request.messages, request.tools, request.tool_choice, request.allowed_tools
            )
            return plan, request.model_copy(update=fields)
        if mode != "tool":
            return self, request
        tools = request.tools
        if tools and tools[-1].name == self.tool_name:
            return self, request  # added by request_fields already
        fields = self._output_tool_fields(tools, request.tool_choice, request.allowed_tools)
        return self, request.model_copy(update=fields)

    def _output_tool_fields(
        self, tools: list[ToolSpec], tool_choice: ToolChoice | None, allowed: list[str] | None
    ) -> dict[str, Any]:
        """The output tool beside the caller's ``tools``, forced (``tool_choice``
        ``"required"`` beside other tools, else the tool's name; a forced choice of the
        caller's is kept), and allowed where the caller narrowed the tools."""
        assert self.tool_name is not None
        output = self.output
        tool = _output_tool(output.shape, self.tool_name, output.description, bool(output.strict))
        fields: dict[str, Any] = {"tools": [*tools, tool]}
        if tool_choice in (None, "auto"):
            fields["tool_choice"] = "required" if tools else self.tool_name
        if allowed is not None:
            fields["allowed_tools"] = [*allowed, self.tool_name]
        return fields

    def _instructed(self, messages: list[Message]) -> list[Message]:
        text = _instructions(self.output.shape, self.output.name, self.output.description)
        if messages and messages[0].role == "system":
            first = messages[0]
            if isinstance(first.content, str):
                content: str | list[Any] = f"{first.content}\n\n{text}" if first.content else text
            else:
                content = [*first.content, TextPart(text=f"\n\n{text}")]
            return [first.model_copy(update={"content": content}), *messages[1:]]
        return [Message(role="system", content=text), *messages]

    # --- the answer ---------------------------------------------------------------------

    def read(self, response: LLMResponse) -> Reading:
        """``response`` read as the typed answer (the value, or what is wrong with it)."""
        shape = self.output.shape
        if self.mode == "tool":
            for call in response.tool_calls:
                if call.name == self.tool_name:
                    return _reading(shape, _arguments_text(call), call)
            if response.text.strip():  # it answered in text: take the JSON if it is one
                found = _reading(shape, response.text, None)
                if found.error is None:
                    return found
            return Reading(
                text=response.text,
                error=_error(
                    "no_output_call",
                    f"The answer must be given by calling the {self.tool_name} tool.",
                ),
            )
        return _reading(shape, response.text, None)

    def answer(self, response: LLMResponse, reading: Reading) -> LLMResponse:
        """``response`` carrying the value (in tool mode: the call's JSON as its text)."""
        if self.mode != "tool" or reading.call is None:
            return response.model_copy(update={"output": reading.value})
        update = {"output": reading.value, "text": reading.text, "tool_calls": []}
        return response.model_copy(update={**update, "finish_reason": "stop"})

    def repair(self, conversation: list[Message], reading: Reading) -> list[Message]:
        """``conversation`` (ending with the answer) followed by the turn asking for a fix.

        A text answer gets a user message; a tool call gets its tool result (with a result
        for every other call of that answer not answered yet, as providers require).
        """
        assert reading.error is not None
        errors = reading.error.json(include_url=False, include_context=False, include_input=False)
        turns = list(conversation)
        last = next((m for m in reversed(conversation) if m.role == "assistant"), None)
        if last is not None and last.tool_calls:
            answered = {m.tool_call_id for m in conversation if m.role == "tool"}
            for call in last.tool_calls:
                if call.id in answered:
                    continue
                if reading.call is not None and call.id == reading.call.id:
                    content = (
                        f"The arguments do not fit the schema. Errors:\n{errors}\nCall "
                        f"{self.tool_name} again with arguments that fix them."
                    )
                else:
                    content = (
                        f"Not run: {call.name} is not a tool of this conversation. Give the "
                        f"answer by calling {self.tool_name}."
                    )
                turns.append(
                    Message(role="tool", content=content, tool_call_id=call.id, name=call.name)
                )
            if reading.call is not None:
                return turns
        if self.mode == "tool":
            ask = f"Give the answer by calling the {self.tool_name} tool, with valid arguments."
        else:
            ask = "Answer again with JSON that fixes them, and nothing else."
        content = (
            f"The answer does not fit the schema of {self.output.name}. Errors:\n{errors}\n{ask}"
        )
        turns.append(Message(role="user", content=content))
        return turns

    def reader(self) -> PartialReader:
        """A reader of this plan's answer as it streams."""
        return PartialReader(self)


def _reading(shape: TypeShape, text: str, call: ToolCall | None) -> Reading:
    try:
        return Reading(text=text, value=shape.read(text), call=call)
    except ValidationError as error:
        return Reading(text=text, error=error, call=call)


def check_refusal(response: LLMResponse, provider: str | None) -> None:
    """Raise when the model declined to answer: a refusal is never a validation failure.

    Raises:
        ResponseBlockedError: ``response.refusal`` is set (``reason="refusal"``) or the
            provider withheld the answer (``finish_reason="content_filter"``).
    """
    if response.refusal is not None:
        raise ResponseBlockedError(
            "The model refused to give the typed answer; its words are on the error's "
            ".refusal. Rephrase the request.",
            reason="refusal",
            refusal=response.refusal,
            provider=provider,
        )
    if response.finish_reason == "content_filter":
        raise ResponseBlockedError(
            "The provider's content filter withheld the typed answer "
            "(finish_reason='content_filter'). Rephrase the request.",
            reason="content_filter",
            provider=provider,
        )


# --- what each mode sends (built once per type and options) -----------------------------------


@functools.lru_cache(maxsize=512)
def _output_spec(shape: TypeShape, name: str, description: str, strict: bool) -> OutputSpec:
    return OutputSpec(name=name, json_schema=shape.schema, description=description, strict=strict)


@functools.lru_cache(maxsize=512)
def _output_tool(shape: TypeShape, name: str, description: str, strict: bool) -> ToolSpec:
    parameters = shape.schema
    if strict:
        try:
            parameters = strict_json_schema(parameters)
        except ConfigurationError as exc:
            raise ConfigurationError(
                f"Output {shape.name!r} asks for a strict tool, but its schema cannot be made "
                f"strict-compatible: {exc} Use Output(..., strict=False), or change the type."
            ) from None
    said = f"Give the final answer ({shape.name})" + (f": {description}" if description else ".")
    return ToolSpec(name=name, description=said, parameters=parameters, strict=strict)


@functools.lru_cache(maxsize=512)
def _can_be_strict(shape: TypeShape) -> bool:
    try:
        strict_json_schema(shape.schema)
    except ConfigurationError:
        return False
    return True


@functools.lru_cache(maxsize=512)
def _instructions(shape: TypeShape, name: str, description: str) -> str:
    about = f" {description}" if description else ""
    schema = json.dumps(shape.schema, ensure_ascii=False, separators=(",", ":"))
    return (
        f"Answer with {name}: a JSON value matching the JSON Schema below, and nothing else "
        f"(no prose; a ```json code block is fine).{about}\n\nJSON Schema:\n{schema}"
    )
