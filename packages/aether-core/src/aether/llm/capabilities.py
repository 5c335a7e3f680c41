"""What a provider can serve, declared once on the provider for the client and the kit alike.

    from aether.llm import ProviderCapabilities

    class LocalModelProvider:
        capabilities = ProviderCapabilities(tools=False)  # streams, but has no tool calling

The declaration lives on the provider, not on its tests, because two readers need the same
truth: the client, to refuse a request the provider cannot serve before anything is sent
(:func:`check_supported` raises a :class:`~aether.errors.ConfigurationError` saying so), and
the plugin kit, which runs the checks of what is claimed and reports by name what is not.

A provider that declares nothing keeps the whole base contract (tools and streaming), the way
every provider did before it could declare anything. The other names are opt-in, and are
claimed only once Aether's contracts carry them and the provider maps them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from aether.errors import ConfigurationError

if TYPE_CHECKING:
    from aether.llm.contracts import LLMRequest

__all__ = ["ProviderCapabilities", "capabilities_of", "check_supported", "declaration_of"]


# A media part's ``kind`` → the capability that takes it.
_MEDIA_CAPABILITY = {
    "image": "image_input",
    "document": "document_input",
    "audio": "audio_input",
    "video": "video_input",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderCapabilities:
    """The features of the contract a provider serves; set a class attribute ``capabilities``.

    Attributes:
        tools: Takes ``LLMRequest.tools`` and ``tool_choice``, returns ``ToolCall``s, and
            carries tool calls and results back in the conversation.
        streaming: ``stream()`` yields the answer as it is produced. Without it, a provider
            implements ``complete`` only (or a ``stream`` yielding one whole chunk) and the
            client still streams it, as one chunk.
        image_input: Takes image parts in messages.
        document_input: Takes document (PDF) parts in messages.
        audio_input: Takes audio parts in messages.
        video_input: Takes video parts in messages.
        media_in_tool_results: Takes media parts in a tool result (a tool that returned a
            screenshot or a PDF), of the kinds its ``*_input`` names claim. Without it the tool
            loop replaces each media part of a tool result by a note naming what was left out
            (kind, media type, size), so the model knows and the call still goes through; the
            conversation keeps the note, as it is what the model was sent.
        reasoning: Honours reasoning settings (effort, thinking budget).
        structured_output: Answers in a JSON schema the request gives.
    """

    tools: bool = True
    streaming: bool = True
    image_input: bool = False
    document_input: bool = False
    audio_input: bool = False
    video_input: bool = False
    media_in_tool_results: bool = False
    reasoning: bool = False
    structured_output: bool = False

    def __post_init__(self) -> None:
        wrong = [f.name for f in fields(self) if not isinstance(getattr(self, f.name), bool)]
        if wrong:
            shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in wrong)
            raise TypeError(f"ProviderCapabilities takes True or False for each name, not {shown}.")

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Every capability a provider can declare, in declaration order."""
        return tuple(f.name for f in fields(cls))

    def claims(self, capability: str) -> bool:
        """Whether ``capability`` (one of :meth:`names`) is claimed.

        Raises:
            ValueError: ``capability`` is no capability's name (a typo would otherwise read
                as "not claimed").
        """
        if capability not in self.names():
            known = ", ".join(self.names())
            raise ValueError(f"{capability!r} is not a provider capability; known: {known}.")
        return bool(getattr(self, capability))

    def tool_result_media(self) -> frozenset[str]:
        """The media kinds (``image``, ``audio``...) a tool result may carry to this provider.

        None without ``media_in_tool_results``; with it, those whose ``*_input`` is claimed
        (a part is never sent in a tool result when the provider would refuse it in a user
        message).
        """
        if not self.media_in_tool_results:
            return frozenset()
        return frozenset(kind for kind, name in _MEDIA_CAPABILITY.items() if getattr(self, name))


