"""The typed contracts every provider, decorator and caller speaks.

A provider is two methods: ``complete(request) -> LLMResponse`` and
``stream(request) -> AsyncIterator[LLMStreamChunk]``. Decorators (retry, circuit breaker,
cost tracking) wrap that contract and satisfy it, so they compose in any order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Final, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from aether.llm.parts import ContentPart, MediaPart, TextPart
from aether.llm.settings import PromptCacheSettings, ReasoningSettings

__all__ = [
    "FinishReason",
    "LLMProvider",
    "LLMRequest",
    "LLMResponse",
    "LLMStreamChunk",
    "Message",
    "OutputSpec",
    "RAW_ARGUMENTS_KEY",
    "Role",
    "ToolCall",
    "ToolCallDelta",
    "ToolChoice",
    "ToolSpec",
]

RAW_ARGUMENTS_KEY: Final = "__raw_arguments__"
"""Key of ``ToolCall.arguments`` holding the model's argument text when it was not a JSON object.

Providers keep malformed arguments as ``{RAW_ARGUMENTS_KEY: "<text>"}`` instead of dropping them,
so the tool loop can tell the model what was wrong, and the text round-trips unchanged when the
conversation is sent back.
"""

Role = Literal["system", "user", "assistant", "tool"]
"""Who wrote a message. ``tool`` messages carry a tool's result back to the model."""

FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "error", "other"]
"""Why the model stopped, normalised across providers.

``stop``: a natural end or a stop sequence. ``length``: ``max_tokens`` was reached.
``tool_calls``: the model wants tools run. ``content_filter``: the provider withheld output.
``error``: the provider reported a failure in-band. ``other``: anything else (the raw value
is kept by the provider's mapping where it matters).
"""

ToolChoice = Literal["auto", "none", "required"] | str
"""``auto`` (model decides), ``none`` (no tools), ``required`` (some tool), or a tool name."""


class _Contract(BaseModel):
    # Bytes in content parts travel as base64, so every store keeps a message byte for byte.
    model_config = ConfigDict(
        extra="forbid", defer_build=True, ser_json_bytes="base64", val_json_bytes="base64"
    )


class ToolCall(_Contract):
    """One call of a tool the model asked for."""

    id: str = Field(description="Identifier pairing this call with its result message.")
    name: str = Field(description="The tool's registered name.")
    arguments: dict[str, Any] = Field(
        default_factory=dict,
        description="Arguments the model chose, as parsed JSON; malformed text is kept under "
        "RAW_ARGUMENTS_KEY.",
    )
    provider_data: dict[str, Any] = Field(
        default_factory=dict,
        description="Opaque JSON the provider that made this call needs back with it when the "
        "conversation continues (Gemini's thoughtSignature, Anthropic's signed thinking). "
        "Kept on the call, so it survives a session store and another process; others leave "
        "it untouched.",
    )


class Message(_Contract):
    """One message of a conversation."""

    role: Role = Field(description="Who wrote the message.")
    content: str | list[ContentPart] = Field(
        default="",
        description="The text, or a list of parts (text, images, audio, documents; see "
        "aether.llm.parts). Empty for a pure tool-call turn.",
    )
    tool_calls: list[ToolCall] = Field(
        default_factory=list, description="Tools an assistant message asks to run."
    )
    tool_call_id: str | None = Field(
        default=None, description="On a ``tool`` message: the id of the call it answers."
    )
    name: str | None = Field(
        default=None, description="On a ``tool`` message: the name of the tool that ran."
    )

    @property
    def text(self) -> str:
        """The message's text: ``content`` itself, or its text parts joined."""
        content = self.content
        if isinstance(content, str):
            return content
        return "".join(part.text for part in content if isinstance(part, TextPart))

    @property
    def media(self) -> list[MediaPart]:
        """The image, audio and document parts of ``content``, in order."""
        content = self.content
        if isinstance(content, str):
            return []
        return [part for part in content if isinstance(part, MediaPart)]


