"""What a provider stack serves for typed answers, and so which mode a call gets.

A provider says it in three ways, the last two optional methods (found through decorator
layers, ``.inner``, once per client):

* ``capabilities`` (:class:`~aether.llm.ProviderCapabilities`): ``structured_output`` and
  ``tools``.
* ``supports_native_output(model: str) -> bool``: whether ``model`` answers in a schema
  natively (``LLMRequest.output``); without it, every model of a provider claiming
  ``structured_output`` does. A provider whose models cannot do so in a request that lets
  them call tools (Gemini before 3) takes a keyword ``with_tools: bool`` too, and core passes
  it (True when the request offers tools the model may call) only to a method that takes it.
* ``supports_forced_tool_choice(request: LLMRequest) -> bool``: whether ``request`` may force
  a tool (``tool_choice="required"`` or a tool's name); Anthropic's says no while extended
  thinking is on. Without it, every request may.

Unset, the mode is native where the provider claims ``structured_output`` and the model
answers natively (beside the call's tools, when it offers any), else tool where the provider
claims ``tools`` and may force the output tool for this request, else prompted.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aether.errors import ConfigurationError
from aether.llm.capabilities import ProviderCapabilities, declaration_of
from aether.llm.contracts import LLMRequest
from aether.llm.output import Output, OutputMode

__all__ = ["OutputTarget", "may_call_tools"]

_NATIVE = "supports_native_output"
_FORCED = "supports_forced_tool_choice"
_WITH_TOOLS = "with_tools"


def may_call_tools(request: LLMRequest) -> bool:
    """Whether ``request`` lets the model call one of its tools."""
    return bool(request.tools) and request.tool_choice != "none"


@dataclass(frozen=True, slots=True)
class OutputTarget:
    """What a provider stack serves for typed answers, found once per stack.

    Attributes:
        claims: Its capabilities (through decorator layers).
        declaration: Which object declares them, and what (:func:`declaration_of`), kept for
            each typed call's :func:`check_supported`.
        native_for: Its ``supports_native_output``, when it has one.
        native_takes_tools: Whether that method takes the ``with_tools`` keyword.
        forced_for: Its ``supports_forced_tool_choice``, when it has one.
        name: Its name, for errors.
    """

    claims: ProviderCapabilities
    declaration: tuple[object, ProviderCapabilities | None]
    native_for: Callable[..., Any] | None
    native_takes_tools: bool
    forced_for: Callable[[LLMRequest], Any] | None
    name: str

    @classmethod
    def of(cls, provider: object, name: str | None = None) -> OutputTarget:
        """The target ``provider`` is (a stack's layers are looked through)."""
        native_for = _method(provider, _NATIVE)
        shown = name or getattr(provider, "name", None) or type(provider).__name__
        declaration = declaration_of(provider)
        return cls(
            claims=declaration[1] or ProviderCapabilities(),
            declaration=declaration,
            native_for=native_for,
            native_takes_tools=native_for is not None and _takes(native_for, _WITH_TOOLS),
            forced_for=_method(provider, _FORCED),
            name=str(shown),
        )

    def native(self, model: str | None, *, with_tools: bool = False) -> bool:
        """Whether ``model`` answers natively, as the provider says (if it says anything).

        Args:
            model: The model; None: the provider's default (taken to).
            with_tools: The request lets the model call tools; asked of a provider whose
                method takes the keyword, else the model's answer alone decides.
        """
        check = self.native_for
        if check is None or model is None:
            return True
        if with_tools and self.native_takes_tools:
            return bool(check(model, with_tools=True))
        return bool(check(model))

    def forced(self, request: LLMRequest) -> bool:
        """Whether ``request`` may force a tool, as the provider says (if it says anything)."""
        return self.forced_for is None or bool(self.forced_for(request))

    def mode_for(self, output: Output[Any], model: str | None, *, with_tools: bool) -> OutputMode:
        """The mode ``output`` asks for, or the best one this target serves ``model``.

        Chosen before the request is whole: :meth:`settled_mode` has the last word.

        Args:
            output: What is asked for.
            model: The model asked.
            with_tools: The call offers tools.

        Raises:
            ConfigurationError: The mode asked for is one the provider (or model) lacks.
        """
        claimed = self.claims
        wanted = output.mode
        if wanted is None:
            if claimed.structured_output and self.native(model, with_tools=with_tools):
                return "native"
            return "tool" if claimed.tools else "prompted"
        who = f"The {self.name!r} provider"
        if wanted == "native" and not claimed.structured_output:
            raise ConfigurationError(
                f"{who} does not answer in a JSON schema natively (its capabilities have "
                f"structured_output=False), but Output(mode='native') asks for it; use "
                f"mode='tool' or 'prompted', or leave the mode unset to choose."
            )
        if wanted == "native" and not self.native(model):
            raise ConfigurationError(
                f"{who}'s model {model!r} does not answer in a JSON schema natively, but "
                f"Output(mode='native') asks for it; use mode='tool' or 'prompted', leave the "
                f"mode unset to choose, or, if the model does, register its traits "
                f"(native_output=True) on the provider's model table."
            )
        if wanted == "tool" and not claimed.tools:
            raise ConfigurationError(
                f"{who} has no tools (its capabilities have tools=False), but "
                f"Output(mode='tool') asks for the answer through one; use mode='prompted', or "
                f"leave the mode unset."
            )
        return wanted

    def settled_mode(
        self, output: Output[Any], mode: OutputMode, request: LLMRequest
    ) -> OutputMode:
        """The mode once the whole request is known (``mode`` is :meth:`mode_for`'s).

        ``request`` is the call's request (in tool mode, as the caller asked it: the output
        tool is added once the mode is settled). Chosen automatically, tool mode gives way
        where the answer cannot come through a forced call: to native, or else prompted,
        under ``tool_choice="none"``; to prompted where the provider may not force a tool
        for this request.

        Raises:
            ConfigurationError: Native mode asked for with tools the model may call, which the
                model cannot combine; tool mode asked for where no tool may be forced.
        """
        if mode == "native":
            # Chosen automatically, native mode already took the call's tools into account.
            beside_tools = output.mode == "native" and may_call_tools(request)
            if beside_tools and not self.native(request.model, with_tools=True):
                raise ConfigurationError(
                    f"The {self.name!r} provider's model {request.model!r} cannot answer in a "
                    f"JSON schema while it may call tools, but Output(mode='native') asks for "
                    f"that beside {len(request.tools)} tool(s); set tool_choice='none', send "
                    f"the tools in another call, or leave the mode unset to choose."
                )
            return mode
        if mode != "tool":
            return mode
        if output.mode is None and request.tool_choice == "none":
            native = self.claims.structured_output and self.native(request.model)
            return "native" if native else "prompted"
        if self.forced(request):
            return mode
        if output.mode is None:
            return "prompted"
        raise ConfigurationError(
            f"The {self.name!r} provider cannot force a tool for this request to "
            f"{request.model!r} (its supports_forced_tool_choice says no; Anthropic's does "
            f"while extended thinking is on), but Output(mode='tool') gives the answer through "
            f"a forced call of one; turn reasoning off for this call, use mode='prompted' (or "
            f"'native' where the model has it), or leave the mode unset to choose."
        )


def _method(provider: object, name: str) -> Callable[..., Any] | None:
    """``name`` on the first layer of ``provider``'s stack that has it, else None."""
    seen: set[int] = set()
    current: object | None = provider
    while current is not None and id(current) not in seen:
        found = getattr(current, name, None)
        if callable(found):
            return found  # type: ignore[no-any-return]
        seen.add(id(current))
        current = getattr(current, "inner", None)
    return None


def _takes(method: Callable[..., Any], keyword: str) -> bool:
    """Whether ``method`` can be called with ``keyword=...``."""
    try:
        parameters = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):  # no signature to read (a builtin): keep to the model
        return False
    return any(
        (p.name == keyword and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD))
        or p.kind is p.VAR_KEYWORD
        for p in parameters
    )