def declaration_of(provider: object) -> tuple[object, ProviderCapabilities | None]:
    """The object declaring ``capabilities`` (``provider`` or a layer it wraps) and its value."""
    seen: set[int] = set()
    current: object | None = provider
    # A decorator layer declares nothing of its own and serves what the provider it wraps does.
    while current is not None and id(current) not in seen:
        declared = getattr(current, "capabilities", None)
        if declared is not None:
            if not isinstance(declared, ProviderCapabilities):
                raise TypeError(
                    f"{type(current).__name__}.capabilities is {declared!r}; it must be an "
                    f"aether.llm.ProviderCapabilities, e.g. "
                    f"capabilities = ProviderCapabilities(tools=False)."
                )
            return current, declared
        seen.add(id(current))
        current = getattr(current, "inner", None)
    return provider, None


def capabilities_of(provider: object) -> ProviderCapabilities:
    """What ``provider`` declares, looking through decorator layers (``.inner``).

    A provider that declares nothing gets ``ProviderCapabilities()``: tools and streaming.

    Raises:
        TypeError: ``capabilities`` is set to something other than a ProviderCapabilities.
    """
    declared = declaration_of(provider)[1]
    return ProviderCapabilities() if declared is None else declared


def check_supported(
    provider: object,
    request: LLMRequest,
    *,
    declaration: tuple[object, ProviderCapabilities | None] | None = None,
) -> None:
    """Raise before anything is sent when ``provider`` cannot serve ``request``.

    A provider without ``tools`` cannot take tools, a ``tool_choice`` that needs one, or a
    conversation holding tool calls or results: left to the provider, it would drop them and
    answer a question nobody asked. Streaming is never refused: the client streams a provider
    without it as one chunk.

    Args:
        provider: The provider stack.
        request: The request it would be sent.
        declaration: What :func:`declaration_of` gave for ``provider``, when the caller keeps
            it (a client asking many typed calls); found here otherwise.

    Raises:
        ConfigurationError: The request needs a capability ``provider`` does not claim.
    """
    if not (request.tools or request.tool_choice) and all(
        type(message.content) is str and not message.tool_calls and message.role != "tool"
        for message in request.messages
    ):
        return  # plain text, no tools: every provider serves it (the common case, kept cheap)
    owner, declared = declaration or declaration_of(provider)
    declared = declared if declared is not None else ProviderCapabilities()
    name = getattr(owner, "name", None) or type(owner).__name__
    _check_media(name, owner, declared, request)
    if declared.tools:
        return
    needs = _tool_use(request)
    if needs is None:
        return
    raise ConfigurationError(
        f"The {name!r} provider does not support tools ({type(owner).__name__}.capabilities "
        f"has tools=False), but {needs}: send the request without tools, or use a provider "
        f"that supports them."
    )


def _check_media(
    name: str, owner: object, declared: ProviderCapabilities, request: LLMRequest
) -> None:
    """A part the provider does not take is refused, never dropped from what is sent."""
    for message in request.messages:
        if isinstance(message.content, str):
            continue  # the common case: plain text, nothing to look at
        for part in message.media:
            capability = _MEDIA_CAPABILITY[part.kind]
            if not getattr(declared, capability):
                takes = [kind for kind, cap in _MEDIA_CAPABILITY.items() if getattr(declared, cap)]
                raise ConfigurationError(
                    f"The {name!r} provider does not take {part.kind} parts "
                    f"({type(owner).__name__}.capabilities has {capability}=False); it takes "
                    f"text{''.join(', ' + kind for kind in takes)}. Remove the "
                    f"{type(part).__name__}, or use a provider that takes it."
                )


def _tool_use(request: LLMRequest) -> str | None:
    """How ``request`` uses tools, in words, or None when it does not."""
    if request.tools:
        listed = ", ".join(repr(tool.name) for tool in request.tools)
        return f"the request offers tools ({listed})"
    if request.tool_choice not in (None, "auto", "none"):
        return f"the request sets tool_choice={request.tool_choice!r}"
    for message in request.messages:
        if message.tool_calls or message.role == "tool":
            return "the conversation holds tool calls or their results"
    return None