class ToolSpec(_Contract):
    """A tool as a provider sees it: resolved before the request is built.

    Adapters read tools from here and never reach into a global registry.
    """

    name: str = Field(description="Name the model calls the tool by.")
    description: str = Field(default="", description="What the tool does, for the model.")
    parameters: dict[str, Any] = Field(
        default_factory=lambda: {"type": "object", "properties": {}},
        description="JSON Schema of the arguments object.",
    )
    strict: bool = Field(
        default=False,
        description="Ask the provider to hold the model to the schema exactly (OpenAI and "
        "Anthropic strict tools); the schema must then meet the provider's strict rules.",
    )


class OutputSpec(_Contract):
    """A structured answer the model must give, as a provider sees it (native mode).

    A provider that claims ``structured_output`` asks the model for JSON matching
    ``json_schema`` in its own way (OpenAI ``response_format``, Gemini ``responseJsonSchema``,
    Anthropic's output format), and the answer's ``text`` is that JSON. The tool and prompted
    modes never reach a provider as an ``OutputSpec``: core expresses them with a tool or with
    instructions.
    """

    name: str = Field(description="A name for the answer's schema (``[a-zA-Z0-9_-]``).")
    json_schema: dict[str, Any] = Field(description="JSON Schema of the answer.")
    description: str = Field(default="", description="What the answer is, for the model.")
    strict: bool = Field(
        default=True,
        description="Hold the model to the schema exactly where the provider can (the schema "
        "is then made strict-compatible by the provider's rules).",
    )


class ToolCallDelta(_Contract):
    """A fragment of a tool call as it streams, before the call is whole.

    Providers that stream tool calls emit these as they arrive (in addition to the whole
    call on a later chunk), so a caller can show or parse arguments as they form.
    """

    index: int = Field(description="Which call of the answer this fragment belongs to.")
    id: str | None = Field(default=None, description="The call's id, once known.")
    name: str | None = Field(default=None, description="The tool's name, once known.")
    arguments: str = Field(default="", description="The next piece of the arguments' JSON text.")


class LLMRequest(_Contract):
    """Everything a provider needs for one call."""

    messages: list[Message] = Field(description="The conversation, oldest first.")
    model: str | None = Field(default=None, description="Model name; None: provider default.")
    temperature: float | None = Field(
        default=None, description="Sampling temperature the caller set; None: not set."
    )
    default_temperature: float | None = Field(
        default=None,
        description="The configured default temperature (AETHER_DEFAULT_TEMPERATURE), sent "
        "only when ``temperature`` is None and the model takes a temperature: a default must "
        "never break a call. See :meth:`sampling_temperature`.",
    )
    max_tokens: int | None = Field(default=None, ge=1, description="Cap on output tokens.")
    stop: list[str] | None = Field(default=None, description="Stop sequences.")
    top_p: float | None = Field(default=None, description="Nucleus sampling mass.")
    seed: int | None = Field(default=None, description="Seed for reproducible sampling.")
    presence_penalty: float | None = Field(default=None, description="Presence penalty.")
    frequency_penalty: float | None = Field(default=None, description="Frequency penalty.")
    reasoning: ReasoningSettings | None = Field(
        default=None, description="Reasoning effort / thinking budget; None: model default."
    )
    cache: PromptCacheSettings | None = Field(
        default=None, description="Prompt-caching controls; None: the provider's default."
    )
    provider_options: dict[str, Any] = Field(
        default_factory=dict,
        description="Deep-merged into the provider's request body last: the escape hatch for "
        "what Aether does not model.",
    )
    extra_headers: dict[str, str] = Field(
        default_factory=dict, description="Sent with the request beside the provider's own."
    )
    tools: list[ToolSpec] = Field(default_factory=list, description="Tools the model may call.")
    tool_choice: ToolChoice | None = Field(
        default=None, description="How the model must use tools; None: provider default."
    )
    output: OutputSpec | None = Field(
        default=None,
        description="A structured answer asked for natively; None: free text. Only sent to "
        "providers that claim ``structured_output``.",
    )
    allowed_tools: list[str] | None = Field(
        default=None,
        description="Names of the declared tools the model may call this time (OpenAI "
        "allowed_tools, Gemini allowedFunctionNames); None: all of them.",
    )

    def sampling_temperature(self, model_takes_temperature: bool = True) -> float | None:
        """The temperature to send: the caller's, else the default where the model takes one.

        Raises nothing: a model that rejects a set temperature is the provider's check to make
        (with its model table), so it can name the model in the error.
        """
        if self.temperature is not None:
            return self.temperature
        return self.default_temperature if model_takes_temperature else None


class _Usage(_Contract):
    input_tokens: int = Field(default=0, description="Prompt tokens billed, cached included.")
    output_tokens: int = Field(default=0, description="Completion tokens, reasoning included.")
    cached_input_tokens: int = Field(
        default=0, description="Part of ``input_tokens`` read from the provider's prompt cache."
    )
    cache_write_tokens: int = Field(
        default=0,
        description="Part of ``input_tokens`` written to the prompt cache (billed at a premium "
        "by some providers).",
    )
    reasoning_tokens: int = Field(
        default=0, description="Part of ``output_tokens`` spent on hidden reasoning."
    )


class LLMResponse(_Usage):
    """A whole answer from ``complete``."""

    text: str = Field(default="", description="The answer text (reasoning and refusal excluded).")
    refusal: str | None = Field(
        default=None,
        description="The model's stated refusal when it declined to answer (OpenAI's "
        "``message.refusal``), kept apart from ``text`` so an empty ``text`` can be told from "
        "a refused answer; None when it did not refuse.",
    )
    model: str = Field(default="", description="The model that answered, as the API named it.")
    response_id: str | None = Field(default=None, description="The provider's id of the answer.")
    reasoning_text: str = Field(
        default="", description="Visible reasoning (thinking) the provider returned, kept apart."
    )
    tool_calls: list[ToolCall] = Field(
        default_factory=list, description="Tools the model asked to run, in order."
    )
    finish_reason: FinishReason | None = Field(default=None, description="Why it stopped.")
    output: Any = Field(
        default=None,
        exclude=True,
        description="The typed answer when the call asked for one (``output_type=``), "
        "validated; None otherwise. Left out of dumps: ``text`` holds the JSON it came from.",
    )


class LLMStreamChunk(_Usage):
    """One piece of a streamed answer.

    ``text`` is a delta. The last chunk carries ``finish_reason`` and the usage counts;
    ``tool_calls`` holds fully assembled calls (providers assemble argument deltas).
    """

    text: str = Field(default="", description="Text delta.")
    refusal: str | None = Field(
        default=None,
        description="Refusal text delta, kept apart from ``text``; None when there is none.",
    )
    model: str | None = Field(default=None, description="The answering model, when known.")
    response_id: str | None = Field(default=None, description="The provider's id of the answer.")
    reasoning_text: str = Field(default="", description="Reasoning (thinking) delta, kept apart.")
    tool_calls: list[ToolCall] = Field(
        default_factory=list, description="Completed tool calls (never partial)."
    )
    tool_call_deltas: list[ToolCallDelta] = Field(
        default_factory=list,
        description="Fragments of tool calls still forming (arguments text as it arrives).",
    )
    finish_reason: FinishReason | None = Field(default=None, description="Set on the last chunk.")


@runtime_checkable
class LLMProvider(Protocol):
    """The provider contract: one call, whole or streamed.

    ``stream`` is an async generator: it yields at least one chunk, the last of which carries
    ``finish_reason`` and usage. Providers raise :mod:`aether.errors` types, never
    transport-library errors, and never retry on their own (the retry decorator is the one
    retry layer).
    """

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Return the whole answer."""
        ...

    def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        """Yield the answer as it is produced."""
        ...
